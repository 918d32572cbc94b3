#!/usr/bin/env python3
"""Check a GGUF conversion: greedy tokens of llama.cpp (through llama-cpp-python) against
RadixServe's greedy tokens for the same prompt ids.

    python3 scripts/peers/check_greedy.py MODEL_DIR MODEL.gguf --radixserve BIN [--tokens 32]

RadixServe (`generate --json`) tokenizes a few text prompts and decodes greedily; llama.cpp is
then given exactly RadixServe's prompt ids and decodes greedily too. Prints one JSON object:
per prompt the number of leading tokens that agree, and whether llama.cpp's own tokenization
of the text equals RadixServe's. Random-weight models have small top-1 margins, so a late
difference can come from rounding alone; the exit status is 1 only when fewer than
--min-agree (default 16) leading tokens agree for some prompt, which points at the
conversion (a wrong rope permutation diverges at the first or second token).
Needs LLAMA_CPP_LIB_PATH (source .peers/env.sh after scripts/peers/setup-llama-cpp.sh).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

PROMPTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Once upon a time, in a small village by the sea,",
    "def fibonacci(n):\n    return",
    "1, 2, 3, 5, 8, 13,",
]


def radixserve_greedy(binary: str, model_dir: Path, tokens: int) -> list[dict]:
    args = [binary, "generate", "--model", str(model_dir), "--threads", "2", "--max-tokens", str(tokens),
            "--temperature", "0", "--ignore-eos", "--json"]
    for prompt in PROMPTS:
        args += ["--prompt", prompt]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def llama_cpp_greedy(gguf: Path, prompt_ids: list[int], tokens: int):
    import llama_cpp  # loads the library named by LLAMA_CPP_LIB_PATH

    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=512, n_batch=512, n_threads=2, verbose=False)
    results = []
    for ids in prompt_ids:
        llm.reset()
        out = []
        # top_k=1 is greedy; no penalties, so the choice is the logits' argmax.
        for token in llm.generate(ids, top_k=1, temp=0.0, repeat_penalty=1.0, reset=True):
            out.append(int(token))
            if len(out) == tokens:
                break
        results.append(out)
    tokenized = [llm.tokenize(p.encode("utf-8"), add_bos=True, special=False) for p in PROMPTS]
    return results, tokenized


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("gguf", type=Path)
    parser.add_argument("--radixserve", required=True, help="radixserve binary")
    parser.add_argument("--tokens", type=int, default=32, help="tokens decoded per prompt")
    parser.add_argument("--min-agree", type=int, default=16, help="leading tokens that must agree")
    args = parser.parse_args()

    ours = radixserve_greedy(args.radixserve, args.model_dir, args.tokens)
    theirs, tokenized = llama_cpp_greedy(args.gguf, [r["prompt_token_ids"] for r in ours], args.tokens)
    rows = []
    for prompt, mine, other, their_ids in zip(PROMPTS, ours, theirs, tokenized):
        agree = next((i for i, (a, b) in enumerate(zip(mine["token_ids"], other)) if a != b), min(len(mine["token_ids"]), len(other)))
        rows.append({"prompt": prompt, "agree": agree, "of": len(mine["token_ids"]),
                     "same_tokenization": their_ids == mine["prompt_token_ids"],
                     "radixserve": mine["token_ids"], "llama_cpp": other})
    worst = min(r["agree"] for r in rows)
    print(json.dumps({"model": str(args.model_dir), "gguf": str(args.gguf), "min_leading_agreement": worst,
                      "tokens": args.tokens, "prompts": rows}))
    sys.exit(0 if worst >= min(args.min_agree, args.tokens) else 1)


if __name__ == "__main__":
    main()
