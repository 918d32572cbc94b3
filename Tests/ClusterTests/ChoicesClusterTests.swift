import Foundation
import Testing
import TestSupport

/// `n` > 1 through a real router and worker with the official `openai` client: three choices with
/// their `index`, streaming and not, usage once, the prompt computed once (the other samples are
/// served from the worker's cache, which `/generate`'s per-sample `cached_tokens` and the usage's
/// `cached_tokens` show), and `n` over the limit refused with a 400.
@Suite struct ChoicesClusterTests {
    static let script = #"""
        import json, sys, urllib.request, uuid
        import openai
        url = sys.argv[1]
        client = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=300)
        model = client.models.list().data[0].id
        def fresh_prompt():  # unique from its first token, so no earlier prompt's pages serve it
            return uuid.uuid4().hex + " Once upon a time, in a land far away, there lived a king." * 8
        def post(path, body):
            request = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
            return json.loads(urllib.request.urlopen(request, timeout=300).read())

        # /generate: one answer per sample, each with its own cached_tokens.
        answers = post("/generate", {"text": fresh_prompt(), "sampling_params": {"n": 3, "max_new_tokens": 8, "temperature": 1, "seed": 3}})
        assert isinstance(answers, list) and [a["index"] for a in answers] == [0, 1, 2], answers
        cached = sorted(a["meta_info"]["cached_tokens"] for a in answers)
        prompt_tokens = answers[0]["meta_info"]["prompt_tokens"]
        assert cached[0] == 0 and cached[1] == cached[2] and prompt_tokens - 16 <= cached[1] < prompt_tokens, (cached, prompt_tokens)

        # Completions, not streamed: three choices, usage once.
        answer = client.completions.create(model=model, prompt=fresh_prompt(), n=3, max_tokens=8, temperature=1, seed=11,
                                           extra_body={"return_token_ids": True})
        assert [c.index for c in answer.choices] == [0, 1, 2], answer
        lengths = [len(c.model_extra["token_ids"]) for c in answer.choices]
        assert answer.usage.completion_tokens == sum(lengths), (answer.usage, lengths)
        shared = answer.usage.prompt_tokens_details.cached_tokens
        assert answer.usage.prompt_tokens - 16 <= shared < answer.usage.prompt_tokens, answer.usage

        # Chat, streamed: every index streams, finishes once, and usage comes once at the end.
        stream = client.chat.completions.create(model=model, messages=[{"role": "user", "content": fresh_prompt()}], n=3,
                                                max_tokens=6, temperature=1, seed=5, stream=True,
                                                stream_options={"include_usage": True})
        texts, finishes, usages = {}, {}, []
        for chunk in stream:
            if chunk.usage is not None:
                usages.append(chunk.usage)
            for choice in chunk.choices:
                texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
                if choice.finish_reason is not None:
                    assert choice.index not in finishes, "a second finish for one index"
                    finishes[choice.index] = choice.finish_reason
        assert sorted(finishes) == [0, 1, 2] and sorted(texts) == [0, 1, 2], (finishes, texts)
        assert len(usages) == 1 and usages[0].prompt_tokens_details.cached_tokens > 0, usages

        # Completions, streamed: text per index.
        streamed = {}
        for chunk in client.completions.create(model=model, prompt=fresh_prompt(), n=2, max_tokens=5, stream=True):
            for choice in chunk.choices:
                streamed[choice.index] = streamed.get(choice.index, "") + choice.text
        assert sorted(streamed) == [0, 1], streamed

        try:
            client.completions.create(model=model, prompt="Hi", n=17, max_tokens=2)
            sys.exit("n over the limit was accepted")
        except openai.BadRequestError as error:
            assert "between 1 and 16" in str(error), str(error)
        print("ok")
        """#

    @Test func nSamplesShareOnePrefillAndStreamWithTheirIndex() throws {
        guard try Python.requireModule("openai", package: "openai") else { return }
        let cluster = try LocalCluster(workerCount: 1)
        let run = try Python.run(["-c", Self.script, cluster.url])
        #expect(run.status == 0 && run.output.contains("ok"), "\(run.output)\n\(run.error)")
    }
}
