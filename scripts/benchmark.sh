#!/usr/bin/env bash
# Speed of sutskever_lstm vs fairseq's built-in lstm (issue 7): sets up .venv if needed,
# then runs scripts/benchmark.py with the given arguments, e.g.
#   bash scripts/benchmark.sh            # full run, ~10 min on 2 cores: results/benchmark.{md,csv}
#   bash scripts/benchmark.sh --quick    # < 60 s smoke run (what tests/test_benchmark.py does)
#   bash scripts/benchmark.sh --profile --sizes small   # torch.profiler tables
# What the speed buys (issue 15):
#   bash scripts/benchmark.sh --quality [--budget-minutes 20] ...   # scripts/quality.sh:
#       both models trained side by side for the same wall clock, val ppl against time and
#       test BLEU: results/quality_small.{md,csv,png}
# Where the main job's own time goes: python -m sutskever_plugin.reporting.job_time
#   --work work/small --out results (results/job_time_small.md, from reproduce_table1.sh's logs)
set -euo pipefail
# (before the cd: quality.sh resolves relative paths from the caller's directory)
if [ "${1:-}" = --quality ]; then shift; exec bash "$(dirname "$0")/quality.sh" "$@"; fi
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python scripts/benchmark.py "$@"
