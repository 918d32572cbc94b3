#!/usr/bin/env python3
"""Convert one of our Llama checkpoints to GGUF, for llama.cpp.

    python3 scripts/peers/convert_gguf.py MODEL_DIR OUT.gguf [--type f32|bf16|q8_0]

MODEL_DIR holds what scripts/fixtures/make_models.py writes: config.json, model.safetensors
(or shards with model.safetensors.index.json), tokenizer.json and tokenizer_config.json.
Written with the pinned `gguf` package (scripts/peers/setup-llama-cpp.sh installs it):

- metadata: the `llama` architecture keys llama.cpp reads (context length, widths, layer and
  head counts, RMS-norm epsilon, rope base and dimensions) and the file type;
- tokenizer: our bench models' tokenizer is a SentencePiece-style BPE (a "▁" word prefix in
  the normalizer, byte fallback to <0xNN> tokens, merges), which is llama.cpp's `llama` (SPM)
  tokenizer model, not the byte-level `gpt2` one. llama.cpp's SPM tokenizer merges the
  adjacent pair whose merged token has the highest score, so a token's score is minus the rank
  of the merge that makes it: the same merge order as the BPE's merge list. Ids the model has
  beyond the tokenizer's vocabulary (the embedding has 32000 rows) become unused padding tokens;
- tensors: 2-D weights in the requested type (q8_0: blocks of 32 weights, an f16 scale and 32
  int8, via gguf.quants); norm weights stay f32, as llama.cpp's own converter keeps them.

Rotary embeddings: Hugging Face Llama checkpoints order each head's query/key rows for the
"rotate half" rope (dimension i pairs with i + d/2), while llama.cpp's `llama` architecture
rotates adjacent pairs (2i, 2i+1). The q and k projection rows are therefore reordered per
head, interleaving the two halves, so that both compute the same attention scores.
"""

import argparse
import json
import sys
from pathlib import Path

import gguf
import numpy as np
import torch
from safetensors import safe_open

TYPES = {
    "f32": (gguf.GGMLQuantizationType.F32, gguf.LlamaFileType.ALL_F32),
    "bf16": (gguf.GGMLQuantizationType.BF16, gguf.LlamaFileType.MOSTLY_BF16),
    "q8_0": (gguf.GGMLQuantizationType.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
}

# Hugging Face tensor name (after "model.layers.N.") -> GGUF name (after "blk.N.").
LAYER_TENSORS = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
GLOBAL_TENSORS = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}


def gguf_name(hf_name: str) -> str:
    if hf_name in GLOBAL_TENSORS:
        return GLOBAL_TENSORS[hf_name]
    parts = hf_name.split(".", 3)  # model, layers, N, rest
    if parts[:2] == ["model", "layers"] and len(parts) == 4 and parts[3] in LAYER_TENSORS:
        return f"blk.{parts[2]}.{LAYER_TENSORS[parts[3]]}"
    raise SystemExit(f"unexpected tensor {hf_name}: only plain Llama checkpoints are supported")


