#!/usr/bin/env python3
"""Validate a saved demo model: held-out perplexity, fact checks and sample outputs.

    python3 evaluate.py --model DIR --corpus DIR [--json OUT.json]

Everything runs in float32 from the saved bf16 weights (eager attention).
  * perplexity: next-token loss over the validation documents (generated with a
    different seed), joined into one stream and read in windows of 256 tokens; reported
    for all of them and for the ones that do not also occur in the training text;
  * facts: for every inhabitant, the greedy answer to "Where does <name> live?" must
    contain the home stated in world.py, and story requests must mention their subject;
  * samples: greedy and seeded sampled outputs for chat and completion prompts.
"""

import argparse
import json
import math
from pathlib import Path

import torch
import transformers

import world
from make_corpus import read_jsonl

WINDOW = 256
CHAT_SAMPLES = [
    "Where does Mira live?",
    "Tell me a story about a fox.",
    "Who is Bram?",
    "What does Tom do?",
    "Who is Pip's best friend?",
    "Hello! What can you do?",
]
COMPLETION_SAMPLES = [
    "Once upon a time, there was a little",
    "Rosa is a farmer who",
    "One rainy afternoon, Hugo",
]
STORY_SUBJECTS = ["fox", "rabbit", "owl", "bear", "mouse", "cat"]


def load(model_dir: Path):
    model = transformers.AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.float32, attn_implementation="eager").eval()
    return model, transformers.AutoTokenizer.from_pretrained(model_dir)


@torch.no_grad()
def perplexity(model, tokenizer, docs: list[str]) -> tuple[float, int]:
    """exp(mean next-token loss) over `docs` joined in order, read in WINDOW-token windows."""
    stream = [i for d in docs for i in tokenizer(d)["input_ids"]]
    total, count = 0.0, 0
    for start in range(0, len(stream) - 1, WINDOW):
        chunk = torch.tensor([stream[start: start + WINDOW + 1]])
        if chunk.shape[1] < 2:
            break
        logits = model(input_ids=chunk[:, :-1], use_cache=False).logits.float()
        loss = torch.nn.functional.cross_entropy(logits[0], chunk[0, 1:], reduction="sum")
        total, count = total + float(loss), count + chunk.shape[1] - 1
    return math.exp(total / count), count


def chat_prompt(tokenizer, question: str) -> str:
    return tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                         add_generation_prompt=True)


@torch.no_grad()
def complete(model, tokenizer, text: str, sample: bool, seed: int = 0, max_new: int = 160) -> str:
    """The model's continuation of `text` (greedy, or sampled with the generation config)."""
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    torch.manual_seed(seed)
    kwargs = {"do_sample": True} if sample else {"do_sample": False, "temperature": None, "top_p": None,
                                                  "top_k": None}
    out = model.generate(ids, max_new_tokens=max_new, **kwargs)
    return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip()


def fact_checks(model, tokenizer) -> dict:
    """Share of home questions answered with the right home, and of stories on their subject."""
    homes = []
    for p in world.PEOPLE:
        answer = complete(model, tokenizer, chat_prompt(tokenizer, f"Where does {p.name} live?"), sample=False)
        homes.append({"name": p.name, "answer": answer, "ok": p.home in answer})
    stories = []
    for animal in STORY_SUBJECTS:
        story = complete(model, tokenizer, chat_prompt(tokenizer, f"Tell me a story about a {animal}."),
                         sample=False, max_new=200)
        opening = story.split(". ")[:2]  # the hero is named in the first sentences
        stories.append({"animal": animal, "ok": any(animal in s for s in opening), "story": story})
    return {"home_answers_correct": sum(h["ok"] for h in homes), "home_questions": len(homes),
            "stories_on_subject": sum(s["ok"] for s in stories), "story_requests": len(stories),
            "home_details": homes}


def samples(model, tokenizer) -> list[dict]:
    out = []
    for q in CHAT_SAMPLES:
        prompt = chat_prompt(tokenizer, q)
        out.append({"kind": "chat", "prompt": q, "greedy": complete(model, tokenizer, prompt, sample=False),
                    "sampled_seed_0": complete(model, tokenizer, prompt, sample=True, seed=0)})
    for text in COMPLETION_SAMPLES:
        out.append({"kind": "completion", "prompt": text,
                    "greedy": complete(model, tokenizer, text, sample=False, max_new=100),
                    "sampled_seed_0": complete(model, tokenizer, text, sample=True, seed=0, max_new=100)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--json", type=Path, help="write the full results here")
    parser.add_argument("--no-samples", action="store_true", help="perplexity only")
    parser.add_argument("--valid-docs", type=int, help="use only the first N validation documents")
    args = parser.parse_args()
    torch.set_num_threads(2)
    transformers.logging.set_verbosity_error()
    model, tokenizer = load(args.model)
    valid = read_jsonl(args.corpus / "valid.jsonl")[: args.valid_docs]
    train = set(read_jsonl(args.corpus / "train.jsonl"))
    unseen = [d for d in valid if d not in train]
    ppl, tokens = perplexity(model, tokenizer, valid)
    ppl_unseen, tokens_unseen = perplexity(model, tokenizer, unseen)
    result = {"valid_perplexity": round(ppl, 4), "valid_tokens": tokens, "valid_docs": len(valid),
              "unseen_perplexity": round(ppl_unseen, 4), "unseen_tokens": tokens_unseen, "unseen_docs": len(unseen),
              "parameters": sum(p.numel() for p in model.parameters())}
    print(json.dumps(result), flush=True)
    if not args.no_samples:
        result["facts"] = fact_checks(model, tokenizer)
        print(json.dumps({k: v for k, v in result["facts"].items() if k != "home_details"}), flush=True)
        result["samples"] = samples(model, tokenizer)
        for s in result["samples"]:
            print(json.dumps(s, ensure_ascii=False), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
