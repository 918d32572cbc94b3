#!/usr/bin/env bash
# Serving benchmark of a local cluster: the shared-prefix workload (32 groups × 8 requests,
# 512-token shared prefix, 64-token question, 32 output tokens, 16 in flight) against
#   1 worker (the hit-rate ceiling: one cache sees every request),
#   4 workers with round-robin dispatch, and 4 workers with cache-aware dispatch,
# each on a fresh cluster, then prints the ratios. Release build.
#   scripts/bench-cluster.sh [MODEL_DIR]     (default: models/demo)
# RUNS=N repeats the three setups N times back to back (default 1) and adds the median ratios: on
# a shared host, speed drifts between runs by as much as the policies differ.
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

runs="${RUNS:-1}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer, got '$runs'" >&2; exit 2; }
for i in $(seq "$runs"); do
    run 1 cache-aware "single-$i"
    run 4 round-robin "round-robin-$i"
    run 4 cache-aware "cache-aware-$i"
done

python3 - "$out" "$model" "$runs" <<'PY'
import json, sys, pathlib, statistics
out, model, runs = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
setups = (("single", "1 worker"), ("round-robin", "4 workers, round-robin"), ("cache-aware", "4 workers, cache-aware"))
def decision_p99(name):
    lines = (out / f"{name}.decisions").read_text().strip().splitlines()
    pairs = [(l.split('le="')[1].split('"')[0], int(l.rsplit(" ", 1)[1])) for l in lines]
    total = pairs[-1][1]
    for bound, count in pairs:
        if count >= 0.99 * total:
            return bound
hit_ratios, speed_ratios = [], []
for i in range(1, runs + 1):
    rows = {name: json.loads((out / f"{name}-{i}.json").read_text()) for name, _ in setups}
    print(f"model {model}; shared-prefix, {rows['single']['requests']} requests; run {i} of {runs}")
    print("| setup | cache hit rate | output tok/s | TTFT p50 / p99 ms | ITL p50 ms | E2E p50 / p99 ms | decision p99 ≤ | failed |")
    print("|---|---|---|---|---|---|---|---|")
    for name, label in setups:
        r = rows[name]
        print(f"| {label} | {r['cache_hit_rate']:.1%} | {r['output_tokens_per_second']:.0f} | "
              f"{r['time_to_first_token']['p50_ms']:.0f} / {r['time_to_first_token']['p99_ms']:.0f} | "
              f"{r['inter_token_latency']['p50_ms']:.0f} | {r['end_to_end_latency']['p50_ms']:.0f} / {r['end_to_end_latency']['p99_ms']:.0f} | "
              f"{float(decision_p99(f'{name}-{i}')) * 1e6:.0f} µs | {r['failed']} |")
    ca, rr, one = rows["cache-aware"], rows["round-robin"], rows["single"]
    hit_ratios.append(ca['cache_hit_rate'] / one['cache_hit_rate'])
    speed_ratios.append(ca['output_tokens_per_second'] / rr['output_tokens_per_second'])
    print(f"cache-aware hit rate / single-worker hit rate: {hit_ratios[-1]:.1%} (goal ≥ 95%)")
    print(f"cache-aware / round-robin throughput: {speed_ratios[-1]:.2f}× (goal ≥ 1.5×)")
    print()
if runs > 1:
    print(f"over {runs} runs: hit rate / one worker's median {statistics.median(hit_ratios):.1%} "
          f"(min {min(hit_ratios):.1%}); throughput / round-robin median {statistics.median(speed_ratios):.2f}× "
          f"(min {min(speed_ratios):.2f}×)")
PY
