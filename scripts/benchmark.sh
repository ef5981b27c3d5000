#!/usr/bin/env bash
# Speed of sutskever_lstm vs fairseq's built-in lstm (issue 7): sets up .venv if needed,
# then runs scripts/benchmark.py with the given arguments, e.g.
#   bash scripts/benchmark.sh            # full run, ~10 min on 2 cores: results/benchmark.{md,csv}
#   bash scripts/benchmark.sh --quick    # < 60 s smoke run (what tests/test_benchmark.py does)
#   bash scripts/benchmark.sh --profile --sizes small   # torch.profiler tables
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python scripts/benchmark.py "$@"
