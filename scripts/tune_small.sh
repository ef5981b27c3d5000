#!/usr/bin/env bash
# Small-scale recipe tuning on the VALIDATION set (never test), docs/recipe.md: train one
# named candidate recipe on Multi30k (source reversed, as the paper, unless --direction
# forward), decode valid at beam 12 without length normalisation, score it, append a row
# to results/tuning_small/candidates.csv and regenerate its README.md (scripts/tune_small.py).
#
#   bash scripts/tune_small.sh --name NAME --epochs N [--work DIR] [--raw-dir DIR]
#        [--results DIR] [--probe-updates U] [--direction reversed|forward]
#        -- <fairseq-train model/optimizer flags>
#   bash scripts/tune_small.sh --name NAME --ensemble A,B,... [--work DIR] [--results DIR]
#        [--direction reversed|forward]
#
# --probe-updates U: a speed probe instead: U updates without validation or checkpoints;
#   appends CPU s per update (and the epoch it implies) to DIR/probes.csv.
# --ensemble A,B,...: no training: the ensemble of earlier candidates A, B, ... (their best
#   checkpoints under --work, one direction) decodes valid at beams 12, 2 and 1, as
#   reproduce_table1.sh decodes Table 1's ensemble on valid; appends a row to
#   DIR/ensembles.csv.
# Trainings run with one thread (OMP_NUM_THREADS=1, as each job of the main job's pool);
# pin them yourself (taskset -c 1 bash scripts/tune_small.sh ...) on a shared machine.
# Work data (data, checkpoints, logs, decodes) goes under --work (default work/tune_small).
# lib.sh's helpers (int_opt: base 10, 08 is eight), with this script's own die (exit 2)
TAG=tune_small; source "$(dirname "$0")/lib.sh"
die() { echo "tune_small.sh: error: $*" >&2; exit 2; }

NAME="" EPOCHS="" WORK=work/tune_small RAW="" RESULTS=results/tuning_small PROBE=0 TASK=translation_reversed
MEMBERS=""
while [ $# -gt 0 ]; do
  case $1 in
    --name) NAME=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --raw-dir) RAW=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --probe-updates) PROBE=$2; shift 2 ;;
    --ensemble) MEMBERS=$2; shift 2 ;;
    --direction)
      case ${2-} in reversed) TASK=translation_reversed ;; forward) TASK=translation ;;
        *) die "--direction is reversed or forward (got '${2-}')" ;; esac; shift 2 ;;
    --) shift; break ;;
    *) die "unknown argument '$1' (see the header of $0)" ;;
  esac
