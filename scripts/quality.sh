#!/usr/bin/env bash
# What our speed buys in model quality (issue 15; docs/speed.md): ours and fairseq's
# built-in lstm trained side by side for the same wall clock, one core each; validation
# perplexity against time and test2016 BLEU at beam 12: RESULTS/quality_SCALE.{csv,md,png}.
#
#   bash scripts/benchmark.sh --quality [--budget-minutes M] [--work DIR] [--raw-dir DIR]
#        [--results DIR] [--bf16 on|off] [--scale small|tiny] [--cores A,B]
#        [--validate-interval-updates N] [--hidden N] [--embed N] [--seed N]
#
#   --budget-minutes M: training wall clock per model (default 20; decimals allowed)
#   --bf16 on|off: ours with --autocast-bf16 or in fp32 (default on, as the main job trains).
#   --validate-interval-updates N: default 5 per budget minute (at least 10): ~20-30
#          points on ours' curve at the small scale, fewer on the slower built-in's.
#   --cores A,B: the cores of ours and the built-in (default 0,1).
#   --scale tiny, --hidden N, --embed N: a quick run at toy sizes (the test); its report
#          goes to WORK/results unless --results is given.
#   Defaults: --scale small, --work work/quality_SCALE, --results results, the sizes of
#   scripts/recipe_small.sh.
# Rerunning with the same options skips the finished steps (the pair's training is one
# step: a timed comparison cannot resume); other options retrain both from scratch.
TAG=quality
source "$(dirname "$0")/lib.sh"
source "$ROOT/scripts/recipe_small.sh"

SCALE=small WORK="" RESULTS="" RAW="" BUDGET=20 BF16=on CORES=0,1 VALID_EVERY=""
HIDDEN=$SMALL_HIDDEN EMBED=$SMALL_EMBED SEED=1
COMMAND="bash scripts/benchmark.sh --quality${*:+ $*}"
while [ $# -gt 0 ]; do
  case $1 in
    --scale|--work|--results|--raw-dir|--budget-minutes|--bf16|--cores|--validate-interval-updates|--hidden|--embed|--seed) need_value "$@" ;;&
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$(abs_path "$2"); shift 2 ;;
    --results) RESULTS=$(abs_path "$2"); shift 2 ;;
    --raw-dir) RAW=$(abs_path "$2"); shift 2 ;;
    --budget-minutes) BUDGET=$2; shift 2 ;;
    --bf16) BF16=$2; shift 2 ;;
    --cores) CORES=$2; shift 2 ;;
    --validate-interval-updates) VALID_EVERY=$2; shift 2 ;;
    --hidden) HIDDEN=$2; shift 2 ;;
    --embed) EMBED=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    *) die "unknown argument '$1' (see the header of $0)" ;;
  esac
done
# every option is checked before anything is done
case $SCALE in tiny|small) ;; *) die "--scale must be tiny or small (got '$SCALE')" ;; esac
[[ $BUDGET =~ ^[0-9]*\.?[0-9]+$ ]] && awk "BEGIN { exit !($BUDGET > 0) }" \
  || die "--budget-minutes must be a number of minutes > 0 (got '$BUDGET')"
