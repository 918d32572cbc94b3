#!/usr/bin/env python3
"""Train the small Llama demo model on the generated corpus and save it in bfloat16.

    python3 train.py --corpus DIR --tokenizer DIR --out DIR [--steps N] [--seed S] ...

Documents are shuffled with the seed, tokenized, joined into one stream (each already
ends with <|endoftext|>) and cut into blocks of --seq-len + 1 tokens. Training is plain
next-token prediction on every position, in float32 on the CPU with AdamW and a cosine
learning-rate schedule after a linear warm-up. The result is written with
`save_pretrained` (bf16 safetensors) next to the tokenizer files and a generation config.
"""

import argparse
import copy
import json
import math
import random
import shutil
import time
from pathlib import Path

import torch
import transformers
from tokenizers import Tokenizer

from make_corpus import read_jsonl

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def model_config(args, vocab_size: int, ids: dict[str, int]) -> transformers.LlamaConfig:
    return transformers.LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=args.hidden,
        intermediate_size=args.intermediate,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads,
        head_dim=args.hidden // args.heads,
        hidden_act="silu",
        max_position_embeddings=1024,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=True,
        attention_bias=False,
        mlp_bias=False,
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )


def token_blocks(docs: list[str], tokenizer: Tokenizer, seq_len: int, seed: int) -> torch.Tensor:
    """Shuffle the documents, tokenize and cut the joined stream into (N, seq_len + 1) blocks."""
    docs = list(docs)
    random.Random(seed).shuffle(docs)
    parts = []
    for start in range(0, len(docs), 2000):  # in slices, to keep memory small
        encodings = tokenizer.encode_batch(docs[start: start + 2000], add_special_tokens=False)
        parts.append(torch.tensor([i for enc in encodings for i in enc.ids], dtype=torch.int32))
    stream = torch.cat(parts).long()
    n = len(stream) // (seq_len + 1)
    return stream[: n * (seq_len + 1)].view(n, seq_len + 1)


def learning_rate(step: int, args) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def save(model, args, ids: dict[str, int]) -> None:
    """bf16 safetensors + config, tokenizer files and a generation config ending on either EOS."""
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    model.config.torch_dtype = "bfloat16"
    model.generation_config = transformers.GenerationConfig(
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        do_sample=True, temperature=0.7, top_p=0.9, top_k=40, repetition_penalty=1.0, max_new_tokens=256,
    )
    model.to(torch.bfloat16).save_pretrained(args.out, safe_serialization=True)
    for name in TOKENIZER_FILES:
        shutil.copyfile(args.tokenizer / name, args.out / name)
    config = json.loads((args.out / "config.json").read_text(encoding="utf-8"))
    config["rope_theta"] = config["rope_parameters"]["rope_theta"]  # older readers look here
    config["rope_scaling"] = None
    config["torch_dtype"] = "bfloat16"
    (args.out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--intermediate", type=int, default=640)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--kv-heads", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--save-every", type=int, default=0, help="also save a checkpoint every N steps")
    parser.add_argument("--log", type=Path, help="also append the JSON log lines to this file")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()

    tokenizer = Tokenizer.from_file(str(args.tokenizer / "tokenizer.json"))
    ids = {t: tokenizer.token_to_id(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")}
    blocks = token_blocks(read_jsonl(args.corpus / "train.jsonl"), tokenizer, args.seq_len, args.seed)
    config = model_config(args, tokenizer.get_vocab_size(), ids)
    model = transformers.LlamaForCausalLM(config)
    model.train()
    params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95))
    log = args.log.open("a", encoding="utf-8") if args.log else None

    def emit(record: dict) -> None:
        line = json.dumps(record)
        print(line, flush=True)
        if log:
            log.write(line + "\n")
            log.flush()

    emit({"parameters": params, "train_blocks": blocks.shape[0], "train_tokens": blocks.numel(),
          "tokens_per_step": args.batch * args.seq_len, "epochs": args.steps * args.batch / blocks.shape[0]})
    gen = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(blocks.shape[0], generator=gen)
    cursor, start, running = 0, time.time(), None
    for step in range(args.steps):
        if cursor + args.batch > len(order):
            order, cursor = torch.randperm(blocks.shape[0], generator=gen), 0
        batch = blocks[order[cursor: cursor + args.batch]]
        cursor += args.batch
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args)
        loss = model(input_ids=batch[:, :-1], labels=batch[:, :-1].clone(), use_cache=False).loss
        # transformers shifts the labels itself; the extra final token keeps every block full length.
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            elapsed = time.time() - start
            emit({"step": step + 1, "loss": round(loss.item(), 4), "smoothed": round(running, 4),
                  "lr": round(learning_rate(step, args), 6), "elapsed_s": round(elapsed, 1),
                  "tokens_per_s": round((step + 1) * args.batch * args.seq_len / elapsed)})
        if args.save_every and (step + 1) % args.save_every == 0 and step + 1 < args.steps:
            save(copy.deepcopy(model).eval(), args, ids)
    model.eval()
    save(model, args, ids)
    emit({"saved": str(args.out), "train_seconds": round(time.time() - start, 1)})


if __name__ == "__main__":
    main()
