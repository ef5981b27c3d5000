#!/usr/bin/env bash
# Speed of sutskever_lstm vs fairseq's built-in lstm (docs/speed.md): sets up .venv if needed,
# then runs scripts/benchmark.py with the given arguments (--help lists them);
# --quality ...: what the speed buys, scripts/quality.sh.
set -euo pipefail
# (before the cd: quality.sh resolves relative paths from the caller's directory)
if [ "${1:-}" = --quality ]; then shift; exec bash "$(dirname "$0")/quality.sh" "$@"; fi
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python scripts/benchmark.py "$@"
