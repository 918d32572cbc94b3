#!/usr/bin/env bash
# Installs dependencies, builds a release binary, brings up a local cluster (a router and two
# workers on the bundled demo model, models/demo), asks it for a chat answer and a story over its
# OpenAI-compatible HTTP API, lists the workers, and stops everything.
#   KEEP=1     leave the cluster running afterwards (Ctrl-C stops it)
#   MODEL=DIR  serve another Hugging Face checkpoint directory; WORKERS=N, PORT=P (default: any free port)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product radixserve
bin=.build/release/radixserve
log=$(mktemp)
$bin up --model "${MODEL:-models/demo}" --workers "${WORKERS:-2}" --http-port "${PORT:-0}" >"$log" 2>&1 &
up_pid=$!
trap 'kill -INT $up_pid 2>/dev/null || true; wait $up_pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 600); do
    grep -q "Ctrl-C" "$log" && break
    kill -0 $up_pid 2>/dev/null || { cat "$log"; echo "error: the cluster did not start" >&2; exit 1; }
    sleep 0.2
done
url=$(grep -o 'http://[0-9.]*:[0-9]*' "$log" | head -1)
[[ -n "$url" ]] || { cat "$log"; echo "error: the cluster did not report its URL" >&2; exit 1; }
grep -v "^  " "$log" | grep "radixserve up"
echo "== chat: Where does Mira live? =="
$bin chat --url "$url" --message "Where does Mira live?" --max-tokens 64 --temperature 0
echo "== completion: a story, streamed =="
$bin generate --url "$url" --prompt "${PROMPT:-Once upon a time, there was a little fox named}" --max-tokens 64 --temperature 0
echo "== workers =="
$bin workers list --url "$url"
if [[ "${KEEP:-0}" == 1 ]]; then
    echo "the cluster keeps serving on $url; Ctrl-C stops it"
    wait $up_pid
fi