done
FLAGS=("$@")
# a forward row says so in its recorded flags; rows without --task are reversed
RECORDED=("${FLAGS[@]}")
[ "$TASK" = translation ] && RECORDED=(--task translation "${FLAGS[@]}")
[[ "$NAME" =~ ^[A-Za-z0-9_.-]+$ ]] || die "--name must be a plain word (got '$NAME')"
if [ -n "$MEMBERS" ]; then
  [[ "$MEMBERS" =~ ^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)+$ ]] \
    || die "--ensemble lists two or more candidates, comma-separated (got '$MEMBERS')"
  [ ${#FLAGS[@]} = 0 ] && [ -z "$EPOCHS" ] && [ "$PROBE" = 0 ] \
    || die "--ensemble trains nothing: give it no --epochs, --probe-updates or training flags"
  CKPTS=()
  for m in ${MEMBERS//,/ }; do
    c=$WORK/runs/$m/ckpt/checkpoint_best.pt
    [ -f "$c" ] || die "--ensemble: candidate '$m' has no model at $c (train it first, with the same --work)"
    CKPTS+=("$c")
  done
else
  int_opt PROBE --probe-updates 0
  if [ "$PROBE" = 0 ]; then
    [[ "$EPOCHS" =~ ^[0-9]+$ ]] || die "--epochs must be a whole number (got '$EPOCHS')"
    int_opt EPOCHS --epochs 1
  fi
  # the probe's rate is read between the CPU marks at every 50th update, from the 50th on
  [ "$PROBE" = 0 ] || [ "$PROBE" -ge 100 ] \
    || die "--probe-updates must be a whole number of at least 100 (got '$PROBE'): the rate is read from update 50 on, at every 50th"
  [ ${#FLAGS[@]} -gt 0 ] || die "give the candidate's fairseq-train flags after --"
fi

export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH} OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# as the main job: glibc keeps freed activation memory in the heap (results/benchmark.md)
export MALLOC_MMAP_MAX_=${MALLOC_MMAP_MAX_:-0}
[ -x "$PY" ] || die "$PY not found: run scripts/setup_env.sh"
DATA=$WORK/data RUN=$WORK/runs/$NAME
mkdir -p "$WORK" "$RESULTS"
# decode_valid OUT BEAM CKPTS [PREFIX...]: valid decoded at BEAM without length normalisation
# (the paper's decoding) into OUT.gen (through PREFIX, e.g. time), scored into OUT.json
decode_valid() {
  local out=$1 beam=$2 ckpts=$3 log; shift 3
  log=$(dirname "$out")/generate.log
  "$@" "$FS/fairseq-generate" "$DATA/bin" --user-dir sutskever_plugin --task "$TASK" --path "$ckpts" \
      --gen-subset valid --beam "$beam" --unnormalized --batch-size 64 --num-workers 0 > "$out.gen" 2> "$log" \
    || { tail -n 5 "$log"; die "decoding $NAME at beam $beam failed"; }
  "$PY" -m sutskever_plugin.scoring.score --generate-output "$out.gen" --data-dir "$DATA" --subset valid --out "$out.json"
}

# ---- data (once) -------------------------------------------------------------------
if [ ! -f "$DATA/summary.json" ]; then
  prep=("$PY" -m sutskever_plugin.data.prepare --dataset multi30k --scale small --out "$DATA")
  [ -n "$RAW" ] && prep+=(--raw-dir "$RAW")
  "${prep[@]}" > "$WORK/prepare.log" 2>&1 || { tail -n 5 "$WORK/prepare.log"; die "data preparation failed"; }
fi

# ---- an ensemble of earlier candidates, decoded on valid (--ensemble) ---------------
if [ -n "$MEMBERS" ]; then
  OUT=$WORK/ensembles/$NAME
  [ -e "$OUT" ] && die "$OUT exists: pick another --name or remove it"
  mkdir -p "$OUT"
  scores=()
  for beam in 12 2 1; do  # the paper's beams, the longest first (as Table 1's on valid)
    decode_valid "$OUT/valid_beam$beam" "$beam" "$(IFS=:; echo "${CKPTS[*]}")"
    scores+=(--beam-json "$beam" "$OUT/valid_beam$beam.json")
  done
  members=()
  for m in ${MEMBERS//,/ }; do members+=(--member "$m" "$WORK/runs/$m/train.log"); done
  "$PY" scripts/tune_small.py record-ensemble --out-dir "$RESULTS" --name "$NAME" \
      --direction "$([ "$TASK" = translation ] && echo forward || echo reversed)" "${members[@]}" "${scores[@]}"
  exit 0
fi

# ---- bf16 vs fp32 matmul rate on this CPU, measured by this run ----------------------
"$PY" -m sutskever_plugin.benchmark.bf16_choice --out "$WORK/mm_ratio.json" > /dev/null 2>&1 \
  || die "measuring the bf16 and fp32 matmul rates failed (python -m sutskever_plugin.benchmark.bf16_choice)"
echo "| mm rate: $(cat "$WORK/mm_ratio.json")"

# ---- training ----------------------------------------------------------------------
[ -e "$RUN" ] && die "$RUN exists: pick another --name or remove it"
mkdir -p "$RUN"
COMMON=(--user-dir sutskever_plugin --task "$TASK" --num-workers 0
        --log-format simple --log-interval 100 --save-dir "$RUN/ckpt")
if [ "$PROBE" != 0 ]; then
  COMMON+=(--max-update "$PROBE" --disable-validation --no-save)
else
  COMMON+=(--max-epoch "$EPOCHS" --no-epoch-checkpoints --no-last-checkpoints)
fi
"$PY" scripts/tune_small.py train "$RUN/cpu.jsonl" -- "$DATA/bin" "${COMMON[@]}" "${FLAGS[@]}" \
    > "$RUN/train.log" 2>&1 || { tail -n 20 "$RUN/train.log"; die "training $NAME failed (see $RUN/train.log)"; }

if [ "$PROBE" != 0 ]; then
  "$PY" scripts/tune_small.py record-probe --out-dir "$RESULTS" --name "$NAME" --flags "${RECORDED[*]}" \
      --cpu-jsonl "$RUN/cpu.jsonl" --mm-json "$WORK/mm_ratio.json"
  exit 0
fi

# ---- decode valid at beam 12, its CPU seconds timed ---------------------------------
decode_valid "$RUN/valid_beam12" 12 "$RUN/ckpt/checkpoint_best.pt" /usr/bin/time -f "%U %S" -o "$RUN/decode.time"
"$PY" scripts/tune_small.py record --out-dir "$RESULTS" --name "$NAME" --flags "${RECORDED[*]}" \
    --train-log "$RUN/train.log" --cpu-jsonl "$RUN/cpu.jsonl" --bleu-json "$RUN/valid_beam12.json" \
    --mm-json "$WORK/mm_ratio.json" --epochs "$EPOCHS" \
    --decode-cpu-s "$(awk '{print $1+$2}' "$RUN/decode.time")"
