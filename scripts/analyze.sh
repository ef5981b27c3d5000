#!/usr/bin/env bash
# The paper's model analysis (section 3.7-3.8) from the Table 1 models and decodes:
# Figure 2 (PCA of sentence vectors), Figure 3 (BLEU by sentence length and by word
# rarity, LSTM ensemble vs the baseline), Table 3 (long translations), analysis.md.
#
#   bash scripts/analyze.sh [--scale tiny|small|paper] [--work DIR] [--results DIR]
#                           [-- extra options of python -m sutskever_plugin.analysis]
#
# Reads WORK=work/<scale> of scripts/reproduce_table1.sh and, when there, the baseline
# 1-best of reproduce_table2.sh; writes to results/ (tiny: WORK/results); missing inputs
# are reported as pending in analysis.md.
TAG=analysis
source "$(dirname "$0")/lib.sh"

SCALE=small WORK="" RESULTS="" EXTRA=()
while [ $# -gt 0 ]; do
  case $1 in
    --scale|--work|--results) need_value "$@" ;;&
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$(abs_path "$2"); shift 2 ;;
    --results) RESULTS=$(abs_path "$2"); shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) die "unknown argument '$1' (see the header of $0)" ;;
  esac
done
check_scale "$SCALE"
WORK=${WORK:-work/$SCALE}
[ "$SCALE" = tiny ] && RESULTS=${RESULTS:-$WORK/results} || RESULTS=${RESULTS:-results}
out_dir_ok --work "$WORK"; out_dir_ok --results "$RESULTS"
# the options that name this work dir again in a suggested command (quoted for the shell)
WORK_OPT=$([ "$WORK" = "work/$SCALE" ] || printf ' --work %q' "$WORK")
[ -f "$WORK/data/summary.json" ] || die "$WORK/data/summary.json not found: run bash scripts/reproduce_table1.sh --scale $SCALE$WORK_OPT first"
lock_work "$WORK"   # the decodes read as they are: no run rewriting them meanwhile (lib.sh)

setup_venv
digest_cache "$WORK"
# Refuse decodes made from a model, data or n-best list that has changed since (a
# retrained model's old translations would otherwise be analysed).
shopt -s nullglob
made=("$WORK"/decode/*.json "$WORK"/smt/baseline_bleu.json)
shopt -u nullglob
stale=$("$PY" "$ROOT/sutskever_plugin/steps.py" changed ${made[@]+"${made[@]}"}) || die "cannot check the inputs of $WORK/decode"
if [ -n "$stale" ]; then
  first=${stale%%$'\n'*}
  die "$(basename "${first%%$'\t'*}" .json) was made from ${first#*$'\t'}, which has changed since ($(printf '%s\n' "$stale" | wc -l) such inputs): rerun bash scripts/reproduce_table1.sh --scale $SCALE$WORK_OPT (it redoes only the affected steps$( [ -f "$WORK/smt/baseline_bleu.json" ] && echo "; then bash scripts/reproduce_table2.sh --scale $SCALE$WORK_OPT")), then this"
fi
t0=$SECONDS
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} "$PY" -m sutskever_plugin.analysis \
    --work "$WORK" --out "$RESULTS" ${EXTRA[@]+"${EXTRA[@]}"} \
    || die "python -m sutskever_plugin.analysis (exit $?)"
say "done in $((SECONDS - t0)) s: $RESULTS/analysis.md"
