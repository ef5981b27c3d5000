#!/usr/bin/env bash
# The whole paper in one command: Table 1, Table 2, the analysis (Figures 2 and 3,
# Table 3), then Table 1's table once more, so that its baseline row (the phrase-based
# baseline's BLEU, which Table 2's SMT build writes to WORK/smt/baseline_bleu.json) is
# filled instead of pending. The second Table 1 run redoes nothing: every step of it is
# skipped by its content key, only its table is rewritten.
#
#   bash scripts/reproduce_paper.sh [--scale tiny|small|paper] [--work DIR] [--results DIR]
#       [--dry-run]                                                         (Table 1)
#       [--raw-dir DIR] [--gpus N] [--precision bf16|fp32]                  (Table 1)
#       [--forward-seeds N]                              (Table 1; default here: 2)
#       [--epochs N]                                           (Table 1, small scale)
#       [--cpu] [--nwords-src N] [--nwords-tgt N] [--layers N] [--dim N]
#       [--max-update N] [--decode-jobs N]                       (Table 1, paper scale)
#       [--nbest N] [--nbest-test FILE --nbest-dev FILE]                    (Table 2)
#       [-- extra options of python -m sutskever_plugin.analysis]          (analysis)
#
# Each option goes to the scripts that take it (see their headers): scripts/
# reproduce_table1.sh, scripts/reproduce_table2.sh, scripts/analyze.sh. They run from the
# directory this one is started in, so relative paths mean what they mean there.
# At --scale paper, Table 2 rescores the baseline's 1000-best lists, which are not built
# here: without --nbest-test/--nbest-dev the run stops after Table 1, saying so.
# --dry-run prints Table 1's commands and the scripts that would follow (Table 2 and the
# analysis have no dry run). Rerunning skips every finished step of every script.
# Table 1 trains 2 forward seeds here at every scale (the main job at small scale trains
# 1, for its two hours): the reversal gain is read against the spread between seeds.
TAG=paper
source "$(dirname "$0")/lib.sh"

SCALE=small WORK="" RESULTS="" DRY="" NBEST="" NBEST_TEST="" NBEST_DEV="" OVERRIDES="" FORWARD_SEEDS=2
COMMON=() T1=() T2=() AN=()
COMMAND="bash scripts/reproduce_paper.sh${*:+ $*}"   # named by the work dir's lock
while [ $# -gt 0 ]; do
  case $1 in
    --scale|--work|--results|--raw-dir|--gpus|--precision|--nwords-src|--nwords-tgt|--layers|--dim|\
    --max-update|--decode-jobs|--nbest|--nbest-test|--nbest-dev|--forward-seeds|--epochs) need_value "$@" ;;&
    --scale) SCALE=$2; COMMON+=("$1" "$2"); shift 2 ;;
    --work) WORK=$2; COMMON+=("$1" "$2"); shift 2 ;;
    --results) RESULTS=$2; COMMON+=("$1" "$2"); shift 2 ;;
    --dry-run) DRY=1; shift ;;
    --autocast-bf16|--cpu) T1+=("$1"); shift ;;
    --raw-dir|--gpus|--precision|--decode-jobs|--epochs) T1+=("$1" "$2"); shift 2 ;;
    --forward-seeds) FORWARD_SEEDS=$2; shift 2 ;;
    --nwords-src|--nwords-tgt|--layers|--dim|--max-update) OVERRIDES=1; T1+=("$1" "$2"); shift 2 ;;
    --nbest) NBEST=$2; shift 2 ;;
    --nbest-test) NBEST_TEST=$2; T2+=("$1" "$2"); shift 2 ;;
    --nbest-dev) NBEST_DEV=$2; T2+=("$1" "$2"); shift 2 ;;
    --) shift; AN+=(-- "$@"); break ;;
    *) die "unknown argument '$1' (see the header of $0)" ;;
  esac
