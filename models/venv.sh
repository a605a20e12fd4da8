#!/usr/bin/env bash
# Creates (or reuses) the training venv and prints its python's path on standard output.
#
# The venv lives outside the repository, in ${DAGR_TRAIN_VENV:-$HOME/.cache/dagr/train-venv},
# and holds the pinned dependencies of models/pyproject.toml (torch, onnx, onnxruntime,
# numpy, safetensors, matplotlib, pytest, ruff). It is rebuilt only when that dependency
# list changes (the venv keeps a copy as requirements.txt). The package itself is not
# installed: run it from models/ (`python -m dagr_train ...`) or with PYTHONPATH=models,
# so one venv serves every checkout. First run: about 5.7 GB (torch brings its CUDA
# libraries; no CPU-only wheel is used), about 4 minutes.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${DAGR_TRAIN_VENV:-$HOME/.cache/dagr/train-venv}"
WANTED="$(python3 -c '
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["dependencies"]))
' "$HERE/pyproject.toml")"
if [ "$WANTED" != "$(cat "$VENV/requirements.txt" 2>/dev/null)" ] || [ ! -x "$VENV/bin/python" ]; then
    echo "creating the training venv in $VENV (pinned in models/pyproject.toml)" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip >&2
    printf '%s\n' "$WANTED" > "$VENV/requirements.tmp"
    "$VENV/bin/pip" install --quiet -r "$VENV/requirements.tmp" >&2
    mv "$VENV/requirements.tmp" "$VENV/requirements.txt"
fi
echo "$VENV/bin/python"
