#!/usr/bin/env bash
# What only a GPU can show, in one run on a CUDA machine (docs/gpu.md):
#   bash scripts/gpu_check.sh OUT_DIR [--wheels DIR] [--only benchmark|paper] [--updates N]
# writes OUT_DIR/gpu_env.txt, benchmark_gpu.{md,csv,log} (`scripts/benchmark.py --device
# cuda` at the paper's size), table1_paper_gpu.md and paper_gpu.log (`reproduce_table1.sh
# --scale paper` for N updates, default 40, on the stand-in corpus; four decodes at a time:
# each was a process of 19-31 s on an H200, start-up included), sparse_train_gpu.log beside
# train_reversed1_dense.log. Each step has its own time limit (the pipeline's: PAPER_LIMIT
# seconds, default 420); the exit status is the number of failed steps. A copy of the
# checkout (as a lent machine gets it): export SUTSKEVER_COMMIT=<the commit copied>.
#
# Machines without a package index (a lent GPU machine with torch preinstalled): where
# no .venv exists, --wheels DIR makes .venv a thin shim over this machine's python3 (its
# CUDA torch) with the wheels of DIR installed beside it. On a machine with an index,
# fetch them there for the GPU machine's Python, e.g. for 3.12:
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 -d DIR ve-fairseq==0.12.3 hydra-core==1.3.8 \
#     omegaconf==2.3.1 bitarray==3.12.3 sacremoses==0.2.0
#   pip wheel --no-deps -w DIR antlr4-python3-runtime==4.9.3     # published as sdist only
# With an index, scripts/setup_env.sh builds the .venv as usual (TORCH_SPEC=torch).
set -uo pipefail
die() { echo "[gpu_check] FAILED: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ "${1#-}" = "$1" ] || die "usage: bash scripts/gpu_check.sh OUT_DIR [--wheels DIR] [--only benchmark|paper] [--updates N]"
OUT=$(mkdir -p "$1" && cd "$1" && pwd) || die "cannot create $1"
shift
WHEELS="" ONLY="" UPDATES=40
while [ $# -gt 0 ]; do
  case $1 in
    --wheels|--only|--updates) [ $# -ge 2 ] || die "$1 needs a value" ;;&
    --wheels) WHEELS=$(cd "$2" && pwd) || die "--wheels $2: no such directory"; shift 2 ;;
    --only) ONLY=$2; shift 2
            case $ONLY in benchmark|paper) ;; *) die "--only $ONLY: benchmark or paper" ;; esac ;;
    --updates) UPDATES=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
cd "$(dirname "$0")/.."
ROOT=$PWD
# lib.sh's set -e undone: a failed step here does not stop the next
TAG=gpu_check; source scripts/lib.sh; set +e
int_opt UPDATES --updates 1

if [ ! -x .venv/bin/python ] && [ -n "$WHEELS" ]; then
  SITE=$ROOT/.venv/site
  python3 -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$WHEELS"/*.whl \
    || die "installing the wheels of $WHEELS"
  mkdir -p .venv/bin
  printf '#!/usr/bin/env bash\nexport PYTHONPATH=%q:%q${PYTHONPATH:+:$PYTHONPATH}\nexec %q "$@"\n' \
    "$ROOT" "$SITE" "$(command -v python3)" > .venv/bin/python
  for tool in train generate validate; do
    printf '#!/usr/bin/env bash\nexec %q -m fairseq_cli.%s "$@"\n' "$ROOT/.venv/bin/python" "$tool" \
      > ".venv/bin/fairseq-$tool"
  done
  chmod +x .venv/bin/*
  touch .venv/.installed   # scripts/setup_env.sh: nothing left to install
fi
bash scripts/setup_env.sh || die "no .venv (and no --wheels to build one from)"
PY=$ROOT/.venv/bin/python
if ! git rev-parse --git-dir > /dev/null 2>&1 && [ -z "${SUTSKEVER_COMMIT:-}" ]; then
  echo "[gpu_check] warning: not a git checkout and SUTSKEVER_COMMIT unset: the results cannot name their commit" >&2
fi

FAILED=0
# check NAME SECONDS CMD...: one step, its output in OUT/NAME.log, its time and status said
check() {
  local name=$1 limit=$2 t0=$SECONDS status=0; shift 2
  echo "[gpu_check] $name (at most $limit s)"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1 || status=$?
  tail -n 25 "$OUT/$name.log"
  echo "[gpu_check] $name: exit $status after $((SECONDS - t0)) s"
  [ "$status" = 0 ] || FAILED=$((FAILED + 1))
}

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
  "$PY" -m sutskever_plugin.benchmark.cuda 2>&1
  [ -n "${SUTSKEVER_COMMIT:-}" ] && echo "SUTSKEVER_COMMIT=$SUTSKEVER_COMMIT (the copy's .git, if any: $(git log -1 --format=%h 2>/dev/null || echo none))"
} | tee "$OUT/gpu_env.txt"

if [ "$ONLY" != paper ]; then
  check benchmark_gpu 200 "$PY" scripts/benchmark.py --device cuda --sizes paper --out-dir "$OUT"
fi
if [ "$ONLY" != benchmark ]; then
  RAW=$(mktemp -d) WORK=$(mktemp -d)
  PAPER=(--scale paper --raw-dir "$RAW" --work "$WORK" --nwords-src 1200 --nwords-tgt 1600
         --max-update "$UPDATES" --decode-jobs 4)
  check paper_gpu "${PAPER_LIMIT:-420}" bash -c '"$1" -m sutskever_plugin.data.stand_in --out "$2" && shift 2 &&
    bash scripts/reproduce_table1.sh "$@"' _ "$PY" "$RAW" "${PAPER[@]}"
  cp "$WORK/results/table1.md" "$OUT/table1_paper_gpu.md" 2>/dev/null || true
  { echo "== the pipeline's steps ($WORK/logs/steps.tsv)"; cat "$WORK/logs/steps.tsv"; } >> "$OUT/paper_gpu.log" 2>&1

  # The first reversed LSTM once more with sparse embedding gradients (which the paper scale
  # leaves off on GPUs), through fairseq-train on the same data: its losses beside the dense
  # training's (same seed and batches) show the same updates up to rounding.
  train=$(bash scripts/reproduce_table1.sh "${PAPER[@]}" --dry-run 2>/dev/null | grep -- "--save-dir $WORK/checkpoints/reversed1 ")
  check sparse_train_gpu 60 bash -c "$train --sparse-embedding-grads --save-dir $WORK/checkpoints/reversed1_sparse"
  cp "$WORK/logs/train_reversed1.log" "$OUT/train_reversed1_dense.log" 2>/dev/null || true
  for f in train_reversed1_dense sparse_train_gpu; do
    echo "$f: $(grep -E "\| train \| .*num_updates" "$OUT/$f.log" | tail -n 1)"
  done
fi
echo "[gpu_check] $FAILED step(s) failed; results in $OUT"
exit "$FAILED"
