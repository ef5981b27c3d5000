#!/usr/bin/env bash
# Prepare the data: `python -m sutskever_plugin.data.prepare "$@"` (examples: --help), in
# the repository's .venv when there is one and none is active.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${VIRTUAL_ENV:-}" && -f "$ROOT/.venv/bin/activate" ]]; then
  # shellcheck disable=SC1091
  . "$ROOT/.venv/bin/activate"
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python -m sutskever_plugin.data.prepare "$@"
