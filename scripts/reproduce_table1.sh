#!/usr/bin/env bash
# Table 1 of Sutskever, Vinyals & Le (2014): train one forward and five reversed deep
# LSTMs (plus fairseq's attention LSTM as the "Bahdanau et al." analogue), decode the
# test set for every LSTM row of the table, and write results/table1.{csv,md}.
#
#   bash scripts/reproduce_table1.sh [--scale tiny|small|paper] [--dry-run]
#                                    [--work DIR] [--results DIR] [--raw-dir DIR] [--gpus N]
#                                    [--precision bf16|fp32] [--forward-seeds N]
#   small scale only:                [--epochs N]
#   paper scale only:                [--cpu] [--nwords-src N] [--nwords-tgt N]
#                                    [--layers N] [--dim N] [--max-update N] [--decode-jobs N]
#
# docs/scripts.md describes the scales and options; what it leaves to this header:
#   tiny and small train as many models, then test perplexities and decodes, at a time as
#   the machine has cores (SUTSKEVER_CORES overrides the count), one thread each, so the
#   cores change the job's time, never its numbers. Each training's end of epoch prints a
#   progress line: the epoch, its pace here, and about how long the trainings have left.
#   paper: --raw-dir DIR holds the WMT'14 archives (or their unpacked directories)
#   already fetched (sutskever_plugin/data/wmt14.py); --cpu trains on the CPU, --gpus N
#   then meaning N CPU worker processes (gloo); the size overrides (--nwords-src/
#   --nwords-tgt, --layers, --dim, --max-update) run the same pipeline at a size a CPU
#   finishes, e.g. on a stand-in corpus (docs/paper_scale_cpu.md), and send the table to
#   WORK/results. --decode-jobs N: on one GPU with the memory for N models at once, the
#   decodes' tail shrinks N-fold (each step took 19-25 s on an H200 at stand-in sizes,
#   most of it a process starting: results/gpu/).
#   --precision bf16 trains the LSTMs and the attention analogue (--arch lstm_autocast:
#   fairseq's lstm with the flag) with --autocast-bf16 (which alone means the same); on a
#   CPU without native bf16, fp32 is the faster one. --forward-seeds N: forward LSTMs of
#   seeds 1..N (forward, forward2, ...), as the reversal gain is read against the spread
#   between seeds (small: 1, the two hours' budget, scripts/recipe_small.sh; tiny and
#   paper: 2).
# Rerunning skips finished steps; an interrupted training resumes from its last
# checkpoint (fairseq-train restores SAVE_DIR/checkpoint_last.pt by itself).
TAG=table1
source "$(dirname "$0")/lib.sh"

SCALE=small WORK="" RESULTS="" RAW="" GPUS=${GPUS:-1} PRECISION="" FORWARD_SEEDS=""
CPU=0 NWORDS=() O_LAYERS="" O_DIM="" O_MAX_UPDATE="" SPARSE_OFF="" DECODE_JOBS=""   # paper-scale options
ATT_EPOCHS=""   # the attention analogue's epochs where a scale's recipe sets its own
WARMUP=0        # updates of linear lr warm-up where a scale's recipe sets them
O_EPOCHS=""     # --epochs (small scale)
COMMAND="bash scripts/reproduce_table1.sh${*:+ $*}"   # named in the table's header
while [ $# -gt 0 ]; do
  case $1 in
    --scale|--work|--results|--raw-dir|--gpus|--precision|--forward-seeds|--epochs|--nwords-src|--nwords-tgt|--layers|--dim|--max-update|--decode-jobs) need_value "$@" ;;&
    --scale) SCALE=$2; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --work) WORK=$(abs_path "$2"); shift 2 ;;
    --results) RESULTS=$(abs_path "$2"); shift 2 ;;
    --raw-dir) RAW=$(abs_path "$2"); shift 2 ;;
    --gpus) GPUS=$2; shift 2 ;;
    --precision) PRECISION=$2; shift 2 ;;
    --forward-seeds) FORWARD_SEEDS=$2; shift 2 ;;
    --epochs) O_EPOCHS=$2; shift 2 ;;
    --autocast-bf16) PRECISION=bf16; shift ;;
    --cpu) CPU=1; shift ;;
    --nwords-src|--nwords-tgt) NWORDS+=("$1" "$2"); shift 2 ;;
    --layers) O_LAYERS=$2; shift 2 ;;
    --dim) O_DIM=$2; shift 2 ;;
    --max-update) O_MAX_UPDATE=$2; shift 2 ;;
    --decode-jobs) DECODE_JOBS=$2; shift 2 ;;
    *) die "unknown argument '$1' (see the header of $0)" ;;
  esac
