#!/usr/bin/env bash
# Creates .venv-peer: a Python with torch (CPU), transformers and safetensors, the independent
# reference that test/infer/hf-transformers.test.ts checks dsllm's HF-format support against.
# Idempotent (an existing venv that already imports them is left alone) and tolerant: when Python or
# the packages are not available it says so and exits 0, and that test skips with a message.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV_PEER:-.venv-peer}
PY=${PYTHON:-python3}
check() { "$VENV/bin/python" -c 'import torch, transformers, safetensors' >/dev/null 2>&1; }
if [ -x "$VENV/bin/python" ] && check; then
  echo "setup-hf-peer: $VENV ready ($("$VENV/bin/python" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'))"
  exit 0
fi
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "setup-hf-peer: no $PY on PATH; the transformers reference test will skip"; exit 0
fi
if [ ! -x "$VENV/bin/python" ] && ! "$PY" -m venv "$VENV" >/dev/null 2>&1; then
  rm -rf "$VENV"
  echo "setup-hf-peer: '$PY -m venv' failed (python3-venv missing?); the transformers reference test will skip"; exit 0
fi
# --retries 0: an offline machine with a local mirror (pip.conf extra-index-url / find-links) would
# otherwise spend minutes in back-off retrying the unreachable default index for every package
if ! "$VENV/bin/pip" install -q --disable-pip-version-check --retries 0 --timeout 15 torch transformers safetensors >"$VENV/pip.log" 2>&1; then
  echo "setup-hf-peer: could not install torch/transformers/safetensors (see $VENV/pip.log); the transformers reference test will skip"; exit 0
fi
if check; then
  echo "setup-hf-peer: $VENV ready ($("$VENV/bin/python" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'))"
else
  echo "setup-hf-peer: packages installed but do not import (see $VENV/pip.log); the transformers reference test will skip"
fi
exit 0
