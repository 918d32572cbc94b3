#!/usr/bin/env bash
# A short side-by-side at the 1.1B shape (bf16, int8 against llama.cpp's q8_0, and with
# TYPES="f32 bf16 q8_0" f32 too), two rounds alternating llama.cpp and RadixServe: prefill 128,
# decode 32 at depth 128, and each process's peak RSS (/usr/bin/time). Minutes instead of
# bench-peers.sh --shapes 1.1b's hours; prints one line per round and type. Needs what
# bench-peers.sh sets up first (llama.cpp in .peers/, a release radixserve) plus the 1.1B models
# and their GGUF files:
#   python3 scripts/fixtures/make_models.py --bench-model bench-models/llama-1.1b-bf16 --dtype bf16 --shape 1.1b
#   for t in bf16 q8_0; do python3 scripts/peers/convert_gguf.py bench-models/llama-1.1b-bf16 \
#       .peers/gguf/llama-1.1b-from-bf16-$t.gguf --type $t; done
#   python3 scripts/fixtures/make_models.py --bench-model bench-models/llama-1.1b-f32 --dtype f32 --shape 1.1b
#   python3 scripts/peers/convert_gguf.py bench-models/llama-1.1b-f32 .peers/gguf/llama-1.1b-f32.gguf --type f32
set -euo pipefail
cd "$(dirname "$0")/../.."
source .peers/env.sh
L=$LLAMA_CPP_BIN tmp="${TMPDIR:-/tmp}/rs-1.1b"
for round in 1 2; do
  for t in ${TYPES:-bf16 q8_0}; do
    g=.peers/gguf/llama-1.1b-from-bf16-$t.gguf m=bench-models/llama-1.1b-bf16 q=none
    [[ $t == q8_0 ]] && q=int8
    [[ $t == f32 ]] && g=.peers/gguf/llama-1.1b-f32.gguf m=bench-models/llama-1.1b-f32
    /usr/bin/time -v $L/llama-bench -m $g -t 2 -p 128 -n 0 -r 2 -fa 0,1 -o json 2>$tmp-lt.txt > $tmp-lp.json
    pp=$(python3 -c "import json;print(max(r['avg_ts'] for r in json.load(open('$tmp-lp.json'))))")
    /usr/bin/time -v $L/llama-bench -m $g -t 2 -p 0 -n 32 -d 128 -r 2 -fa 0,1 -o json 2>$tmp-lt.txt > $tmp-ld.json
    tg=$(python3 -c "import json;print(max(r['avg_ts'] for r in json.load(open('$tmp-ld.json'))))")
    lrss=$(grep "Maximum resident" $tmp-lt.txt | awk '{print $6}')
    /usr/bin/time -v .build/release/radixserve bench --model $m --threads 2 --prompt-tokens 128 --decode-tokens 32 --runs 2 --kv-memory 256M --quantize $q --json 2>$tmp-rt.txt > $tmp-r.json
    rp=$(python3 -c "import json;d=json.load(open('$tmp-r.json'));print(round(d['prefill_tokens_per_second'],1), round(d['decode_tokens_per_second'],2))")
    rrss=$(grep "Maximum resident" $tmp-rt.txt | awk '{print $6}')
    echo "round $round $t llama.cpp prefill128 $pp decode $tg rssKB $lrss | radixserve($q) prefill,decode $rp rssKB $rrss | load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