def rotate_half_to_interleaved(weight: torch.Tensor, heads: int) -> torch.Tensor:
    """Reorder each head's rows from [x0..x(d/2-1), y0..y(d/2-1)] to [x0, y0, x1, y1, ...]."""
    rows, cols = weight.shape
    head_dim = rows // heads
    return weight.reshape(heads, 2, head_dim // 2, cols).transpose(1, 2).reshape(rows, cols)


def checkpoint_tensors(model_dir: Path):
    """(name, tensor) for every tensor of the checkpoint, one file at a time."""
    index = model_dir / "model.safetensors.index.json"
    if index.exists():
        files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    for file in files:
        with safe_open(model_dir / file, framework="pt") as f:
            for name in f.keys():
                yield name, f.get_tensor(name)


def encode(tensor: torch.Tensor, qtype: gguf.GGMLQuantizationType) -> np.ndarray:
    """The tensor's data as gguf.add_tensor takes it: float32 values, or raw bytes (uint8,
    last dimension in bytes) with raw_dtype for bf16 and q8_0."""
    if tensor.ndim == 1 or qtype == gguf.GGMLQuantizationType.F32:
        return tensor.to(torch.float32).numpy()
    if qtype == gguf.GGMLQuantizationType.BF16 and tensor.dtype == torch.bfloat16:
        # Keep the checkpoint's own bf16 bits (no round trip through float32).
        return tensor.contiguous().view(torch.int16).numpy().view(np.uint8)
    return gguf.quants.quantize(tensor.to(torch.float32).numpy(), qtype)


def add_tokenizer(writer: gguf.GGUFWriter, model_dir: Path, n_vocab: int, config: dict) -> None:
    tokenizer = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    settings = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    model = tokenizer["model"]
    if model.get("type") != "BPE" or not model.get("byte_fallback"):
        raise SystemExit("only SentencePiece-style BPE tokenizers (byte_fallback) are supported")
    prepends = [n for n in (tokenizer.get("normalizer") or {}).get("normalizers", []) if n.get("type") == "Prepend"]

    vocab: dict[int, str] = {i: t for t, i in model["vocab"].items()}
    special = {a["id"]: a["content"] for a in tokenizer["added_tokens"]}
    vocab.update(special)
    if max(vocab) >= n_vocab:
        raise SystemExit(f"tokenizer id {max(vocab)} is outside the model's {n_vocab} embeddings")

    # Score of a token: minus the rank of the merge that produces it (earlier merges win).
    scores = {}
    for rank, merge in enumerate(model["merges"]):
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        scores.setdefault(left + right, -float(rank + 1))

    tokens, token_scores, types = [], [], []
    unk = model.get("unk_token")
    for i in range(n_vocab):
        text = vocab.get(i)
        if text is None:
            tokens.append(f"[PAD{i}]")
            token_scores.append(-1e9)
            types.append(gguf.TokenType.UNUSED)
            continue
        tokens.append(text)
        token_scores.append(scores.get(text, 0.0))
        if text == unk:
            types.append(gguf.TokenType.UNKNOWN)
        elif i in special:
            types.append(gguf.TokenType.CONTROL)
        elif len(text) == 6 and text.startswith("<0x") and text.endswith(">"):
            types.append(gguf.TokenType.BYTE)
        else:
            types.append(gguf.TokenType.NORMAL)

    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(token_scores)
    writer.add_token_types(types)
    ids = {t: i for i, t in vocab.items()}
    if settings.get("bos_token") in ids:
        writer.add_bos_token_id(ids[settings["bos_token"]])
    elif config.get("bos_token_id") is not None:
        writer.add_bos_token_id(config["bos_token_id"])
    if settings.get("eos_token") in ids:
        writer.add_eos_token_id(ids[settings["eos_token"]])
    elif config.get("eos_token_id") is not None:
        writer.add_eos_token_id(config["eos_token_id"])
    if unk in ids:
        writer.add_unk_token_id(ids[unk])
    writer.add_add_bos_token(bool(settings.get("add_bos_token", True)))
    writer.add_add_eos_token(bool(settings.get("add_eos_token", False)))
    writer.add_add_space_prefix(bool(prepends))


def convert(model_dir: Path, out: Path, type_name: str) -> None:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "llama":
        raise SystemExit(f"{model_dir}: model_type {config.get('model_type')!r}, expected 'llama'")
    rope = config.get("rope_parameters") or {}
    scaling = config.get("rope_scaling") or {}
    if rope.get("rope_type", "default") != "default" or scaling:
        raise SystemExit(f"{model_dir}: rope scaling is not supported by this converter")
    qtype, file_type = TYPES[type_name]
    heads, kv_heads = config["num_attention_heads"], config.get("num_key_value_heads", config["num_attention_heads"])
    head_dim = config.get("head_dim") or config["hidden_size"] // heads

    writer = gguf.GGUFWriter(out, "llama")
    writer.add_name(model_dir.name)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(float(rope.get("rope_theta", config.get("rope_theta", 10000.0))))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_vocab_size(config["vocab_size"])
    writer.add_file_type(file_type)
    add_tokenizer(writer, model_dir, config["vocab_size"], config)

    names = set()
    for name, tensor in checkpoint_tensors(model_dir):
        if name.endswith("rotary_emb.inv_freq"):
            continue
        if name.endswith("self_attn.q_proj.weight"):
            tensor = rotate_half_to_interleaved(tensor, heads)
        elif name.endswith("self_attn.k_proj.weight"):
            tensor = rotate_half_to_interleaved(tensor, kv_heads)
        data = encode(tensor, qtype)
        writer.add_tensor(gguf_name(name), data, raw_dtype=None if data.dtype == np.float32 else qtype)
        names.add(name)
    if config.get("tie_word_embeddings") or "lm_head.weight" not in names:
        raise SystemExit("tied embeddings are not supported by this converter (the bench models are untied)")

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--type", choices=sorted(TYPES), default="f32", help="weight type of 2-D tensors")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.name + ".partial")
    convert(args.model_dir, partial, args.type)
    partial.rename(args.out)  # only a complete file carries the final name
    print(json.dumps({"gguf": str(args.out), "type": args.type, "bytes": args.out.stat().st_size}))


if __name__ == "__main__":
    sys.exit(main())
