#!/usr/bin/env bash
# Sourced by the Python-based scripts: installs the pinned torch/transformers/tokenizers from
# scripts/requirements-fixtures.txt when missing, and sets deterministic Python settings.
# Expects to run from the repository root; honours $PYTHON (default python3).
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" - <<'PY'
import importlib.metadata as md, sys
want = {"torch": "2.13.0+cpu", "transformers": "5.24.0", "tokenizers": "0.23.3", "safetensors": None}
try:
    ok = all(v is None or md.version(k) == v for k, v in want.items())
except md.PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
PY
then
    echo "installing pinned Python dependencies" >&2
    "$PYTHON" -m pip install -r scripts/requirements-fixtures.txt
fi

export TOKENIZERS_PARALLELISM=false
export PYTHONDONTWRITEBYTECODE=1