done
# every option is checked before anything is done
check_scale "$SCALE"
int_opt GPUS --gpus 1
[ -z "$FORWARD_SEEDS" ] || int_opt FORWARD_SEEDS --forward-seeds 1
if [ -n "$O_EPOCHS" ]; then
  [ "$SCALE" = small ] || die "--epochs is a small-scale option (tiny and paper train their recipe's epochs)"
  int_opt O_EPOCHS --epochs 1
fi
case ${PRECISION:=$([ "$SCALE" = small ] && echo bf16 || echo fp32)} in
  bf16|fp32) ;; *) die "--precision must be bf16 or fp32 (got '$PRECISION')" ;;
esac
if [ "$SCALE" != paper ] && [ "$GPUS" != 1 ]; then
  die "--gpus $GPUS: --scale $SCALE trains on CPU in one process per model, without data parallelism; leave --gpus out (or --gpus 1)"
fi
[ -z "$RAW" ] || [ -d "$RAW" ] || die "--raw-dir $RAW: no such directory"
OVERRIDES="${NWORDS[*]}$O_LAYERS$O_DIM$O_MAX_UPDATE"
if [ "$SCALE" != paper ] && { [ "$CPU" = 1 ] || [ -n "$OVERRIDES$DECODE_JOBS" ]; }; then
  die "--cpu, --nwords-src/--nwords-tgt, --layers, --dim, --max-update and --decode-jobs are paper-scale options (--scale paper)"
