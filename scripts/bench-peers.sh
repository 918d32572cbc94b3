#!/usr/bin/env bash
# RadixServe against llama.cpp on this host, side by side, with 2 threads each:
# prefill, batch-1 decode (and its peak RSS), an offline batch at concurrency 16 and HTTP
# serving with 16 clients, for the benchmark Llama in f32, bf16 and int8 (llama.cpp's q8_0
# converted from the f32 checkpoint; RadixServe's --quantize int8 of the same checkpoint, the
# same block format). Each round runs every measurement on llama.cpp
# and then on RadixServe, so the drift of a shared host lands on both; medians over rounds.
#
#   scripts/bench-peers.sh [--quick] [--shapes 56m,1.1b] [--rounds N] [--out FILE.json]
#     --quick    56M model only, 1 round, fewer tokens and requests (a smoke test: minutes once
#                llama.cpp is built)
#     --shapes   benchmark models: 56m (default) and/or 1.1b (TinyLlama-1.1B's shape; slow)
#     --rounds   rounds of A/B alternation (default 3; 1 with --quick)
#     --out      JSON file of all raw figures (default .peers/results/peers-DATE.json)
#
# First use: builds radixserve (swift build -c release), llama.cpp and llama-cpp-python from the
# pinned sdist (scripts/peers/setup-llama-cpp.sh, cached in .peers/), makes the random-weight
# models in bench-models/ and converts them to GGUF (scripts/peers/convert_gguf.py, cached in
# .peers/gguf/), then checks the conversion: greedy tokens of both systems on the f32 56M model.
# RADIXSERVE_BIN=PATH uses an existing radixserve binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '8,13p' "$0" | sed 's/^# \{0,1\}//'; }
fail() { echo "error: $*" >&2; echo >&2; usage >&2; exit 2; }

quick=0 shapes="" rounds="" out=""
while (($#)); do
    case "$1" in
        --quick) quick=1 ;;
        --shapes) [[ $# -ge 2 ]] || fail "--shapes needs a value"; shapes="$2"; shift ;;
        --shapes=*) shapes="${1#*=}" ;;
        --rounds) [[ $# -ge 2 ]] || fail "--rounds needs a value"; rounds="$2"; shift ;;
        --rounds=*) rounds="${1#*=}" ;;
        --out) [[ $# -ge 2 ]] || fail "--out needs a value"; out="$2"; shift ;;
        --out=*) out="${1#*=}" ;;
        -h|--help) usage; exit 0 ;;
        *) fail "unknown argument '$1'" ;;
    esac
    shift
done
if ((quick)); then
    [[ -z "$shapes" || "$shapes" == 56m ]] || fail "--quick measures the 56m shape only, got --shapes $shapes"
    shapes=56m; rounds="${rounds:-1}"
fi
shapes="${shapes:-56m}"; rounds="${rounds:-3}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || fail "--rounds must be a positive integer, got '$rounds'"
IFS=, read -ra shape_list <<<"$shapes"
for shape in "${shape_list[@]}"; do
    [[ "$shape" == 56m || "$shape" == 1.1b ]] || fail "unknown shape '$shape' (56m, 1.1b)"
done
out="${out:-.peers/results/peers-$(date +%Y%m%d-%H%M%S).json}"
mkdir -p "$(dirname "$out")" .peers/gguf

# Both systems, built for this host.
scripts/setup.sh >/dev/null
source scripts/python-env.sh
if [[ -n "${RADIXSERVE_BIN:-}" ]]; then
    radixserve="$RADIXSERVE_BIN"
    [[ -x "$radixserve" ]] || { echo "error: RADIXSERVE_BIN=$radixserve is not executable" >&2; exit 2; }
else
    nice -n 19 swift build -c release --product radixserve >/dev/null
    radixserve=.build/release/radixserve
fi
scripts/peers/setup-llama-cpp.sh
source .peers/env.sh

