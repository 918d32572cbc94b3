#!/usr/bin/env python3
"""Measure prefill and decode throughput of a checkpoint with transformers on CPU.

    python3 scripts/bench_transformers.py --model DIR [--threads 2] [--prompt-tokens 512]
        [--decode-tokens 128] [--batch 1] [--runs 3]

The model runs in the dtype it was saved in. Prompts are seeded random token ids.
Prefill: one forward pass over `batch` prompts of `prompt-tokens` tokens.
Decode: `decode-tokens` greedy steps through the KV cache after that prefill, all
`batch` sequences advancing together (a static batch). One warm-up run precedes the
timed runs; the median of the timed runs is reported as a single JSON line.
"""

import argparse
import json
import statistics
import time

import torch
import transformers


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--decode-tokens", type=int, default=128)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args()


@torch.inference_mode()
def run_once(model, prompt: torch.Tensor, decode_tokens: int) -> tuple[float, float]:
    """Seconds spent in prefill and in the decode loop."""
    start = time.perf_counter()
    out = model(input_ids=prompt, use_cache=True)
    prefill = time.perf_counter() - start

    cache = out.cache
    token = out.logits[:, -1].argmax(dim=-1, keepdim=True)
    start = time.perf_counter()
    for _ in range(decode_tokens):
        out = model(input_ids=token, cache=cache, use_cache=True)
        cache = out.cache
        token = out.logits[:, -1].argmax(dim=-1, keepdim=True)
    decode = time.perf_counter() - start
    return prefill, decode


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype="auto").eval()
    dtype = next(model.parameters()).dtype

    gen = torch.Generator().manual_seed(0)
    prompt = torch.randint(0, model.config.vocab_size, (args.batch, args.prompt_tokens), generator=gen)

    run_once(model, prompt, min(8, args.decode_tokens))  # warm-up
    timings = [run_once(model, prompt, args.decode_tokens) for _ in range(args.runs)]
    prefill = statistics.median(t[0] for t in timings)
    decode = statistics.median(t[1] for t in timings)

    print(json.dumps({
        "engine": "transformers",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "model": args.model,
        "dtype": str(dtype).removeprefix("torch."),
        "parameters": sum(p.numel() for p in model.parameters()),
        "threads": args.threads,
        "batch": args.batch,
        "prompt_tokens": args.prompt_tokens,
        "decode_tokens": args.decode_tokens,
        "runs": args.runs,
        "prefill_tokens_per_s": round(args.batch * args.prompt_tokens / prefill, 2),
        "decode_tokens_per_s": round(args.batch * args.decode_tokens / decode, 2),
        "prefill_s": round(prefill, 4),
        "decode_s": round(decode, 4),
    }))


if __name__ == "__main__":
    main()
