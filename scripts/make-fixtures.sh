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

source scripts/python-env.sh
"$PYTHON" scripts/fixtures/make_tokenizers.py
if [[ "${1:-}" != "--tokenizers-only" ]]; then
    "$PYTHON" scripts/fixtures/make_models.py
fi
du -sh Tests/Fixtures