fi
[ -z "$DECODE_JOBS" ] || int_opt DECODE_JOBS --decode-jobs 1
[ -z "$O_LAYERS" ] || int_opt O_LAYERS --layers 1
[ -z "$O_DIM" ] || int_opt O_DIM --dim 1
[ -z "$O_MAX_UPDATE" ] || int_opt O_MAX_UPDATE --max-update 1
for ((i = 0; i < ${#NWORDS[@]}; i += 2)); do int_opt "NWORDS[$((i + 1))]" "${NWORDS[i]}" 1; done
CORES=$(cores)   # this machine's, or SUTSKEVER_CORES (lib.sh)
WORK=${WORK:-work/$SCALE}
# tiny is a smoke test, and a paper run at overridden sizes a stand-in: their tables
# never overwrite the committed results/
if [ "$SCALE" = tiny ] || [ -n "$OVERRIDES" ]; then RESULTS=${RESULTS:-$WORK/results}; else RESULTS=${RESULTS:-results}; fi
out_dir_ok --work "$WORK"; out_dir_ok --results "$RESULTS"   # a file, or read-only: refused now
[ "$DRY_RUN" = 1 ] || lock_work "$WORK"   # one run at a time in a work dir (lib.sh)
DATA=$WORK/data

# ---- the recipe per scale --------------------------------------------------------
# Paper (section 3.4): SGD without momentum, lr 0.7, batches of 128 sentences, gradient
# divided by 128 (--sentence-avg) and clipped at norm 5, uniform init in [-0.08, 0.08],
# lr halved every half epoch after 5 epochs, 7.5 epochs in all, no dropout.
# sutskever_sgd is that SGD; it also takes the sparse embedding gradients of
# --sparse-embedding-grads (the same updates; at the paper's size a CPU step 1.15-1.33x
# faster, results/benchmark.md), which data-parallel training cannot all-reduce.
# sutskever_cross_entropy is fairseq's cross_entropy with the loss computed inside the
# output softmax in CPU training (the same loss and gradients, less memory traffic).
SPARSE=(--sparse-embedding-grads) CRITERION=(--criterion sutskever_cross_entropy)
case $SCALE in
  tiny)
    PREP=(--dataset multi30k --scale tiny)
    ARCH=sutskever_lstm_tiny; LAYERS=2; DIM=64; OPTIMIZER=(--optimizer sutskever_sgd)
    DROPOUT=0.0; LR=0.7; BATCH=32; EPOCHS=3; HALVE_AFTER=2; HALVE_EVERY=0.5; N_FORWARD=2
    SAVE_EVERY=10 ;;
  small)
    PREP=(--dataset multi30k --scale small)
    # scripts/recipe_small.sh: the recipe, each departure from the paper, and why.
    # The loss is computed inside the softmax as the plain loss is
    # (criterions/sutskever_label_smoothed_cross_entropy.py).
    source "$ROOT/scripts/recipe_small.sh"
    ARCH=sutskever_lstm_small; LAYERS=$SMALL_LAYERS; DIM=$SMALL_HIDDEN; EMB=$SMALL_EMBED
    OPTIMIZER=(--optimizer fused_adam --adam-betas "$SMALL_ADAM_BETAS"); SPARSE=()
    CRITERION=(--criterion sutskever_label_smoothed_cross_entropy --label-smoothing "$SMALL_LABEL_SMOOTHING")
    DROPOUT=$SMALL_DROPOUT; LR=$SMALL_LR; BATCH=$SMALL_BATCH; EPOCHS=$SMALL_EPOCHS WARMUP=$SMALL_WARMUP
    HALVE_AFTER=end HALVE_EVERY=0.5   # the lr fixed until the last epoch, however many
    EPOCHS=${O_EPOCHS:-$EPOCHS} N_FORWARD=$SMALL_FORWARD_SEEDS ATT_EPOCHS=$SMALL_ATT_EPOCHS
    SAVE_EVERY=1000 ;;
  paper)
    PREP=(--dataset wmt14 --scale paper)
    ARCH=sutskever_lstm; LAYERS=4; DIM=1000; OPTIMIZER=(--optimizer sutskever_sgd)
    # Sparse embedding gradients stay off on GPUs: on an H200 they make the same update as
    # dense ones but no faster step (results/gpu/; presumably because the dense gradients'
    # zero-fill, scale and update of the 240M embedding weights, a quarter of a CPU step,
    # run at a GPU's memory bandwidth). Several workers cannot use them at all (data
    # parallelism all-reduces dense gradients). One CPU process (--cpu) keeps them: faster
    # there (results/benchmark.md).
    if [ "$CPU" != 1 ]; then
      SPARSE=() SPARSE_OFF="paper scale on GPUs: --sparse-embedding-grads off (the same updates, but no faster step on a GPU: results/gpu/)"
    elif [ "$GPUS" -gt 1 ]; then
      SPARSE=() SPARSE_OFF="paper scale on $GPUS CPU workers: --sparse-embedding-grads off (data parallelism all-reduces dense gradients)"
    fi
    DROPOUT=0.0; LR=0.7; BATCH=128; EPOCHS=7.5; HALVE_AFTER=5; HALVE_EVERY=0.5; N_FORWARD=2
    SAVE_EVERY=5000 ;;
esac
[ $((BATCH % GPUS)) = 0 ] || die "--gpus $GPUS must divide the batch of $BATCH sentences (each GPU takes batch/GPUS of an update)"
# the options are all checked: from here on the script reports what it does
if [ -n "$SPARSE_OFF" ]; then say "$SPARSE_OFF"; fi
LAYERS=${O_LAYERS:-$LAYERS} DIM=${O_DIM:-$DIM}
EMB=${O_DIM:-${EMB:-$DIM}}   # embeddings as wide as the cells, as the paper, unless the recipe says
PREP+=("${NWORDS[@]}")
SIZE=(--encoder-layers "$LAYERS" --decoder-layers "$LAYERS" --encoder-embed-dim "$EMB"
      --decoder-embed-dim "$EMB" --encoder-hidden-size "$DIM" --decoder-hidden-size "$DIM")
if [ -z "$RAW" ] && [ "$SCALE" != paper ] && [ -d ../shared/data/multi30k ]; then
  RAW=../shared/data/multi30k   # offline copy beside the repo; else downloaded
