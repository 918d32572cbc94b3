#!/usr/bin/env bash
# Regenerate the tokenizer and tiny-model fixtures under Tests/Fixtures.
# Installs the pinned Python packages first when they are missing.
#
#   scripts/make-fixtures.sh                   # tokenizers, then models
#   scripts/make-fixtures.sh --tokenizers-only
#
# The output is deterministic: rerunning it leaves the committed files unchanged.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

have_pinned_deps() {
    "$PYTHON" - <<'PY'
import importlib.metadata as md, sys
want = {"torch": "2.13.0+cpu", "transformers": "5.24.0", "tokenizers": "0.23.3", "safetensors": None}
try:
    ok = all(v is None or md.version(k) == v for k, v in want.items())
except md.PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
PY
}

if ! have_pinned_deps; then
    echo "installing pinned fixture dependencies" >&2
    "$PYTHON" -m pip install -r scripts/requirements-fixtures.txt
fi

export TOKENIZERS_PARALLELISM=false
export PYTHONDONTWRITEBYTECODE=1
"$PYTHON" scripts/fixtures/make_tokenizers.py
if [[ "${1:-}" != "--tokenizers-only" ]]; then
    "$PYTHON" scripts/fixtures/make_models.py
fi
du -sh Tests/Fixtures