# Models (safetensors, for RadixServe) and their GGUF conversions (for llama.cpp); q8_0 is
# quantized from the f32 model, as llama.cpp users quantize from full precision.
for shape in "${shape_list[@]}"; do
    for dtype in f32 bf16; do
        dir="bench-models/llama-$shape-$dtype"
        [[ -f "$dir/config.json" ]] || "$PYTHON" scripts/fixtures/make_models.py --bench-model "$dir" --dtype "$dtype" --shape "$shape"
    done
    for type in f32 bf16 q8_0; do
        src="bench-models/llama-$shape-$([[ $type == q8_0 ]] && echo f32 || echo "$type")"
        gguf=".peers/gguf/llama-$shape-$type.gguf"
        if [[ ! -f "$gguf" || "$src/model.safetensors" -nt "$gguf" ]]; then
            "$PYTHON" scripts/peers/convert_gguf.py "$src" "$gguf" --type "$type" >/dev/null
        fi
    done
done

# The host: CPU, vector extensions, cores, load and measured read bandwidth.
cc -O2 -march=native -fopenmp scripts/peers/bandwidth.c -o .peers/bandwidth
bandwidth=$(.peers/bandwidth)
host_json=$(mktemp)
trap 'rm -f "$host_json"' EXIT
"$PYTHON" - "$bandwidth" "$LLAMA_CPP_VERSION" "$("$radixserve" --version 2>/dev/null || echo unknown)" \
    "$(git rev-parse --short HEAD)" >"$host_json" <<'PY'
import json, os, sys
cpu = open("/proc/cpuinfo").read()
model = next(l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("model name"))
flags = next(l.split(":", 1)[1].split() for l in cpu.splitlines() if l.startswith("flags"))
print(json.dumps({
    "cpu": model, "nproc": os.cpu_count() and len(os.sched_getaffinity(0)),
    "flags": {f: f in flags for f in ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")},
    "loadavg": open("/proc/loadavg").read().split()[:3], "bandwidth": json.loads(sys.argv[1]),
    "llama_cpp": sys.argv[2], "radixserve": sys.argv[3], "commit": sys.argv[4]}))
PY
"$PYTHON" - "$host_json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
flags = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in h["flags"].items())
print(f"host: {h['cpu']}, nproc {h['nproc']}, {flags}; load {' '.join(h['loadavg'])}")
print(f"read bandwidth (1 GiB, best of 5): {h['bandwidth']['read_gbps']['1']} GB/s 1 thread, "
      f"{h['bandwidth']['read_gbps']['2']} GB/s 2 threads")
print(f"{h['llama_cpp']}; radixserve {h['radixserve']} at {h['commit']}")
PY

# The conversion is right when llama.cpp decodes what RadixServe decodes from the same ids.
check="$("$PYTHON" scripts/peers/check_greedy.py bench-models/llama-56m-f32 .peers/gguf/llama-56m-f32.gguf \
    --radixserve "$radixserve" --tokens 32)" || {
    echo "error: llama.cpp's greedy tokens differ from RadixServe's early on the f32 56M model; the GGUF conversion is wrong" >&2
    echo "$check" >&2; exit 1; }
"$PYTHON" - "$check" <<'PY'
import json, sys
c = json.loads(sys.argv[1])
agree = ", ".join(f"{p['agree']}/{p['of']}" for p in c["prompts"])
same = all(p["same_tokenization"] for p in c["prompts"])
print(f"greedy check, 56m f32: leading tokens equal per prompt {agree}; tokenization {'identical' if same else 'DIFFERS'}")
PY
"$PYTHON" - "$host_json" "$check" <<'PY'
import json, sys
host = json.load(open(sys.argv[1])); host["greedy_check"] = json.loads(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(host))
PY

args=(--shapes "$shapes" --rounds "$rounds" --radixserve "$radixserve" --llama-bin "$LLAMA_CPP_BIN"
      --models bench-models --gguf .peers/gguf --host-json "$host_json" --out "$out")
((quick)) && args+=(--quick)
"$PYTHON" scripts/peers/bench_peers.py "${args[@]}"