fi

setup_venv
[ "$DRY_RUN" = 1 ] || mkdir -p "$WORK"/{models,logs,decode,ppl}
[ "$DRY_RUN" = 1 ] || digest_cache "$WORK"
STEP_LOG=$WORK/logs/steps.tsv   # every step's time (lib.sh timeline)
COMMIT=unknown   # the models' record of the code that trained them (not needed by a dry run)
[ "$DRY_RUN" = 1 ] || COMMIT=$("$PY" "$ROOT/sutskever_plugin/machine.py" commit 2>/dev/null || echo unknown)

# ---- 1. data ---------------------------------------------------------------------
# keyed on the raw corpora's contents when they are given (--raw-dir or ../shared);
# downloads come from fixed URLs
prep=("$PY" -m sutskever_plugin.data.prepare "${PREP[@]}" --out "$DATA")
PREP_INPUTS=()
[ -n "$RAW" ] && { prep+=(--raw-dir "$RAW"); PREP_INPUTS=(--inputs "$RAW" --); }
if [ "$DRY_RUN" = 1 ] && [ "$SCALE" = paper ]; then
  "${prep[@]}" --dry-run || die "step 'prepare data' (dry run)"   # lists every download and tool
else
  step "prepare data" "$DATA/summary.json" ${PREP_INPUTS[@]+"${PREP_INPUTS[@]}"} run "${prep[@]}"
fi

# ---- precision of the LSTMs' training ---------------------------------------------
BF16=() PRECISION_NOTE="fp32"
[ "$PRECISION" = fp32 ] || BF16=(--autocast-bf16) PRECISION_NOTE="bf16 autocast (--precision bf16)"

# Paper scale: fairseq's data-parallel training. On GPUs fairseq-train starts one worker
# per GPU itself (torch.multiprocessing.spawn; tests/test_distributed.py runs that launch
# path). On the CPU its launcher refuses (it counts GPUs), so the ranks are started here,
# one process each (launch below), over gloo.
WORKERS=1   # processes per training
[ "$SCALE" = paper ] && [ "$CPU" = 1 ] && WORKERS=$GPUS
# What follows from the recipe and the cores (sutskever_plugin/job.py plan): MAX_UPDATE
# and ATT_MAX_UPDATE (fairseq makes ceil(N / batch) batches an epoch: the updates of the
# tokenised training pairs, or of the scale's nominal ones before the data exist),
# SCHEDULE, ATT_SCHEDULE, HALVE_FROM, LR_SCHEDULE, the trainings (MODELS: NAME TASK SEED),
# PLAN (each training's epochs, for the progress lines), JOBS and THREADS (the trainings'
# pool), DECODE_POOL and DECODE_THREADS (the decodes' pool)
PLAN_ARGS=(--scale "$SCALE" --epochs "$EPOCHS" --batch "$BATCH" --train-file "$DATA/tok/train.en"
           --cores "$CORES" --workers "$WORKERS" --forward-seeds "${FORWARD_SEEDS:-$N_FORWARD}"
           --halve-after "$HALVE_AFTER" --halve-every "$HALVE_EVERY" --warmup "$WARMUP")
