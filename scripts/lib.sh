# Shared by the scripts/*.sh pipelines (source it): the venv, step bookkeeping,
# one summary line per step, failures that name the step.
# Callers set TAG (the prefix of every line) before sourcing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
FS="$ROOT/.venv/bin"            # fairseq-train, fairseq-generate, ... of the venv
DRY_RUN=${DRY_RUN:-0}
exec 3>&1                       # the terminal's stdout, for --dry-run listings

say()  { echo "[$TAG] $*"; }
die()  { echo "[$TAG] FAILED: $*" >&2; exit 1; }

# Run a command, or only print it under --dry-run.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    { printf '%q ' "$@"; echo; } >&3
  else
    "$@"
  fi
}

# step NAME DONE_FILE CMD...: skip when DONE_FILE exists (a finished step writes it
# last, atomically), else run CMD; a failure stops the pipeline naming the step.
step() {
  local name=$1 done_file=$2; shift 2
  if [ "$DRY_RUN" != 1 ] && [ -e "$done_file" ]; then
    say "$name: already done, skipped ($done_file)"
    return 0
  fi
  local t0=$SECONDS
  "$@" || die "step '$name' (exit $?); rerun the same command to resume"
  [ "$DRY_RUN" = 1 ] || say "$name: done in $((SECONDS - t0)) s"
}

setup_venv() {
  [ "$DRY_RUN" = 1 ] && [ ! -x "$PY" ] && { say "dry run: venv not created"; return 0; }
  bash "$ROOT/scripts/setup_env.sh"
}
