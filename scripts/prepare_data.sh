#!/usr/bin/env bash
# Prepare the data (thin wrapper around `python -m sutskever_plugin.data.prepare`).
#   bash scripts/prepare_data.sh --dataset multi30k --scale small --raw-dir ../shared/data/multi30k --out work/data
#   bash scripts/prepare_data.sh --dataset wmt14 --scale paper --out work/wmt14 --dry-run
#   bash scripts/prepare_data.sh --help
# Uses the repository's .venv when there is one and none is active.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${VIRTUAL_ENV:-}" && -f "$ROOT/.venv/bin/activate" ]]; then
  # shellcheck disable=SC1091
  . "$ROOT/.venv/bin/activate"
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python -m sutskever_plugin.data.prepare "$@"