[ -z "$ATT_EPOCHS" ] || PLAN_ARGS+=(--att-epochs "$ATT_EPOCHS")
[ -z "$O_MAX_UPDATE" ] || PLAN_ARGS+=(--max-update "$O_MAX_UPDATE")
[ -z "$DECODE_JOBS" ] || PLAN_ARGS+=(--decode-jobs "$DECODE_JOBS")
JOB_PLAN=$("$PY" "$ROOT/sutskever_plugin/job.py" plan "${PLAN_ARGS[@]}") || die "the job's plan (see above)"
eval "$JOB_PLAN"
# recipe_of NAME: REC = the model's training flags (the attention analogue: its own updates)
recipe_of() {
  local n=$MAX_UPDATE
  [ "$1" = attention ] && n=$ATT_MAX_UPDATE
  REC=("${OPTIMIZER[@]}" --lr "$LR" --lr-scheduler sutskever_halving
       --halve-after-epochs "$HALVE_FROM" --halve-every-epochs "$HALVE_EVERY"
       --batch-size $((BATCH / GPUS)) --sentence-avg --clip-norm 5 --max-update "$n"
       "${CRITERION[@]}" --save-interval-updates "$SAVE_EVERY" --keep-interval-updates 1
       --no-epoch-checkpoints --log-format simple --log-interval 50)
  [ "$WARMUP" = 0 ] || REC+=(--warmup-updates "$WARMUP")
  # --ddp-backend legacy_ddp for the CPU ranks because torch's DistributedDataParallel
  # refuses the device_ids fairseq's pytorch_ddp passes for a CPU module.
  if [ "$SCALE" = paper ] && [ "$CPU" = 1 ]; then
    REC+=(--cpu)
    [ "$WORKERS" = 1 ] || REC+=(--distributed-world-size "$GPUS" --distributed-backend gloo
                                --ddp-backend legacy_ddp --distributed-no-spawn)
  elif [ "$SCALE" = paper ]; then
    REC+=(--distributed-world-size "$GPUS" --ddp-backend pytorch_ddp)
  fi
}

# launch CMD...: the training, as one process or as WORKERS CPU ranks (rank 0's log on
# stdout, rank R's in LOG.rankR). All ranks run in the background so that a TERM
# (Ctrl-C, or the pool stopping after a failure) reaches the waiting shell and stops them.
launch() {
  if [ "$WORKERS" = 1 ]; then run "$@"; return; fi
  local port r status=0 pids=()
  if [ "$DRY_RUN" = 1 ]; then
    for ((r = 0; r < WORKERS; r++)); do
      run "$@" --distributed-rank "$r" --distributed-init-method tcp://127.0.0.1:PORT
    done
    return 0
  fi
  port=$("$PY" "$ROOT/sutskever_plugin/job.py" free-port)
  trap 'kill "${pids[@]}" 2>/dev/null; exit 143' TERM INT
  for ((r = 0; r < WORKERS; r++)); do
    if [ "$r" = 0 ]; then
      "$@" --distributed-rank 0 --distributed-init-method "tcp://127.0.0.1:$port" &
    else
      "$@" --distributed-rank "$r" --distributed-init-method "tcp://127.0.0.1:$port" > "$log.rank$r" 2>&1 &
    fi
    pids+=($!)
  done
  for r in "${!pids[@]}"; do wait "${pids[$r]}" || { status=$?; say "rank $r failed (exit $status)"; }; done
  return "$status"
}

# ---- 2. training -----------------------------------------------------------------
# MODELS (job.py): one forward LSTM and five reversed LSTMs differing only in the seed
# (the paper's ensemble members), and fairseq's attention LSTM at the same size, in the
# LSTMs' precision (models/lstm_autocast.py: in fp32 it took three times an LSTM's time).
# Further forward seeds (--forward-seeds): the paper's reversal gain is shown against the
# spread between seeds, of the forward models as of the five reversed ones.
ATT_ARCH=lstm_autocast

# train_cmd NAME TASK SEED: TRAIN_ARGS = the model's fairseq-train arguments
train_cmd() {
  local name=$1 task=$2 seed=$3 arch_flags
  if [ "$name" = attention ]; then
    arch_flags=(--arch "$ATT_ARCH" "${SIZE[@]}" --decoder-out-embed-dim "$EMB" --decoder-attention 1
                --dropout "$DROPOUT" "${BF16[@]}")
  else
    arch_flags=(--arch "$ARCH" "${SIZE[@]}" --dropout "$DROPOUT" "${BF16[@]}" "${SPARSE[@]}")
  fi
  recipe_of "$name"
  TRAIN_ARGS=("$DATA/bin" --user-dir sutskever_plugin --task "$task" "${arch_flags[@]}" "${REC[@]}"
              --seed "$seed" --save-dir "$WORK/checkpoints/$name")
}

