#!/usr/bin/env python3
"""Write the generated training and validation text as JSON lines (one document per line).

    python3 make_corpus.py --out DIR [--train-docs N] [--valid-docs N] [--seed S]

Most documents are ChatML conversations (rendered as the chat template does); the rest
are plain stories and plain descriptions of Fernhollow, for text completion. Every
document ends with <|endoftext|>. The validation slice uses a different seed (S + 1000),
so it is new text drawn from the same generator.
"""

import argparse
import json
import random
from pathlib import Path

import dialogues
import stories
import world
from world import cap

END = "<|endoftext|>"
CHAT_SHARE = 0.7


def description(rng: random.Random) -> str:
    """A plain paragraph about a few people or places of Fernhollow."""
    if rng.random() < 0.3:
        places = rng.sample(list(world.PLACES), 3)
        return " ".join(f"{cap(p)} is {world.PLACES[p]}." for p in places)
    sentences = []
    for p in rng.sample(world.PEOPLE, rng.choice([1, 2, 3])):
        P = cap(p.pronoun)
        sentences += [f"{p.name} is {p.kind} who lives {p.home}.", f"{P} {p.job}.",
                      rng.choice([f"{P} likes {p.likes}.", f"{P} has {p.owns}.",
                                  f"{P} is very {p.trait}.", f"{world.possessive(p.pronoun).capitalize()} "
                                                             f"best friend is {p.friend}."])]
    return " ".join(sentences)


def document(rng: random.Random) -> str:
    """One training document, ending with <|endoftext|>."""
    if rng.random() < CHAT_SHARE:
        return dialogues.render(dialogues.conversation(rng)) + END
    if rng.random() < 0.75:
        return stories.make_story(rng) + END
    return description(rng) + END


def documents(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [document(rng) for _ in range(count)]


def write_jsonl(path: Path, docs: list[str]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--train-docs", type=int, default=60000)
    parser.add_argument("--valid-docs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    train = documents(args.seed, args.train_docs)
    valid = documents(args.seed + 1000, args.valid_docs)
    write_jsonl(args.out / "train.jsonl", train)
    write_jsonl(args.out / "valid.jsonl", valid)
    unique = len(set(train))
    chars = sum(map(len, train))
    print(json.dumps({"train_docs": len(train), "unique_train_docs": unique, "train_chars": chars,
                      "valid_docs": len(valid), "valid_in_train": len(set(valid) & set(train))}))


if __name__ == "__main__":
    main()
