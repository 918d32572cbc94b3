#!/usr/bin/env python3
"""Drives a RadixServe router with the official `openai` Python client.

Usage: python3 scripts/openai_client_check.py http://127.0.0.1:8000

Checks chat and completions, streaming and not, greedy (so streamed and whole texts must be
equal), usage with cached tokens, the model list, and that bad requests raise the client's
typed errors. Prints one JSON summary line; exits non-zero with a message on any mismatch.
"""
import json
import sys

import openai


def main() -> int:
    base = sys.argv[1].rstrip("/")
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=120)
    models = client.models.list().data
    assert len(models) == 1, f"expected one model, got {models}"
    model = models[0].id

    messages = [{"role": "user", "content": "Tell me a short story about a fox who lives in a small house near the river and likes to read books."}]
    chat = client.chat.completions.create(model=model, messages=messages, max_tokens=24, temperature=0)
    chat_text = chat.choices[0].message.content
    assert chat.choices[0].finish_reason in ("stop", "length"), chat.choices[0].finish_reason
    assert chat.usage.completion_tokens >= 1 and chat.usage.prompt_tokens >= 1, chat.usage

    pieces = []
    usage = None
    finish = None
    for chunk in client.chat.completions.create(
        model=model, messages=messages, max_tokens=24, temperature=0, stream=True, stream_options={"include_usage": True}
    ):
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            if choice.finish_reason:
                finish = choice.finish_reason
    streamed = "".join(pieces)
    assert streamed == chat_text, f"streamed chat {streamed!r} != whole {chat_text!r}"
    assert finish == chat.choices[0].finish_reason, (finish, chat.choices[0].finish_reason)
    assert usage is not None and usage.completion_tokens == chat.usage.completion_tokens, usage
    # The same prompt again: its whole pages are now cached on some worker.
    cached = usage.prompt_tokens_details.cached_tokens if usage.prompt_tokens_details else 0
    assert cached > 0, f"second identical chat request reported no cached tokens: {usage}"

    prompt = "Once upon a time"
    completion = client.completions.create(model=model, prompt=prompt, max_tokens=16, temperature=0)
    text = completion.choices[0].text
    streamed = "".join(
        chunk.choices[0].text
        for chunk in client.completions.create(model=model, prompt=prompt, max_tokens=16, temperature=0, stream=True)
        if chunk.choices
    )
    assert streamed == text, f"streamed completion {streamed!r} != whole {text!r}"

    errors = {}
    try:
        client.chat.completions.create(model="no-such-model", messages=messages, max_tokens=4)
        raise AssertionError("unknown model was accepted")
    except openai.NotFoundError as error:
        errors["unknown_model"] = error.status_code
    try:
        client.completions.create(model=model, prompt=prompt, max_tokens=-1)
        raise AssertionError("negative max_tokens was accepted")
    except openai.BadRequestError as error:
        errors["negative_max_tokens"] = error.status_code
    try:
        client.completions.create(model=model, prompt=prompt, max_tokens=4, temperature=1000)
        raise AssertionError("temperature 1000 was accepted")
    except openai.BadRequestError as error:
        errors["temperature"] = error.status_code

    print(json.dumps({
        "openai": openai.__version__, "model": model, "chat": chat_text, "completion": text,
        "cached_tokens": cached, "errors": errors,
    }))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as failure:
        print(f"openai client check failed: {failure}", file=sys.stderr)
        sys.exit(1)