train_one() {
  local name=$1 task=$2 seed=$3
  local save=$WORK/checkpoints/$name log=$WORK/logs/train_$name.log t0=$SECONDS t0_utc
  t0_utc=$(date -u +%s)
  train_cmd "$@"
  local cmd=("$FS/fairseq-train" "${TRAIN_ARGS[@]}")
  if [ "$DRY_RUN" = 1 ]; then launch "${cmd[@]}"; return 0; fi
  say "train $name: started (its log: $log; a rerun after a failure resumes it from its last checkpoint)"
  # fairseq's progress stays visible (prefixed with the model, with the job's progress at
  # each epoch's end: sutskever_plugin/progress.py), the full log is kept
  local epochs=$EPOCHS; [ "$name" = attention ] && epochs=$ATT_EPOCHS
  launch "${cmd[@]}" 2>&1 | tee -a "$log" \
    | "$PY" "$ROOT/sutskever_plugin/progress.py" --model "$name" --epochs "$epochs" --plan "$PLAN" \
        --jobs "$JOBS" --state-dir "$WORK/logs/progress" --models-dir "$WORK/models" --tag "$TAG"
  # the model of record is the checkpoint with the best validation loss
  cp "$save/checkpoint_best.pt" "$WORK/models/$name.pt.tmp"
  "$PY" "$ROOT/sutskever_plugin/job.py" record-model --out "$WORK/models/$name.json" \
      --train-wall-s $((SECONDS - t0)) --commit "$COMMIT" --seed "$seed" --task "$task"
  timeline "train $name" "$t0_utc" done
  mv "$WORK/models/$name.pt.tmp" "$WORK/models/$name.pt"
  step_done "$WORK/models/$name.pt" "$TRAIN_REC"   # the data and recipe it was trained on
  say "train $name: done in $((SECONDS - t0)) s, $("$PY" -m sutskever_plugin.scoring.fairseq_output --last-valid-ppl "$log") (val)"
}

# ---- 3 and 4, per model: test perplexity (paper: forward 5.8, reversed 4.7; every
# seed's, as the reversal gain is read against the spread between seeds) and the model's
# own decode at beam 12 (model_job below)
perplexity() {
  local name=$1 task=$2 log=$WORK/ppl/$1.log
  [ "$DRY_RUN" = 1 ] && log=/dev/null
  run "$FS/fairseq-validate" "$DATA/bin" --user-dir sutskever_plugin --task "$task" \
      --path "$WORK/models/$name.pt" --valid-subset test --batch-size 64 > "$log" 2>&1 || { tail -n 5 "$log"; return 1; }
  [ "$DRY_RUN" = 1 ] && return 0
  "$PY" -m sutskever_plugin.scoring.perplexity --log "$log" --out "$WORK/ppl/$name.json"
}
shopt -s nullglob
TEST_BIN=("$DATA"/bin/dict.*.txt "$DATA"/bin/test.*)
shopt -u nullglob
ppl_step() {  # ppl_step NAME TASK
  step "test perplexity $1" "$WORK/ppl/$1.json" --inputs "$WORK/models/$1.pt" "${TEST_BIN[@]}" -- \
      perplexity "$1" "$2"
}
source "$ROOT/scripts/table1_decodes.sh"
decode_set "$DATA/bin" "$DATA" "$WORK/decode"

# model_job NAME TASK SEED: train the model unless it is done, then its test perplexity
# and its own decode (its Table 1 or seed row), on the training's threads: so a core
# freed near the end takes these while the longer trainings run (the attention LSTM's is
# the longest), not idling until the last ends.
model_job() {
  local POOL_JOBS=0   # its steps run in this job, one after the other
  if [ "${TRAINED[$1]:-}" != 1 ]; then train_one "$@"; fi
  [ "$1" = attention ] || ppl_step "$1" "$2"
  decode_single "$1"
}

# Tiny and small: a pool of JOBS trainings, one thread each (job.py plan)
[ "$SCALE" = paper ] || export OMP_NUM_THREADS=1
say "${#MODELS[@]} trainings, $JOBS at a time on $THREADS thread(s) each ($CORES cores)"
# On CPU, glibc handing every freed activation buffer back to the OS costs about 5% of
# the training time (results/benchmark.md); keeping freed memory in the heap avoids it.
if [ "$SCALE" != paper ] || [ "$CPU" = 1 ]; then export MALLOC_MMAP_MAX_=${MALLOC_MMAP_MAX_:-0}; fi

