#!/usr/bin/env bash
# Single-process throughput of the 56M-parameter reference Llama (f32 and bf16 weights), with the
# transformers baseline measured in the same run. Prints one line per measurement.
# Usage: scripts/bench.sh [THREADS]   (generates bench-models/ on first use; needs Python + torch)
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-2}"
scripts/setup.sh
source scripts/python-env.sh   # pinned torch/transformers for the baseline and the benchmark model
swift build -c release --product radixserve
for dtype in f32 bf16; do
    dir="bench-models/llama-56m-$dtype"
    [[ -f "$dir/config.json" ]] || "$PYTHON" scripts/fixtures/make_models.py --bench-model "$dir" --dtype "$dtype"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for dtype in f32 bf16; do
    dir="bench-models/llama-56m-$dtype"
    echo "radixserve $dtype: $(.build/release/radixserve bench --model "$dir" --threads "$threads" --runs 5 --json)"
    echo "transformers $dtype: $("$PYTHON" scripts/bench_transformers.py --model "$dir" --threads "$threads" --runs 3)"
done
