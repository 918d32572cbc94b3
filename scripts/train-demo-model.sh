#!/usr/bin/env bash
# Train the bundled demo model from scratch and write it to models/demo/.
# Installs the pinned Python packages first when they are missing.
#
#   scripts/train-demo-model.sh            # corpus, tokenizer, model, reference.json, evaluation
#
# Environment:
#   PYTHON=python3          interpreter to use
#   WORK_DIR=<temp dir>     where the generated corpus and the evaluation report go
#   OUT_DIR=models/demo     where the model goes
#   NICE=19                 CPU priority of every step (the machine may be shared)
#
# Seeds are fixed (corpus 1, validation 1001, training 1234); with the same package
# versions and thread count (2) a rerun gives the same model. See docs/DEMO_MODEL.md.
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
OUT_DIR="${OUT_DIR:-models/demo}"
WORK_DIR="${WORK_DIR:-$(mktemp -d -t demo-model.XXXXXX)}"
NICE="${NICE:-19}"

source scripts/python-env.sh
export PYTHONHASHSEED=0
OUT_ABS="$(mkdir -p "$OUT_DIR" && cd "$OUT_DIR" && pwd)"
mkdir -p "$WORK_DIR"
run() { (cd scripts/demo_model && nice -n "$NICE" "$PYTHON" "$@"); }

echo "== corpus ($WORK_DIR/corpus)" >&2
run make_corpus.py --out "$WORK_DIR/corpus" --train-docs 80000 --valid-docs 1000 --seed 1
echo "== tokenizer" >&2
run train_tokenizer.py --corpus "$WORK_DIR/corpus" --out "$WORK_DIR/tokenizer" --vocab-size 4096
echo "== model" >&2
run train.py --corpus "$WORK_DIR/corpus" --tokenizer "$WORK_DIR/tokenizer" --out "$OUT_ABS" \
    --seed 1234 --steps 500 --batch 16 --seq-len 256 --lr 2e-3 --warmup 50 \
    --hidden 256 --intermediate 640 --layers 4 --heads 8 --kv-heads 4 --threads 2 \
    --log "$WORK_DIR/train_log.jsonl"
echo "== reference.json" >&2
run make_reference.py --model "$OUT_ABS"
echo "== evaluation ($WORK_DIR/evaluation.json)" >&2
run evaluate.py --model "$OUT_ABS" --corpus "$WORK_DIR/corpus" --json "$WORK_DIR/evaluation.json"
du -sh "$OUT_ABS"
