#!/usr/bin/env bash
# Creates (or reuses) the training venv and prints its python's path on standard output.
#
# The venv lives outside the repository, in ${DAGR_TRAIN_VENV:-$HOME/.cache/dagr/train-venv},
# and holds the pinned dependencies of models/pyproject.toml (torch, onnx, onnxruntime,
# numpy, safetensors, matplotlib, pytest, ruff). It is rebuilt only when pyproject.toml
# changes (a copy is kept in the venv as .pyproject). The package itself is not installed:
# run it from models/ (`python -m dagr_train ...`) or with PYTHONPATH=models, so one venv
# serves every checkout. First run: about 5.5 GB (torch ships its CUDA libraries), ~2 min.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${DAGR_TRAIN_VENV:-$HOME/.cache/dagr/train-venv}"
PYPROJECT="$HERE/pyproject.toml"
if ! cmp -s "$PYPROJECT" "$VENV/.pyproject" 2>/dev/null; then
    echo "creating the training venv in $VENV (pinned in $PYPROJECT)" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip >&2
    "$VENV/bin/python" -c '
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["dependencies"]))
' "$PYPROJECT" > "$VENV/requirements.txt"
    "$VENV/bin/pip" install --quiet -r "$VENV/requirements.txt" >&2
    cp "$PYPROJECT" "$VENV/.pyproject"
fi
echo "$VENV/bin/python"
