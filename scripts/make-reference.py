#!/usr/bin/env python3
"""Write reference.json for a local checkpoint: transformers' logits and greedy tokens.

    scripts/make-reference.py MODEL_DIR [--out FILE] [--force] [--prompts FILE]
                              [--steps N] [--dtype float32|as-saved]

MODEL_DIR holds config.json, the weights (*.safetensors or *.bin) and the tokenizer, as
saved by transformers. For every prompt the model is run on CPU with eager attention:
one prefill, then --steps greedy tokens decoded one at a time through the KV cache, with
no stop at EOS (scripts/fixtures/reference.py, the code that writes the committed
fixtures). The file written (default MODEL_DIR/reference.json, never overwritten without
--force) is the format of docs/REFERENCE_FORMAT.md, the one `radixserve certify` reads.

Prompts: by default the four prompts of the tiny fixtures. --prompts FILE reads one
prompt per line (UTF-8; the line ending is not part of the prompt; blank lines are
skipped); a FILE whose name ends in .json is read as a JSON array of strings instead,
for prompts that contain newlines (chat templates).

--dtype float32 (default) upcasts the weights exactly as saved; as-saved computes in the
checkpoint's own dtype. A summary per prompt goes to stderr, with a warning for a prompt
whose smallest top-1 margin is below 1e-3: such a step is a near-tie that no other
implementation can be expected to reproduce exactly.

Needs the packages of scripts/requirements-fixtures.txt (source scripts/python-env.sh).
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402

import reference  # noqa: E402

FORMAT = 1
NEAR_TIE_MARGIN = 1e-3
CACHE_TOLERANCE = 1e-3
WEIGHT_SUFFIXES = (".safetensors", ".bin")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt", "merges.txt")
TOKENIZER_SUFFIXES = (".model", ".tiktoken")  # sentencepiece and tiktoken files under other names
DTYPES = {"float32": torch.float32, "as-saved": "auto"}


class Failure(Exception):
    """A problem with the inputs, reported as one line and exit status 1."""


def warn(message: str) -> None:
    print(message, file=sys.stderr)


def read_prompts(path: Path | None) -> list[str]:
    """The default prompts, or those of FILE (one a line, or a JSON array of strings)."""
    if path is None:
        return list(reference.PROMPTS)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise Failure(f"{path}: prompts file not found") from None
    except UnicodeDecodeError as error:
        raise Failure(f"{path}: prompts file is not UTF-8 ({error})") from None
    if path.suffix == ".json":
        try:
            prompts = json.loads(text)
        except json.JSONDecodeError as error:
            raise Failure(f"{path}: not valid JSON ({error})") from None
        if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
            raise Failure(f"{path}: expected a JSON array of strings")
    else:
        prompts = [line for line in text.splitlines() if line.strip()]
    if not prompts:
        raise Failure(f"{path}: no prompts")
    return prompts


def check_directory(model_dir: Path) -> None:
    """Fail early, naming the missing piece, before transformers is asked to load anything."""
    if not model_dir.exists():
        raise Failure(f"{model_dir}: no such directory")
    if not model_dir.is_dir():
        raise Failure(f"{model_dir}: not a directory")
    if not (model_dir / "config.json").is_file():
        raise Failure(f"{model_dir}: no config.json (not a transformers checkpoint directory)")
    files = list(model_dir.iterdir())
    if not any(p.suffix in WEIGHT_SUFFIXES for p in files):
        raise Failure(f"{model_dir}: no weights (no *.safetensors or *.bin file)")
    if not any(p.name in TOKENIZER_FILES or p.suffix in TOKENIZER_SUFFIXES for p in files):
        raise Failure(f"{model_dir}: no tokenizer (none of {', '.join(TOKENIZER_FILES)}, "
                      f"{', '.join('*' + s for s in TOKENIZER_SUFFIXES)})")


def load(model_dir: Path, dtype) -> tuple:
    """(model, tokenizer); transformers' own errors are passed on, prefixed with the directory."""
    try:
        transformers.AutoConfig.from_pretrained(model_dir, local_files_only=True)
    except Exception as error:  # unknown model_type, malformed config.json
        raise Failure(f"{model_dir}: {error}") from None
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    except Exception as error:
        raise Failure(f"{model_dir}: no tokenizer could be loaded ({error})") from None
    if tokenizer is None or isinstance(tokenizer, bool) or len(tokenizer) < 2:
        raise Failure(f"{model_dir}: no tokenizer could be loaded (the tokenizer files give an empty vocabulary)")
    try:
        model = reference.load_model(model_dir, dtype)
    except Exception as error:  # no causal-LM class, unreadable weights, weights that do not fit the model
        raise Failure(f"{model_dir}: {error}") from None
    return model, tokenizer


def generator_info(model, steps: int) -> dict:
    return {
        "tool": "scripts/make-reference.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "dtype": str(model.dtype).removeprefix("torch."),
        "attention": "eager",
        "steps": steps,
    }


def make_records(model, tokenizer, prompts: list[str], steps: int) -> list[dict]:
    records = []
    for number, text in enumerate(prompts, 1):
        prompt_ids = tokenizer(text)["input_ids"]
        if not prompt_ids:
            raise Failure(f"prompt {number} ({text!r}) tokenizes to zero tokens")
        run = reference.greedy(model, prompt_ids, steps)
        cache_diff = reference.cache_consistency(model, prompt_ids, run)
        records.append(reference.prompt_record(tokenizer, text, prompt_ids, run, step_top5=True))
        margin = min(run["margins"])
        step = run["margins"].index(margin)
        warn(f"prompt {number}: {len(prompt_ids)} prompt tokens, {len(run['tokens'])} greedy tokens, "
             f"smallest top-1 margin {margin:.4g} (step {step}), KV cache vs full forward {cache_diff:.2g}")
        if margin < NEAR_TIE_MARGIN:
            warn(f"warning: prompt {number}: top-1 margin {margin:.4g} at step {step} is below {NEAR_TIE_MARGIN:g}; "
                 f"no other implementation can be expected to reproduce that step exactly "
                 f"(replace the prompt or use fewer --steps)")
        if cache_diff > CACHE_TOLERANCE:
            warn(f"warning: prompt {number}: the KV-cache logits differ from a full forward pass by "
                 f"{cache_diff:.3g} (more than {CACHE_TOLERANCE:g})")
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path, metavar="MODEL_DIR")
    parser.add_argument("--out", type=Path, metavar="FILE", help="output file (default MODEL_DIR/reference.json)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")
    parser.add_argument("--prompts", type=Path, metavar="FILE", help="one prompt per line, or a .json array")
    parser.add_argument("--steps", type=int, default=reference.GREEDY_STEPS, metavar="N",
                        help=f"greedy tokens per prompt (default {reference.GREEDY_STEPS})")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32",
                        help="compute dtype (default float32: weights upcast exactly as saved)")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    out = args.out or args.model_dir / "reference.json"
    try:
        check_directory(args.model_dir)
        if out.exists() and not args.force:
            raise Failure(f"{out}: already exists (use --force to overwrite)")
        if not out.parent.is_dir():
            raise Failure(f"{out.parent}: no such directory for --out")
        prompts = read_prompts(args.prompts)
        torch.use_deterministic_algorithms(True)
        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        model, tokenizer = load(args.model_dir, DTYPES[args.dtype])
        records = make_records(model, tokenizer, prompts, args.steps)
    except Failure as failure:
        print(f"make-reference: {failure}", file=sys.stderr)
        return 1
    document = {"format": FORMAT, "generator": generator_info(model, args.steps), "prompts": records}
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(out)
    warn(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
