#!/usr/bin/env bash
# Usage: deploy/check-kubernetes.sh
#
# Renders deploy/kubernetes (the base and the tensor-parallel overlay) and validates every
# object offline: deploy/kubernetes/validate.py says what is checked. Needs the Python package
# kubernetes-validate (scripts/setup.sh installs the pinned version).
set -euo pipefail
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import kubernetes_validate" 2>/dev/null; then
    echo "error: the Python package kubernetes-validate is missing: run scripts/setup.sh" >&2
    exit 1
fi
"$PYTHON" "$(dirname "$0")/kubernetes/validate.py" "$(dirname "$0")/kubernetes"
