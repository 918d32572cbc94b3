#!/usr/bin/env bash
# Runs `radixserve certify` on the CPU backend and on every in-tree plugin that was built, writes
# each report to .build/certify/<name>.json and validates it against docs/certify-report.schema.json.
# Usage: scripts/certify.sh [-c debug|release] [extra certify flags, e.g. --full or --only ops,models]
# CI runs it in quick mode on the debug build: the performance figures of a debug build only show
# that the section runs; certify a release build for numbers (docs/CERTIFY.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
config=debug
if [[ "${1:-}" == "-c" ]]; then config="$2"; shift 2; fi
swift build -c "$config" --product radixserve >/dev/null
swift build -c "$config" --product RadixServeReferencePlugin >/dev/null
bin="$(swift build -c "$config" --show-bin-path)"
backends=(cpu "plugin:$bin/libRadixServeReferencePlugin.so")
if [[ -e /usr/include/CL/cl.h ]]; then
    swift build -c "$config" --product RadixServeOpenCLPlugin >/dev/null
    backends+=("plugin:$bin/libRadixServeOpenCLPlugin.so")
fi
mkdir -p .build/certify
status=0
for backend in "${backends[@]}"; do
    name="$(basename "${backend#plugin:}" .so)"
    echo "== certify $backend"
    if ! "$bin/radixserve" certify --backend "$backend" --json ".build/certify/$name.json" "$@"; then status=1; fi
    "$PYTHON" - ".build/certify/$name.json" <<'PY'
import json, sys
import jsonschema
report = json.load(open(sys.argv[1]))
jsonschema.validate(report, json.load(open("docs/certify-report.schema.json")))
assert report["passed"] == all(c["status"] != "fail" for c in report["checks"]), "passed disagrees with the checks"
print(f"{sys.argv[1]}: valid report, {len(report['checks'])} checks")
PY
done
exit "$status"
