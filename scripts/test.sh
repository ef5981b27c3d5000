#!/usr/bin/env bash
# The test suite, from a fresh checkout: sets up .venv if needed, then runs pytest.
#   bash scripts/test.sh          the fast tier: unit tests and one shared tiny run (-m "not slow")
#   bash scripts/test.sh --slow   the slow tier only: the end-to-end pipelines (@pytest.mark.slow)
#   bash scripts/test.sh --all    both tiers in one run (what CI runs: .ci/run)
# Times on 2 cores: the README's first lines (results/test_tiers.txt). Every test has a
# time limit (pytest-timeout, pytest.ini) and each run ends with its slowest tests. Other
# arguments go to pytest (e.g. bash scripts/test.sh -k lr_schedule; a -m of your own
# replaces the tier's).
set -euo pipefail
cd "$(dirname "$0")/.."
tier=(-m "not slow")
args=()
for a in "$@"; do
  case "$a" in
    --slow) tier=(-m slow) ;;
    --all) tier=() ;;
    *) args+=("$a") ;;
  esac
done
bash scripts/setup_env.sh
exec .venv/bin/python -m pytest -q ${tier[@]+"${tier[@]}"} ${args[@]+"${args[@]}"} tests
