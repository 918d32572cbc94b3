#!/usr/bin/env python3
"""Write models/demo/reference.json, the transformers parity fixture for the demo model.

    python3 make_reference.py --model DIR

Same format and code as the tiny fixtures (scripts/fixtures/reference.py): for two plain
and two chat prompts, the float32 logits at the last prompt position and 32 greedy tokens
decoded by hand through the KV cache (no EOS stop). A trained model can have near-ties,
so each prompt is taken from a short candidate list: the first candidate whose 32 steps
all have a top-1 margin of at least MIN_MARGIN (else the one with the largest margin).
"""

import argparse
import json
import sys
from pathlib import Path

import torch
import transformers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))

import reference  # noqa: E402

MIN_MARGIN = 2e-2
CACHE_TOLERANCE = 1e-3
PLAIN_CANDIDATES = [
    ["Once upon a time, there was a little fox named", "Once upon a time, there was a brave rabbit named",
     "Long ago, Pip the fox lived"],
    ["Mira is a girl who lives", "Bram is an old sailor who lives", "Fernhollow is a small village"],
]
CHAT_CANDIDATES = [
    ["Where does Mira live?", "Where does Bram live?", "Who is Tom?"],
    ["Tell me a story about a fox.", "Tell me a story about an owl.", "Tell me a story about a bear."],
]


def pick(model, tokenizer, texts: list[str]) -> tuple[dict, float, float]:
    """Record of the first text whose greedy run clears MIN_MARGIN (or the best one)."""
    best = None
    for text in texts:
        prompt_ids = tokenizer(text)["input_ids"]
        run = reference.greedy(model, prompt_ids)
        margin = min(run["margins"])
        cache_diff = reference.cache_consistency(model, prompt_ids, run)
        if cache_diff > CACHE_TOLERANCE:
            raise SystemExit(f"KV-cache logits differ from the full forward by {cache_diff}")
        candidate = (reference.prompt_record(tokenizer, text, prompt_ids, run, step_top5=True), margin, cache_diff)
        if margin >= MIN_MARGIN:
            return candidate
        print(f"  candidate {text!r}: min margin {margin:.4g} < {MIN_MARGIN}, trying the next")
        if best is None or margin > best[1]:
            best = candidate
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(2)
    transformers.logging.set_verbosity_error()
    model = reference.load_model(args.model)
    tokenizer = transformers.AutoTokenizer.from_pretrained(args.model)
    groups = PLAIN_CANDIDATES + [
        [tokenizer.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
         for q in texts] for texts in CHAT_CANDIDATES]
    records = []
    for texts in groups:
        record, margin, cache_diff = pick(model, tokenizer, texts)
        records.append(record)
        print(json.dumps({"text": record["text"], "min_margin": round(margin, 4), "cache_diff": cache_diff,
                          "greedy_text": record["greedy_text"]}, ensure_ascii=False))
    (args.model / "reference.json").write_text(json.dumps({"prompts": records}, ensure_ascii=False) + "\n",
                                               encoding="utf-8")


if __name__ == "__main__":
    main()
