#!/usr/bin/env bash
# Installs dependencies, builds a release binary, and asks the bundled demo model (models/demo)
# for a story and a chat answer. Pass MODEL=DIR to use another Hugging Face checkpoint directory.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product radixserve
model="${MODEL:-models/demo}"
bin=.build/release/radixserve
echo "== completion =="
$bin generate --model "$model" --prompt "${PROMPT:-Once upon a time, there was a little fox named}" --max-tokens 64
echo "== chat =="
$bin generate --model "$model" --chat "${CHAT:-Where does Mira live?}" --max-tokens 64
echo "== chat, two tensor-parallel ranks =="
$bin generate --model "$model" --chat "Tell me a story about an owl." --max-tokens 64 --tp 2
