#!/usr/bin/env bash
# The test suite, from a fresh checkout: sets up .venv if needed, then runs pytest.
# Extra arguments go to pytest (e.g. bash scripts/test.sh -k lr_schedule).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/python -m pytest -q "$@" tests