done
# Table 1 checks its own options before it does anything; Table 2's are checked here,
# so that a bad one stops the run now rather than after Table 1's hours
check_scale "$SCALE"
int_opt FORWARD_SEEDS --forward-seeds 1
[ -z "$NBEST" ] || { int_opt NBEST --nbest 1; T2+=(--nbest "$NBEST"); }
if [ "$SCALE" != paper ] && { [ -n "$NBEST_TEST" ] || [ -n "$NBEST_DEV" ]; }; then
  die "--nbest-test/--nbest-dev are for --scale paper; at --scale $SCALE the baseline is built by Table 2"
fi
if { [ -n "$NBEST_TEST" ] && [ -z "$NBEST_DEV" ]; } || { [ -z "$NBEST_TEST" ] && [ -n "$NBEST_DEV" ]; }; then
  die "--nbest-test and --nbest-dev go together (the test lists to rescore, the dev lists to tune on)"
fi
for f in "$NBEST_TEST" "$NBEST_DEV"; do
  [ -z "$f" ] || [ -f "$(abs_path "$f")" ] || die "n-best list not found: $f"
done
STOP_AFTER_TABLE1=""
if [ "$SCALE" = paper ] && [ -z "$NBEST_TEST" ]; then
  STOP_AFTER_TABLE1="Table 2 at --scale paper rescores the baseline's 1000-best lists of the test and dev sets, which are not built here and were not given: rerun with --nbest-test FILE --nbest-dev FILE (Moses n-best format) to add Table 2 and the analysis; Table 1's finished steps will be skipped"
  say "no --nbest-test/--nbest-dev: this run stops after Table 1 (see the end)"
fi
# A paper-scale run at overridden sizes writes its Table 1 to WORK/results, never to
# results/: its Table 2 and analysis go beside it (WORK as the scripts resolve it: a
# given one from the caller's directory, the default one under the repository)
if [ -n "$OVERRIDES" ] && [ -z "$RESULTS" ]; then
  COMMON+=(--results "${WORK:-$ROOT/work/$SCALE}/results")
fi

# The work dir is held for the whole run (lib.sh lock_work): the scripts below, started
# from here, inherit the lock, and no other run gets in between them.
[ -n "$DRY" ] || lock_work "$(abs_path "${WORK:-$ROOT/work/$SCALE}")"

# Each script from the caller's directory, with the options it takes.
show() { printf 'bash scripts/'; printf '%q ' "$@"; echo; }
script() {
  local name=$1; shift
  say "running $(show "$name" "$@")"
  (cd "$CALLER_PWD" && bash "$ROOT/scripts/$name" "$@") || die "scripts/$name (exit $?): see the error above; rerunning this command keeps every finished step"
}
t0=$SECONDS
table1=(reproduce_table1.sh ${COMMON[@]+"${COMMON[@]}"} ${T1[@]+"${T1[@]}"} --forward-seeds "$FORWARD_SEEDS")
script "${table1[@]}" ${DRY:+--dry-run}
if [ -n "$STOP_AFTER_TABLE1" ]; then
  [ -z "$DRY" ] || { say "dry run: stops here. $STOP_AFTER_TABLE1"; exit 0; }
  die "Table 1 is done; stopping before Table 2. $STOP_AFTER_TABLE1"
fi
table2=(reproduce_table2.sh ${COMMON[@]+"${COMMON[@]}"} ${T2[@]+"${T2[@]}"})
analysis=(analyze.sh ${COMMON[@]+"${COMMON[@]}"} ${AN[@]+"${AN[@]}"})
if [ -n "$DRY" ]; then
  say "dry run: Table 2 and the analysis have no dry run; they would follow as"
  { show "${table2[@]}"; show "${analysis[@]}"; show "${table1[@]}"; } >&3
  exit 0
fi
script "${table2[@]}"
script "${analysis[@]}"
# Table 2 has written the baseline's BLEU: Table 1 again, every step skipped, its table
# rewritten with the baseline row filled
script "${table1[@]}"
say "all done in $((SECONDS - t0)) s: Table 1, Table 2 and the analysis (see the lines above for where each went)"
