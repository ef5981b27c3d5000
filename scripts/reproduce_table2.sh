#!/usr/bin/env bash
# Table 2 of Sutskever, Vinyals & Le (2014): rescore the baseline's n-best lists with the
# single forward LSTM, the single reversed LSTM and the ensemble of 5 reversed LSTMs that
# scripts/reproduce_table1.sh trained (reused, never retrained), add the oracle, and
# write results/table2.{csv,md}.
#
#   bash scripts/reproduce_table2.sh [--scale tiny|small|paper] [--work DIR] [--results DIR]
#                                    [--nbest N] [--nbest-test FILE --nbest-dev FILE]
#
#   small (default): our phrase-based baseline (sutskever_plugin.smt) writes 100-best
#                    lists of valid and test (10-25 min on 2 cores), then one pass per
#                    Table 1 model over them; tiny: likewise, about 6 CPU-minutes, its table
#                    to WORK/results; paper: the baseline's 1000-best lists given as Moses
#                    n-best files (--nbest-test, --nbest-dev).
# Rerunning skips finished steps (each writes its outputs atomically, its marker last).
TAG=table2
source "$(dirname "$0")/lib.sh"

SCALE=small WORK="" RESULTS="" NBEST="" NBEST_TEST="" NBEST_DEV=""
while [ $# -gt 0 ]; do
  case $1 in
    --scale|--work|--results|--nbest|--nbest-test|--nbest-dev) need_value "$@" ;;&
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$(abs_path "$2"); shift 2 ;;
    --results) RESULTS=$(abs_path "$2"); shift 2 ;;
    --nbest) NBEST=$2; shift 2 ;;
    --nbest-test) NBEST_TEST=$(abs_path "$2"); shift 2 ;;
    --nbest-dev) NBEST_DEV=$(abs_path "$2"); shift 2 ;;
    *) die "unknown argument '$1' (see the header of $0)" ;;
  esac
done
check_scale "$SCALE"
[ -z "$NBEST" ] || int_opt NBEST --nbest 1
# DEV_MAX: dev sentences used to tune the LSTM weight (0: all); scoring is the slow part
case $SCALE in
  tiny)  NBEST=${NBEST:-100}; SMT_FLAGS=(--tune-iterations 3); DEV_MAX=0 ;;
  small) NBEST=${NBEST:-100}; SMT_FLAGS=(); DEV_MAX=300 ;;
  paper) NBEST=${NBEST:-1000}; DEV_MAX=0
         [ -n "$NBEST_TEST" ] && [ -n "$NBEST_DEV" ] \
           || die "--scale paper needs the baseline's lists: --nbest-test FILE --nbest-dev FILE" ;;
esac
if [ "$SCALE" != paper ] && { [ -n "$NBEST_TEST" ] || [ -n "$NBEST_DEV" ]; }; then
  die "--nbest-test/--nbest-dev are for --scale paper; at --scale $SCALE the baseline is built here"
fi
for f in "$NBEST_TEST" "$NBEST_DEV"; do [ -z "$f" ] || [ -f "$f" ] || die "n-best list not found: $f"; done
WORK=${WORK:-work/$SCALE}
[ "$SCALE" = tiny ] && RESULTS=${RESULTS:-$WORK/results} || RESULTS=${RESULTS:-results}
out_dir_ok --work "$WORK"; out_dir_ok --results "$RESULTS"
DATA=$WORK/data M=$WORK/models T=$WORK/table2

# ---- 0. inputs: Table 1's data and models ------------------------------------------
for f in "$DATA/tok/test.en" "$DATA/tok/test.fr" "$DATA/tok/valid.en" "$DATA/tok/valid.fr"; do
  [ -f "$f" ] || die "missing $f: run 'bash scripts/reproduce_table1.sh --scale $SCALE' first (it prepares the data)"
done
for m in forward reversed1 reversed2 reversed3 reversed4 reversed5; do
  [ -f "$M/$m.pt" ] || die "missing model $M/$m.pt: run 'bash scripts/reproduce_table1.sh --scale $SCALE' first (Table 2 reuses its models)"
done
lock_work "$WORK"   # one run at a time in a work dir (lib.sh)

setup_venv
mkdir -p "$T"
digest_cache "$WORK"
say "inputs: data $DATA, models $M/{forward,reversed1..5}.pt"

