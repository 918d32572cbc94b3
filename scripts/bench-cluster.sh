#!/usr/bin/env bash
# Serving benchmark of a local cluster: the shared-prefix workload (32 groups × 8 requests,
# 512-token shared prefix, 64-token question, 32 output tokens, 16 in flight) against
#   1 worker (the hit-rate ceiling: one cache sees every request),
#   4 workers with round-robin dispatch, and 4 workers with cache-aware dispatch,
# each on a fresh cluster, then prints the ratios. Release build.
#   scripts/bench-cluster.sh [MODEL_DIR]     (default: models/demo)
# Extra `radixserve bench` flags can be passed in BENCH_ARGS, extra `radixserve up` flags in UP_ARGS
# (e.g. UP_ARGS="--recompute-weight 0"; `up` defaults to 2).
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-models/demo}"
swift build -c release --product radixserve >/dev/null
bin=.build/release/radixserve
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # run WORKERS POLICY NAME
    local log="$out/$3.log"
    # shellcheck disable=SC2086
    $bin up --model "$model" --workers "$1" --policy "$2" --http-port 0 --router-seed 1 ${UP_ARGS:-} >"$log" 2>&1 &
    local pid=$!
    for _ in $(seq 1200); do grep -q "Ctrl-C" "$log" && break; sleep 0.2; done
    local url
    url=$(grep -o 'http://[0-9.]*:[0-9]*' "$log" | head -1)
    # shellcheck disable=SC2086
    $bin bench --url "$url" --workload shared-prefix --json ${BENCH_ARGS:-} >"$out/$3.json"
    curl -s "$url/metrics" | grep '^radixserve_router_decision_seconds_bucket' >"$out/$3.decisions"
    kill -INT $pid
    wait $pid 2>/dev/null || true
}

run 1 cache-aware single
run 4 round-robin round-robin
run 4 cache-aware cache-aware

python3 - "$out" "$model" <<'PY'
import json, sys, pathlib
out, model = pathlib.Path(sys.argv[1]), sys.argv[2]
rows = {name: json.loads((out / f"{name}.json").read_text()) for name in ("single", "round-robin", "cache-aware")}
def decision_p99(name):
    lines = (out / f"{name}.decisions").read_text().strip().splitlines()
    pairs = [(l.split('le="')[1].split('"')[0], int(l.rsplit(" ", 1)[1])) for l in lines]
    total = pairs[-1][1]
    for bound, count in pairs:
        if count >= 0.99 * total:
            return bound
print(f"model {model}; shared-prefix, {rows['single']['requests']} requests")
print("| setup | cache hit rate | output tok/s | TTFT p50 / p99 ms | ITL p50 ms | E2E p50 / p99 ms | decision p99 ≤ | failed |")
print("|---|---|---|---|---|---|---|---|")
for name, label in (("single", "1 worker"), ("round-robin", "4 workers, round-robin"), ("cache-aware", "4 workers, cache-aware")):
    r = rows[name]
    print(f"| {label} | {r['cache_hit_rate']:.1%} | {r['output_tokens_per_second']:.0f} | "
          f"{r['time_to_first_token']['p50_ms']:.0f} / {r['time_to_first_token']['p99_ms']:.0f} | "
          f"{r['inter_token_latency']['p50_ms']:.0f} | {r['end_to_end_latency']['p50_ms']:.0f} / {r['end_to_end_latency']['p99_ms']:.0f} | "
          f"{float(decision_p99(name)) * 1e6:.0f} µs | {r['failed']} |")
ca, rr, one = rows["cache-aware"], rows["round-robin"], rows["single"]
print(f"cache-aware hit rate / single-worker hit rate: {ca['cache_hit_rate'] / one['cache_hit_rate']:.1%} (goal ≥ 95%)")
print(f"cache-aware / round-robin throughput: {ca['output_tokens_per_second'] / rr['output_tokens_per_second']:.2f}× (goal ≥ 1.5×)")
PY
