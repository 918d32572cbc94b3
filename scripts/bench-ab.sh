#!/usr/bin/env bash
# Before/after benchmark of two checkouts on one host, alternating A B A B so that drift of a
# shared machine lands on both sides: the single-process engine benchmark (56M model, f32 and
# bf16, `radixserve bench --runs 5`) and the cluster benchmark (scripts/bench-cluster.sh, RUNS=1
# per round), each printed per round with its median at the end. Release builds of both trees.
#   scripts/bench-ab.sh BASE_CHECKOUT [ROUNDS]      (default 2 rounds)
#   SKIP_CLUSTER=1 skips the cluster benchmark; CLUSTER_MODEL=DIR chooses its model
#   (default bench-models/llama-56m-bf16).
# BASE_CHECKOUT is another work tree of this repository (e.g. `git worktree add ../base <commit>`);
# the bench models are made here on first use (needs Python + torch, see scripts/bench.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:?usage: scripts/bench-ab.sh BASE_CHECKOUT [ROUNDS]}"
rounds="${2:-2}"
[[ -d "$base/Sources" ]] || { echo "error: $base is not a checkout of this repository" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "error: ROUNDS must be a positive integer, got '$rounds'" >&2; exit 2; }
scripts/setup.sh >/dev/null
source scripts/python-env.sh
for dtype in f32 bf16; do
    dir="bench-models/llama-56m-$dtype"
    [[ -f "$dir/config.json" ]] || "$PYTHON" scripts/fixtures/make_models.py --bench-model "$dir" --dtype "$dtype"
done
here=$(pwd)
base=$(cd "$base" && pwd)
[[ -e "$base/bench-models" ]] || ln -s "$here/bench-models" "$base/bench-models"
for tree in "$base" "$here"; do (cd "$tree" && swift build -c release --product radixserve >/dev/null); done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "A = $base ($(git -C "$base" rev-parse --short HEAD)), B = $here ($(git rev-parse --short HEAD))"
for round in $(seq "$rounds"); do
    for side in A B; do
        tree=$base; [[ $side == B ]] && tree=$here
        for dtype in f32 bf16; do
            line=$("$tree/.build/release/radixserve" bench --model "bench-models/llama-56m-$dtype" --threads 2 --runs 5 --json)
            echo "$line" >"$out/engine-$side-$dtype-$round.json"
            echo "round $round $side engine $dtype: $line"
        done
        if [[ "${SKIP_CLUSTER:-0}" != 1 ]]; then
            (cd "$tree" && scripts/bench-cluster.sh "$here/${CLUSTER_MODEL:-bench-models/llama-56m-bf16}") >"$out/cluster-$side-$round.txt"
            echo "round $round $side cluster:"
            grep -E "^\| 4 workers|^cache-aware" "$out/cluster-$side-$round.txt" | sed 's/^/    /'
        fi
    done
done

python3 - "$out" "$rounds" <<'PY'
import json, pathlib, re, statistics, sys
out, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def engine(side, dtype, key):
    values = []
    for r in range(1, rounds + 1):
        row = json.loads((out / f"engine-{side}-{dtype}-{r}.json").read_text())
        values.append(row[key])
    return values
keys = [k for k, v in json.loads((out / "engine-A-f32-1.json").read_text()).items() if isinstance(v, (int, float))]
print("\nmedians over rounds (A = base, B = this checkout)")
for dtype in ("f32", "bf16"):
    for key in keys:
        if not any(word in key for word in ("per_second", "tokens_per", "ms", "seconds")):
            continue
        a, b = statistics.median(engine("A", dtype, key)), statistics.median(engine("B", dtype, key))
        print(f"engine {dtype} {key}: A {a:.4g}  B {b:.4g}  B/A {b / a if a else float('nan'):.3f}")
for side in ("A", "B"):
    hits, speeds = [], []
    for r in range(1, rounds + 1):
        path = out / f"cluster-{side}-{r}.txt"
        if not path.exists():
            continue
        text = path.read_text()
        hits += [float(m) / 100 for m in re.findall(r"hit rate: ([0-9.]+)%", text)]
        speeds += [float(m) for m in re.findall(r"throughput: ([0-9.]+)×", text)]
    if hits:
        print(f"cluster {side}: hit rate / one worker's median {statistics.median(hits):.1%}; "
              f"cache-aware / round-robin median {statistics.median(speeds):.2f}×")
PY