# ---- 1. the baseline's n-best lists -------------------------------------------------
if [ "$SCALE" = paper ]; then
  TEST_NBEST=$NBEST_TEST DEV_NBEST=$NBEST_DEV
  say "baseline: external n-best lists $TEST_NBEST (test), $DEV_NBEST (dev)"
else
  # keyed on the tokenized corpora (the SMT build keys its own stages too)
  step "baseline SMT" "$WORK/smt/baseline_bleu.json" --inputs "$DATA/tok" -- \
    "$PY" -m sutskever_plugin.smt.build --data "$DATA" --out "$WORK/smt" --nbest "$NBEST" "${SMT_FLAGS[@]}"
  TEST_NBEST=$WORK/smt/test.nbest DEV_NBEST=$WORK/smt/valid.nbest
  say "baseline: n-best lists $TEST_NBEST, $DEV_NBEST (its BLEU: $WORK/smt/baseline_bleu.json)"
fi

# Each rescoring is keyed (scripts/lib.sh step) on the lists, sentences, dictionaries and
# models it used: a rebuilt baseline or a retrained model redoes exactly what it feeds.
shopt -s nullglob
RESCORE_INPUTS=("$TEST_NBEST" "$DEV_NBEST" "$DATA"/tok/{test,valid}.{en,fr} "$DATA"/bin/dict.*.txt)
shopt -u nullglob

# ---- 2. rescoring: forward, reversed, ensemble of 5 reversed ------------------------
# One run per model scores the dev list (to tune the LSTM weight) and the test list, and
# saves its token log-probabilities (scores/NAME.npz); the ensemble's rescoring combines
# its five members' files, so no model runs twice. The table takes the paper's even
# average (lambda 0.5) from the rescored lists' Baseline= and LSTM= columns.
rescore() {  # rescore KEY --path MODEL | --token-scores FILES, and their own flags
  local key=$1; shift
  "$PY" -m sutskever_plugin.rescoring.rescore "$@" --data-dir "$DATA" \
    --source "$DATA/tok/test.en" --nbest "$TEST_NBEST" --ref "$DATA/tok/test.fr" \
    --weight tuned --dev-source "$DATA/tok/valid.en" --dev-nbest "$DEV_NBEST" \
    --dev-ref "$DATA/tok/valid.fr" --dev-max-sentences "$DEV_MAX" \
    --out-nbest "$T/$key.nbest" --out-1best "$T/$key.tuned.1best" --summary-json "$T/$key.json"
}
# The six models as many at a time as there are cores (scripts/lib.sh pool_step);
# reversed2..5 are rescored alone too, for the table's seed rows and their token scores.
POOL_JOBS=$(cores)
for m in forward reversed1 reversed2 reversed3 reversed4 reversed5; do
  case $m in
    forward) name="rescore forward LSTM" ;;
    reversed1) name="rescore reversed LSTM" ;;
    *) name="score $m (ensemble member)" ;;
  esac
  # a finished pass whose token scores were removed since is done again
  [ -e "$T/scores/$m.npz" ] || rm -f "$T/$m.json"
  pool_step "$name" "$T/$m.json" --inputs "${RESCORE_INPUTS[@]}" "$M/$m.pt" -- \
    rescore "$m" --path "$M/$m.pt" --save-token-scores "$T/scores/$m.npz"
done
pool_wait
members=("$T"/scores/reversed{1,2,3,4,5}.npz)
step "rescore ensemble of 5 reversed LSTMs" "$T/ensemble5.json" \
  --inputs "${RESCORE_INPUTS[@]}" "${members[@]}" -- \
  rescore ensemble5 --token-scores "$(IFS=:; echo "${members[*]}")"

# ---- 3. oracle ----------------------------------------------------------------------
step "oracle" "$T/oracle.json" --inputs "$TEST_NBEST" "$DATA/tok/test.en" "$DATA/tok/test.fr" -- \
  "$PY" -m sutskever_plugin.rescoring.oracle \
  --nbest "$TEST_NBEST" --source "$DATA/tok/test.en" --ref "$DATA/tok/test.fr" \
  --out-1best "$T/oracle.1best" --summary-json "$T/oracle.json"

# ---- 4. the table -------------------------------------------------------------------
table=("$PY" -m sutskever_plugin.reporting.table2 --work "$WORK" --scale "$SCALE"
       --baseline-nbest "$TEST_NBEST" --nbest-size "$NBEST" --out "$RESULTS")
[ "$SCALE" = paper ] && table+=(--write-baseline-json)
"${table[@]}" || die "step 'table' (see the error above)"
say "all done: $RESULTS/table2.md"
