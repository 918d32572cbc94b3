#!/usr/bin/env python3
"""Train the demo model's byte-level BPE tokenizer (Qwen2-style pipeline) on the corpus.

    python3 train_tokenizer.py --corpus DIR --out DIR [--vocab-size 4096]

The pipeline is the one of `scripts/fixtures/tokenizer_families.py` for the
"qwen2-style" family (NFC normalizer, Split with the Qwen2 regex, ByteLevel), with only
three special tokens: <|endoftext|>, <|im_start|> and <|im_end|>. Writes tokenizer.json,
tokenizer_config.json (with the ChatML chat_template) and chat_template.jinja.
BPE training is deterministic for a fixed corpus.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))

import chat_templates  # noqa: E402
import tokenizer_families as tf  # noqa: E402

from make_corpus import read_jsonl  # noqa: E402

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TOKENIZER_DOCS = 30000
MODEL_MAX_LENGTH = 1024


def family() -> tf.Family:
    """The qwen2-style family with just the chat special tokens."""
    base = tf.family("qwen2-style")
    config = dict(base.config, chat_template=chat_templates.CHATML)
    return tf.Family(name=base.name, byte_level=True, added=[tf.AddedSpec(t) for t in SPECIALS], config=config)


def plain_text(doc: str) -> str:
    """Special tokens are never split into merges: train on the text between them."""
    for token in SPECIALS:
        doc = doc.replace(token, "\n")
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--vocab-size", type=int, default=4096)
    args = parser.parse_args()
    docs = [plain_text(d) for d in read_jsonl(args.corpus / "train.jsonl")[:TOKENIZER_DOCS]]
    tf.BYTE_LEVEL_MERGES = args.vocab_size - 256 - len(SPECIALS)  # trained vocab = bytes + merges
    tokenizer_json, config = tf.build(family(), docs)
    config["model_max_length"] = MODEL_MAX_LENGTH
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tokenizer.json").write_text(json.dumps(tokenizer_json, ensure_ascii=False, indent=2) + "\n",
                                             encoding="utf-8")
    (args.out / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n",
                                                    encoding="utf-8")
    (args.out / "chat_template.jinja").write_text(config["chat_template"], encoding="utf-8")
    ids = {a["content"]: a["id"] for a in tokenizer_json["added_tokens"]}
    print(json.dumps({"vocab_size": max(ids.values()) + 1, "special_ids": ids}))


if __name__ == "__main__":
    main()