case $BF16 in on|off) ;; *) die "--bf16 must be on or off (got '$BF16')" ;; esac
[ -z "$VALID_EVERY" ] || int_opt VALID_EVERY --validate-interval-updates 1
int_opt HIDDEN --hidden 1
int_opt EMBED --embed 1
int_opt SEED --seed 0
[[ $CORES =~ ^[0-9]+,[0-9]+$ ]] || die "--cores must be two core numbers, A,B (got '$CORES')"
CORE_OURS=${CORES%,*} CORE_BUILTIN=${CORES#*,}
int_opt CORE_OURS --cores 0; int_opt CORE_BUILTIN --cores 0; CORES=$CORE_OURS,$CORE_BUILTIN
[ "$CORE_OURS" != "$CORE_BUILTIN" ] || die "--cores $CORES: the two trainings need a core each"
NCPU=$(nproc --all)
for c in "$CORE_OURS" "$CORE_BUILTIN"; do
  [ "$c" -lt "$NCPU" ] || die "--cores $CORES: this machine has cores 0-$((NCPU - 1))"
done
command -v taskset > /dev/null || die "taskset not found (util-linux): it pins each training to its core"
[ -z "$RAW" ] || [ -d "$RAW" ] || die "--raw-dir $RAW: no such directory"
WORK=${WORK:-work/quality_$SCALE}
if [ "$SCALE" = tiny ]; then RESULTS=${RESULTS:-$WORK/results}; else RESULTS=${RESULTS:-results}; fi
out_dir_ok --results "$RESULTS"
lock_work "$WORK"   # one comparison at a time in a work dir; checks --work (lib.sh)
VALID_EVERY=${VALID_EVERY:-$(awk "BEGIN { v = int($BUDGET * 5 + 0.5); print (v < 10 ? 10 : v) }")}
STOP_HOURS=$(awk "BEGIN { printf \"%.6f\", $BUDGET / 60 }")
if [ -z "$RAW" ] && [ -d ../shared/data/multi30k ]; then
  RAW=../shared/data/multi30k   # offline copy beside the repo; else downloaded
fi
DATA=$WORK/data RUNS=$WORK/runs

setup_venv
mkdir -p "$WORK"/{models,decode,logs} "$RESULTS"
digest_cache "$WORK"
# as the main job: one thread per training, glibc keeping freed memory (results/benchmark.md)
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 MALLOC_MMAP_MAX_=${MALLOC_MMAP_MAX_:-0}

# ---- 1. data: as reproduce_table1.sh prepares it ------------------------------------
prep=("$PY" -m sutskever_plugin.data.prepare --dataset multi30k --scale "$SCALE" --out "$DATA")
PREP_INPUTS=()
[ -n "$RAW" ] && { prep+=(--raw-dir "$RAW"); PREP_INPUTS=(--inputs "$RAW" --); }
step "prepare data" "$DATA/summary.json" ${PREP_INPUTS[@]+"${PREP_INPUTS[@]}"} "${prep[@]}"

# ---- 2. both trainings at once, the same budget each --------------------------------
# The same layers, sizes, dropout, data, reversal, optimizer, batch and seed; the built-in
# without attention (its input feeding cannot be switched off) and with its output
# projection as wide as its cells, as ours. Validation (and a checkpoint, so that
# checkpoint_best is the best validated model) every VALID_EVERY updates: the budget
# includes it, and ours, faster per update, validates more often in the same time.
SIZE=(--encoder-layers "$SMALL_LAYERS" --decoder-layers "$SMALL_LAYERS" --encoder-hidden-size "$HIDDEN"
      --decoder-hidden-size "$HIDDEN" --encoder-embed-dim "$EMBED" --decoder-embed-dim "$EMBED"
      --dropout "$SMALL_DROPOUT")
# the small-scale recipe of reproduce_table1.sh (scripts/recipe_small.sh: Adam, its lr
# warmed up then held fixed (fairseq's fixed scheduler) and its betas, batches of 128,
# label smoothing). Ours steps Adam through torch's fused kernel and computes the loss
# inside the softmax as the main job does (--optimizer fused_adam, --criterion
# sutskever_label_smoothed_cross_entropy: the same updates); the built-in keeps fairseq's
# own adam and criterion, as a user of it would.
RECIPE=(--lr "$SMALL_LR" --warmup-updates "$SMALL_WARMUP" --adam-betas "$SMALL_ADAM_BETAS" --label-smoothing "$SMALL_LABEL_SMOOTHING"
        --batch-size "$SMALL_BATCH" --sentence-avg --clip-norm 5 --seed "$SEED")
COMMON=(--user-dir sutskever_plugin --task translation_reversed --cpu --num-workers 0
        --stop-time-hours "$STOP_HOURS" --validate-interval-updates "$VALID_EVERY"
        --save-interval-updates "$VALID_EVERY" --keep-interval-updates 1 --no-epoch-checkpoints --no-last-checkpoints
        --no-save-optimizer-state --log-format simple --log-interval 50)
OURS=(--arch sutskever_lstm "${SIZE[@]}" --optimizer fused_adam "${RECIPE[@]}" --criterion sutskever_label_smoothed_cross_entropy)
[ "$BF16" = off ] || OURS+=(--autocast-bf16)
BUILTIN=(--arch lstm "${SIZE[@]}" --decoder-attention 0 --decoder-out-embed-dim "$HIDDEN" --optimizer adam "${RECIPE[@]}"
         --criterion label_smoothed_cross_entropy)

# train_pair CORE_OURS CORE_BUILTIN: both fairseq-trains from scratch (--stop-time-hours
# would count a resumed run's earlier time), each on its core; models of record to WORK/models.
train_pair() {
  local pids=() name status=0
  rm -rf "$RUNS" && mkdir -p "$RUNS/ours" "$RUNS/builtin"
  taskset -c "$1" "$FS/fairseq-train" "$DATA/bin" "${COMMON[@]}" "${OURS[@]}" --save-dir "$RUNS/ours" \
    > "$RUNS/ours/train.log" 2>&1 &
  pids+=($!)
  taskset -c "$2" "$FS/fairseq-train" "$DATA/bin" "${COMMON[@]}" "${BUILTIN[@]}" --save-dir "$RUNS/builtin" \
    > "$RUNS/builtin/train.log" 2>&1 &
  pids+=($!)
  trap 'kill "${pids[@]}" 2>/dev/null; exit 143' TERM INT
  for name in ours builtin; do
    wait "${pids[0]}" || { status=$?; say "training $name failed (exit $status): $(tail -n 1 "$RUNS/$name/train.log")"; }
    pids=("${pids[@]:1}")
  done
  trap - TERM INT
  [ "$status" = 0 ] || return "$status"
  for name in ours builtin; do
    say "train $name: $("$PY" -m sutskever_plugin.scoring.fairseq_output --last-valid "$RUNS/$name/train.log")"
    cp "$RUNS/$name/checkpoint_best.pt" "$WORK/models/$name.pt.tmp"
    mv "$WORK/models/$name.pt.tmp" "$WORK/models/$name.pt"
    cp "$RUNS/$name/train.log" "$WORK/logs/train_$name.log.tmp" && mv "$WORK/logs/train_$name.log.tmp" "$WORK/logs/train_$name.log"
  done
  printf '{"budget_minutes": %s}\n' "$BUDGET" > "$RUNS/pair.json.tmp" && mv "$RUNS/pair.json.tmp" "$RUNS/pair.json"
}
shopt -s nullglob
TRAIN_INPUTS=("$DATA"/bin/dict.*.txt "$DATA"/bin/train.* "$DATA"/bin/valid.*)
shopt -u nullglob
say "training ours (core $CORE_OURS) and the built-in (core $CORE_BUILTIN) for $BUDGET min each, validating every $VALID_EVERY updates"
step "train side by side" "$RUNS/pair.json" --inputs "${TRAIN_INPUTS[@]}" -- \
  train_pair "$CORE_OURS" "$CORE_BUILTIN" "${COMMON[*]}" "${OURS[*]}" "${BUILTIN[*]}"

# ---- 3. test2016 at beam 12, no length normalisation, as Table 1 decodes -------------
source "$ROOT/scripts/table1_decodes.sh"
BIN_DIR=$DATA/bin DATA_DIR=$DATA REF_DIR=$DATA OUT_DIR=$WORK/decode
split_inputs test
decode_step "decode ours beam 12" ours_beam12 translation_reversed 12 ours
decode_step "decode built-in beam 12" builtin_beam12 translation_reversed 12 builtin

# ---- 4. the report ------------------------------------------------------------------
"$PY" -m sutskever_plugin.reporting.quality --work "$WORK" --out "$RESULTS" --scale "$SCALE" \
    --budget-minutes "$BUDGET" --validate-interval-updates "$VALID_EVERY" \
    --ours-flags "${OURS[*]}" --builtin-flags "${BUILTIN[*]}" --common-flags "${COMMON[*]}" \
    --cores "$CORES" --command "$COMMAND"
say "all done: $RESULTS/quality_$SCALE.md"
