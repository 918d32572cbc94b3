#!/usr/bin/env bash
# Usage: deploy/check.sh [BINARY]   (default: .build/debug/radixserve)
#
# Checks the deployment files of deploy/ against a built radixserve binary, offline: the systemd
# units (systemd-analyze verify), the Kubernetes manifests (rendered and schema-validated) and
# the container image's runtime stage (ldd of the binary against its packages). Runs all three
# and exits 1 if any failed. CI runs it from scripts/test.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/debug/radixserve}

failed=()
run() {
    local name=$1
    shift
    echo "== deploy check: $name"
    local start=$SECONDS
    if "$@"; then
        echo "== $name: passed ($((SECONDS - start)) s)"
    else
        echo "== $name: FAILED" >&2
        failed+=("$name")
    fi
}
run systemd deploy/check-systemd.sh "$binary"
run kubernetes deploy/check-kubernetes.sh
run "runtime libraries" deploy/check-runtime-libraries.sh "$binary" deploy/Containerfile

if ((${#failed[@]})); then
    echo "deploy checks failed: ${failed[*]}" >&2
    exit 1
fi
echo "deploy checks passed"