# A training is keyed as every step is (scripts/lib.sh step_fresh and step_done) on the
# training data, the dictionaries and every flag train_one gives it. The key is stored in
# SAVE_DIR/inputs.key when it starts (an interrupted training resumes only from
# checkpoints of the same data and recipe) and in models/NAME.pt.key when it ends.
shopt -s nullglob
TRAIN_INPUTS=("$DATA"/bin/dict.*.txt "$DATA"/bin/train.* "$DATA"/bin/valid.*)
shopt -u nullglob
declare -A TRAINED=()   # the models already trained from the same data and recipe
POOL_JOBS=$JOBS POOL_THREADS=$THREADS
for spec in "${MODELS[@]}"; do
  set -- $spec
  if [ "$DRY_RUN" != 1 ]; then
    arch=$ARCH; [ "$1" = attention ] && arch=$ATT_ARCH
    recipe_of "$1"
    TRAIN_REC=$(step_key train "$@" "$arch" "${SIZE[@]}" "$DIM" "$DROPOUT" ${BF16[@]+"${BF16[@]}"} \
      ${SPARSE[@]+"${SPARSE[@]}"} "${REC[@]}" --inputs "${TRAIN_INPUTS[@]}") || die "train $1: cannot key it on its data (see above)"
    model=$WORK/models/$1.pt save=$WORK/checkpoints/$1
    if step_fresh "$model" "$TRAIN_REC"; then
      say "train $1: already done, skipped"
      TRAINED[$1]=1
    else
      if [ -e "$save/inputs.key" ] && ! same_key "$save/inputs" "$TRAIN_REC"; then
        say "train $1: its data or recipe changed since $save was started: training anew, the old checkpoints moved to $save.stale"
        rm -rf "$save.stale" && mv "$save" "$save.stale"
      fi
      rm -f "$model" "$model.key" "$WORK/logs/progress/$1.json"
      mkdir -p "$save" && step_done "$save/inputs" "$TRAIN_REC"
    fi
  fi
  # a failure or Ctrl-C stops the pool's other jobs too (a rerun would otherwise start
  # a second fairseq-train on the same save dir)
  pool "train $1" model_job "$@"
done
pool_wait

# ---- 3 and 4: the ensembles' decodes (Table 1's rows), then the 5-ensemble's beams on
# the validation set (the beam ordering is read on valid as on test), DECODE_POOL at a
# time (tiny and small: as many as cores, one thread each; paper: one, or --decode-jobs)
POOL_JOBS=$DECODE_POOL POOL_THREADS=$DECODE_THREADS
decode_ensembles
decode_valid_beams
pool_wait

# ---- 5. the table -----------------------------------------------------------------
[ "$DRY_RUN" = 1 ] && { say "dry run: table not written"; exit 0; }
t0_utc=$(date -u +%s)
"$PY" -m sutskever_plugin.reporting.table1 --work "$WORK" --scale "$SCALE" --out "$RESULTS" \
    --precision "$PRECISION_NOTE" \
    --decoding "$DECODING" --command "$COMMAND" \
    --model "$ARCH ($LAYERS layers x $DIM cells, $EMB-d embeddings, dropout $DROPOUT); attention analogue: fairseq lstm, same size${BF16:+ and ${BF16[*]}}$ATT_SCHEDULE" \
    --recipe "${OPTIMIZER[*]} lr $LR, batch $BATCH sentences, --sentence-avg --clip-norm 5 ${CRITERION[*]}, $LR_SCHEDULE, $SCHEDULE, best checkpoint on val${SPARSE:+; LSTMs with ${SPARSE[*]}}${BF16:+; LSTMs and the attention analogue trained with ${BF16[*]}}" \
    --epochs "${O_MAX_UPDATE:+the first $O_MAX_UPDATE updates of }$EPOCHS" \
    --notes "$RESULTS/table1_notes_$SCALE.md"
timeline "table" "$t0_utc" done
say "all done: $RESULTS/table1.md"
