#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (every module instrumented for coverage, with
# AddressSanitizer) and runs them on a scratch copy of the committed seed corpora (docs/FUZZING.md).
# Usage: scripts/fuzz.sh [--runs N] [--no-build] [--keep] [TARGET|all] [SECONDS]
#   TARGET     one of `scripts/fuzz.sh --list` (default: all, one after another)
#   SECONDS    time per target (default 10); with --runs N, a target stops after N executions, or
#              after SECONDS if given
#   --keep     keep the grown corpus under .build-fuzz/work/ (it is always a copy: never the repository's)
# Prints executions, coverage (cov: edges, ft: features) and time per target; exits non-zero when
# any target found a crash, timeout or out-of-memory input, printing its path and how to replay it.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(FuzzWorkerFrames FuzzRankFrames FuzzCollectives FuzzHTTPBodies FuzzOrderedJSON FuzzTokenizer FuzzModelConfig
    FuzzSafetensors FuzzChatTemplate)
runs=""
build=1
keep=0
while [[ $# -gt 0 ]]; do
    case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    --list) printf '%s\n' "${targets[@]}"; exit 0 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) break ;;
    esac
done
selected="${1:-all}"
seconds="${2:-10}"
# With --runs, SECONDS is only a cap (default: a day).
[[ -n "$runs" && -z "${2:-}" ]] && seconds=86400
if [[ "$selected" != all ]]; then
    [[ " ${targets[*]} " == *" $selected "* ]] || { echo "unknown target '$selected'; one of: ${targets[*]}" >&2; exit 2; }
    targets=("$selected")
fi

scratch="$PWD/.build-fuzz"
if [[ $build == 1 ]]; then
    echo "== building the fuzz targets (release, -sanitize=fuzzer,address)"
    start=$SECONDS
    # -enable-testing lets FuzzCollectives reach the internal codecs of Collectives with @testable.
    mkdir -p "$scratch"
    if ! swift build --package-path Fuzz --scratch-path "$scratch" -c release \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing >"$scratch/build.log" 2>&1; then
        tail -n 40 "$scratch/build.log"
        echo "fuzz build failed (log: $scratch/build.log)" >&2
        exit 1
    fi
    echo "   built in $((SECONDS - start)) s"
fi

work="$scratch/work"
summary=()
status=0
for target in "${targets[@]}"; do
    binary="$scratch/release/$target"
    [[ -x "$binary" ]] || { echo "$binary is missing: build first (without --no-build)" >&2; exit 1; }
    corpus="$work/corpus/$target"
    artifacts="$work/artifacts/$target"
    rm -rf "$artifacts"
    [[ $keep == 1 && -d "$corpus" ]] || { rm -rf "$corpus"; mkdir -p "$corpus"; cp Fuzz/corpus/"$target"/* "$corpus"/; }
    mkdir -p "$artifacts"
    limit=(-max_total_time="$seconds")
    [[ -n "$runs" ]] && limit=(-runs="$runs" -max_total_time="$seconds")
    log="$work/$target.log"
    echo "== $target (${runs:+$runs runs}${runs:+, at most }$seconds s)"
    start=$SECONDS
    # -timeout: one input may take 10 s; -rss_limit_mb: 2 GiB; -max_len: 64 KiB (the seeds are smaller).
    # -detect_leaks=0: FoundationEssentials leaks a 4 KiB buffer reading an empty file (Data(contentsOf:)),
    # which ends every tokenizer run at once; leaks are not what these targets look for.
    set +e
    ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" SWIFT_BACKTRACE=enable=no "$binary" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
    code=$?
    set -e
    elapsed=$((SECONDS - start))
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    coverage="$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)"
    summary+=("$(printf '%-18s %12s executions  %-22s %5d s' "$target" "${executions:-?}" "${coverage:-cov: ? ft: ?}" "$elapsed")")
    echo "   ${summary[-1]}"
    if [[ $code != 0 ]]; then
        status=1
        grep -E "ERROR|SUMMARY|Fatal error|fuzz property|panic|Test unit written" "$log" | head -n 8 || true
        for input in "$artifacts"/*; do
            [[ -e "$input" ]] || continue
            echo "   crashing input: $input"
            echo "   replay: $binary $input"
        done
        echo "   full log: $log"
    fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
