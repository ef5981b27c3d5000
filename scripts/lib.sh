# Shared by the scripts/*.sh pipelines (source it): the venv, step bookkeeping,
# one summary line per step, failures that name the step.
# Callers set TAG (the prefix of every line) before sourcing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CALLER_PWD=$PWD                 # relative paths given by the user are resolved from here
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
FS="$ROOT/.venv/bin"            # fairseq-train, fairseq-generate, ... of the venv
DRY_RUN=${DRY_RUN:-0}
exec 3>&1                       # the terminal's stdout, for --dry-run listings

say()  { echo "[$TAG] $*"; }
die()  { echo "[$TAG] FAILED: $*" >&2; exit 1; }

# stop_jobs PID...: stop background steps and what they started (a pool's EXIT trap: a
# failed or interrupted step takes the ones beside it down). Every kill may find its
# process gone (the failed step itself): under set -e one such failure would end the
# trap before it reached the others.
stop_jobs() {
  local pid
  for pid in "$@"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
}

# Run a command, or only print it under --dry-run.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    { printf '%q ' "$@"; echo; } >&3
  else
    "$@"
  fi
}

# step NAME DONE_FILE [--inputs PATH... --] CMD...: run CMD unless DONE_FILE exists and
# was made from the same inputs. The key (sutskever_plugin/steps.py: sha256 of CMD's words
# and of the contents of every input PATH, a directory with all its files) is stored in
# DONE_FILE.key after the step (step_fresh and step_done below, which the trainings of
# reproduce_table1.sh use too); a changed input or option, or a DONE_FILE without a key,
# redoes the step. A step writes DONE_FILE last, atomically; a failure stops the pipeline
# naming the step.
step() {
  local name=$1 done_file=$2; shift 2
  local inputs=()
  if [ "${1:-}" = --inputs ]; then
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do inputs+=("$1"); shift; done
    [ $# -gt 0 ] || die "step '$name': --inputs without its closing --"
    shift
  fi
  if [ "$DRY_RUN" = 1 ]; then "$@"; return; fi
  local rec
  rec=$(step_key --base "$(dirname "$done_file")" "$@" ${inputs[@]+--inputs "${inputs[@]}"}) || die "step '$name': cannot key it on its inputs (see above)"
  if step_fresh "$done_file" "$rec"; then
    say "$name: already done, skipped ($done_file)"
    timeline "$name" "$(date -u +%s)" skipped
    return 0
  fi
  if [ -e "$done_file" ]; then
    say "$name: redoing it, its inputs or options changed since $done_file was made"
    rm -f "$done_file" "$done_file.key"
  fi
  local t0=$SECONDS t0_utc status
  t0_utc=$(date -u +%s)
  "$@" || { status=$?; timeline "$name" "$t0_utc" failed; die "step '$name' (exit $status): see the error above; once it is fixed, rerunning the same command redoes this step and keeps the finished ones"; }
  [ -e "$done_file" ] || die "step '$name' ended without writing $done_file"
  step_done "$done_file" "$rec"
  timeline "$name" "$t0_utc" done
  say "$name: done in $((SECONDS - t0)) s"
}

# pool NAME CMD...: CMD in the background beside others, POOL_JOBS at a time on
# POOL_THREADS threads each, when the caller sets POOL_JOBS (and ends with pool_wait); at
# once otherwise. A failed job or Ctrl-C stops the jobs beside it too (an EXIT trap while
# pooled jobs run, removed by pool_wait once all are waited for), rather than leaving one
# writing into the work directory a rerun then redoes.
# pool_step NAME DONE_FILE [step's options] -- CMD...: step, in the pool.
POOL_JOBS=0 POOL_THREADS=1
declare -A POOL_RUNNING=()
pool() {
  local name=$1; shift
  if [ "$POOL_JOBS" = 0 ] || [ "$DRY_RUN" = 1 ]; then "$@"; return; fi
  while [ ${#POOL_RUNNING[@]} -ge "$POOL_JOBS" ]; do pool_wait_one; done
  trap 'stop_jobs "${!POOL_RUNNING[@]}"' EXIT
  OMP_NUM_THREADS=$POOL_THREADS "$@" &
  POOL_RUNNING[$!]=$name
}
pool_step() { pool "$1" step "$@"; }
pool_wait_one() {
  local pid
  wait -n -p pid "${!POOL_RUNNING[@]}" || die "step '${POOL_RUNNING[$pid]}' failed (see above); once it is fixed, rerunning the same command redoes it and keeps the finished steps"
  unset "POOL_RUNNING[$pid]"
}
pool_wait() {
  while [ ${#POOL_RUNNING[@]} -gt 0 ]; do pool_wait_one; done
  trap - EXIT
}
# cores: the cores this process may use; SUTSKEVER_CORES overrides the count (the tests
# fake a bigger machine with it). nproc alone would honour OMP_NUM_THREADS, which is a
# thread setting of the caller's, not a core count.
cores() {
  if [ -n "${SUTSKEVER_CORES:-}" ]; then
    int_opt SUTSKEVER_CORES SUTSKEVER_CORES 1
    echo "$SUTSKEVER_CORES"
  else
    env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc
  fi
}

# timeline NAME START STATUS: one line per step (START in epoch seconds, STATUS done,
# skipped or failed) appended to $STEP_LOG when the caller sets it: the job's own time,
# divided by python -m sutskever_plugin.reporting.job_time. Columns (tab-separated): UTC
# start, UTC end, wall seconds, status, step name.
timeline() {
  [ -n "${STEP_LOG:-}" ] && [ "$DRY_RUN" != 1 ] || return 0
  local now; now=$(date -u +%s)
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u -d "@$2" +%FT%TZ)" "$(date -u -d "@$now" +%FT%TZ)" \
    $((now - $2)) "$3" "$1" >> "$STEP_LOG"
}

# step_key CMD... [--inputs PATH...]: the record (key line, then the inputs' digests)
step_key() { "$PY" "$ROOT/sutskever_plugin/steps.py" key "$@"; }
# The one skip-if-done test and record of every step (`step`, and the trainings of
# reproduce_table1.sh, which run in their own pool and resume from checkpoints):
# same_key FILE RECORD: FILE.key was recorded with RECORD's key (its first line)
same_key() { [ "$(head -n 1 "$1.key" 2>/dev/null)" = "${2%%$'\n'*}" ]; }
# step_fresh DONE_FILE RECORD: DONE_FILE exists and was made from RECORD's inputs
step_fresh() { [ -e "$1" ] && same_key "$1" "$2"; }
# step_done DONE_FILE RECORD: store RECORD in DONE_FILE.key, atomically (after DONE_FILE)
step_done() { printf '%s' "$2" > "$1.key.tmp" && mv -f "$1.key.tmp" "$1.key"; }

# The digests of big unchanged files (models, corpora) are computed once per work dir.
digest_cache() { export SUTSKEVER_DIGEST_CACHE="$1/.digests.json"; }

# Option checks, before anything is done: one line naming the option.
need_value() { [ $# -ge 2 ] && [ -n "$2" ] && [[ $2 != --* ]] || die "$1 needs a value (see the header of $0)"; }
# int_opt VAR OPTION MIN: the one parser of every script's integer options. The value in
# $VAR must be base-10 digits only (no sign, space, exponent or 0x; leading zeros are
# allowed and read in base 10: 08 is eight, never octal), at most 15 of them, and >= MIN;
# VAR is then rewritten in plain decimal, so that bash arithmetic and test, the commands
# it goes on to and the steps' keys all read the same number. VAR may be an array
# element ("NWORDS[1]").
int_opt() {  # (its locals are prefixed: a caller's variable of the same name would be hidden)
  local _int_v=${!1}
  [[ $_int_v =~ ^[0123456789]{1,15}$ ]] && [ "$((10#$_int_v))" -ge "$3" ] \
    || die "$2 must be an integer >= $3 (got '$_int_v')"
  printf -v "$1" '%d' "$((10#$_int_v))"
}
check_scale() {
  case $1 in tiny|small|paper) ;; *) die "--scale must be tiny, small or paper (got '$1')" ;; esac
}
# abs_path PATH: PATH resolved against the caller's directory (the scripts cd to the
# repository root, so relative paths are resolved before that, from CALLER_PWD)
abs_path() { case $1 in /*) echo "$1" ;; *) echo "$CALLER_PWD/$1" ;; esac; }
# out_dir_ok OPTION DIR: DIR, where the run writes (created if missing), must be a
# directory it can write in: refused, naming OPTION, when DIR or a directory above it is a
# file, or when the nearest existing one refuses a write (tried by writing a file, since
# root's test -w says yes to a read-only mount). Nothing is created.
out_dir_ok() {
  local opt=$1 dir=$2 d=$2 probe
  while [ ! -e "$d" ] && [ ! -L "$d" ]; do d=$(dirname "$d"); done
  if [ ! -d "$d" ]; then
    [ "$d" = "$dir" ] && die "$opt $dir is a file, not a directory: give $opt a directory (it is created if missing)"
    die "$opt $dir: $d is a file, not a directory: give $opt a path under a directory"
  fi
  probe=$d/.write_test.$$
  if ( : > "$probe" ) 2>/dev/null; then rm -f "$probe"; return 0; fi
  die "$opt $dir: cannot write in $d (read-only, or not yours): give $opt a directory you can write in, or make $d writable"
}

# lock_work WORK: hold the work directory for this run and the processes it starts, until
# the last of them ends. A second run on the same directory stops at once (exit 1),
# saying which run holds it and since when: two runs in one directory would delete each
# other's checkpoints. flock(1) on WORK/.lock: the kernel drops the lock when its last
# holder ends, however it ends (kill -9 included), so a killed run leaves no stale lock
# behind, and the next run simply takes it; the file's one line (pid, host, start, command)
# only feeds the message. A script started by a run that holds the lock (reproduce_paper.sh
# runs the others) inherits it. Not taken under --dry-run, which writes nothing. WORK is
# created if missing (out_dir_ok first: a file named as WORK is refused in one line).
lock_work() {
  [ "$DRY_RUN" = 1 ] && return 0
  local work=$1 lock held pid host
  out_dir_ok --work "$work"
  mkdir -p "$work" || die "cannot create the work directory $work"
  lock=$work/.lock
  if [ -n "${SUTSKEVER_WORK_LOCK_FD:-}" ] && [ "/dev/fd/$SUTSKEVER_WORK_LOCK_FD" -ef "$lock" ] \
     && flock -n "$SUTSKEVER_WORK_LOCK_FD" 2>/dev/null; then
    return 0   # the lock of the run that started this one, its descriptor inherited
  fi
  exec {WORK_LOCK_FD}>>"$lock" || die "cannot open the lock file $lock"
  # a run killed a moment ago may take that long to be gone entirely
  if ! flock -w 1 "$WORK_LOCK_FD"; then
    held=$(head -n 1 "$lock" 2>/dev/null || true)
    read -r _ pid _ host _ <<< "$held" || true
    if [ "$host" = "$(hostname)" ] && [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then
      die "$work is in use by processes that a run which has ended started ($held), and they may still write there: wait for them or stop them, or give this run another --work"
    fi
    die "$work is in use by another run (${held:-one that is just starting}): wait for it to end, or give this run another --work"
  fi
  printf 'pid %s on %s since %s: %s\n' "$$" "$(hostname)" "$(date -u +%FT%TZ)" \
    "${COMMAND:-bash scripts/$(basename "$0")}" > "$lock"
  export SUTSKEVER_WORK_LOCK_FD=$WORK_LOCK_FD
}

setup_venv() {
  [ "$DRY_RUN" = 1 ] && [ ! -x "$PY" ] && { say "dry run: venv not created"; return 0; }
  bash "$ROOT/scripts/setup_env.sh"
}
