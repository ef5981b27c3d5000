#!/usr/bin/env bash
# Creates ./.venv with torch, fairseq and this plugin installed (once; reruns are instant).
#   TORCH_SPEC   torch requirement to install first (default: torch==2.13.0, the CPU
#                wheel this project is tested with; GPU users: TORCH_SPEC=torch).
#   PYTHON       interpreter to build the venv from (default: python3; 3.10-3.12).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.installed
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ ! setup.py -nt "$stamp" ]; then
  exit 0
fi
echo "[setup] creating .venv and installing torch, fairseq and sutskever-seq2seq" >&2
"${PYTHON:-python3}" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build on a CPU box
.venv/bin/python -m pip install -q "${TORCH_SPEC:-torch==2.13.0}"
.venv/bin/python -m pip install -q -e ".[test]"
echo "[setup] $(.venv/bin/python -m sutskever_plugin.machine describe)" >&2   # the plugin imports
touch "$stamp"
