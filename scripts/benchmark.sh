#!/usr/bin/env bash
# Speed of sutskever_lstm vs fairseq's built-in lstm (issue 7): sets up .venv if needed,
# then runs scripts/benchmark.py with the given arguments, e.g.
#   bash scripts/benchmark.sh            # full run, ~10 min on 2 cores: results/benchmark.{md,csv}
#   bash scripts/benchmark.sh --quick    # < 60 s smoke run (what tests/test_benchmark.py does)
#   bash scripts/benchmark.sh --profile --sizes small   # torch.profiler tables
#   bash scripts/benchmark.sh --quality ...   # what the speed buys: scripts/quality.sh
set -euo pipefail
# (before the cd: quality.sh resolves relative paths from the caller's directory)
if [ "${1:-}" = --quality ]; then shift; exec bash "$(dirname "$0")/quality.sh" "$@"; fi
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python scripts/benchmark.py "$@"
