import Foundation
import Testing
import TestSupport

/// Structured outputs through a real router and worker with the official `openai` client:
/// `response_format` `json_schema` on a nested schema validates (Python `jsonschema`) at
/// temperatures 0 and 1, `json_object` parses, `regex` through `/generate` matches in full, and an
/// unsupported keyword is a 400 naming it.
@Suite struct StructuredOutputClusterTests {
    static let script = #"""
        import json, re, sys, urllib.request
        import jsonschema, openai
        url = sys.argv[1]
        client = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=300)
        model = client.models.list().data[0].id
        schema = {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 12},
                "age": {"type": "integer", "minimum": 0, "maximum": 120},
                "pet": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/pet"}]},
                "tags": {"type": "array", "items": {"enum": ["red", "blue", "green"]}, "minItems": 1, "maxItems": 3},
                "ok": {"type": "boolean"},
            },
            "required": ["name", "age", "tags", "ok"],
            "$defs": {"pet": {"type": "object", "properties": {"kind": {"enum": ["cat", "dog"]}, "legs": {"type": "integer", "minimum": 0, "maximum": 4}}, "required": ["kind"]}},
        }
        checked = 0
        for temperature, seed in [(0, None), (1, 1), (1, 2), (1, 3)]:
            answer = client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "Describe a person as JSON."}], max_tokens=200,
                temperature=temperature, seed=seed,
                response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}})
            choice = answer.choices[0]
            if choice.finish_reason == "length":
                continue
            assert choice.finish_reason == "stop", choice.finish_reason
            jsonschema.validate(json.loads(choice.message.content), schema)
            checked += 1
        assert checked >= 2, f"only {checked} answers finished within max_tokens"
        # The completions API has no response_format parameter in the client; RadixServe reads it from the body.
        text = client.completions.create(model=model, prompt="JSON:", max_tokens=120, temperature=1, seed=5,
                                         extra_body={"response_format": {"type": "json_object"}}).choices[0]
        if text.finish_reason == "stop":
            assert isinstance(json.loads(text.text), dict), text.text
        cut = client.completions.create(model=model, prompt="JSON:", max_tokens=3, extra_body={
            "response_format": {"type": "json_schema", "json_schema": {"name": "person", "schema": schema}}})
        assert cut.choices[0].finish_reason == "length", cut.choices[0].finish_reason
        body = json.dumps({"text": "Code:", "sampling_params": {"regex": "[A-Z]{2}-[0-9]{3}", "max_new_tokens": 16, "temperature": 1}})
        request = urllib.request.Request(url + "/generate", data=body.encode(), headers={"Content-Type": "application/json"})
        generated = json.loads(urllib.request.urlopen(request, timeout=300).read())
        assert re.fullmatch(r"[A-Z]{2}-[0-9]{3}", generated["text"]), generated
        try:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], response_format={
                "type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object", "patternProperties": {}}}})
            sys.exit("an unsupported keyword was accepted")
        except openai.BadRequestError as error:
            assert "patternProperties" in str(error), str(error)
        print("ok", checked)
        """#

    /// A nested schema through the `openai` client on a tiny fixture model (byte-level or
    /// byte-fallback tokenizer): every answer that ends with `stop` validates, a `length` cut is a
    /// prefix of one, at temperatures 0 and 1.
    static let fixtureScript = #"""
        import json, sys
        import jsonschema, openai
        client = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="none", max_retries=0, timeout=300)
        model = client.models.list().data[0].id
        schema = {
            "type": "object",
            "properties": {
                "id": {"type": "integer", "minimum": 0, "maximum": 99},
                "kind": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/kind"}]},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "maxItems": 2},
            },
            "required": ["id", "kind", "tags"],
            "$defs": {"kind": {"enum": ["a", "b"]}},
        }
        finished = 0
        for temperature, seed in [(0, None), (1, 1), (1, 2), (1, 3)]:
            choice = client.completions.create(model=model, prompt="Data:", max_tokens=120, temperature=temperature, seed=seed,
                extra_body={"response_format": {"type": "json_schema", "json_schema": {"name": "d", "schema": schema}}}).choices[0]
            if choice.finish_reason == "stop":
                jsonschema.validate(json.loads(choice.text), schema)
                finished += 1
            else:
                assert choice.finish_reason == "length" and choice.text.startswith("{"), (choice.finish_reason, choice.text)
        assert finished >= 1, "no answer finished within max_tokens"
        print("ok", finished)
        """#

    @Test(arguments: Fixtures.modelNames)
    func structuredOutputsValidateOnEveryFixtureModel(_ name: String) throws {
        guard try Python.requireModule("openai", package: "openai"), try Python.requireModule("jsonschema", package: "jsonschema") else {
            return
        }
        let cluster = try LocalCluster(model: Fixtures.model(name), workerCount: 1)
        let run = try Python.run(["-c", Self.fixtureScript, cluster.url])
        #expect(run.status == 0 && run.output.contains("ok"), "\(name): \(run.output)\n\(run.error)")
    }

    @Test func theOpenAIClientsStructuredOutputsValidate() throws {
        guard try Python.requireModule("openai", package: "openai"), try Python.requireModule("jsonschema", package: "jsonschema") else {
            return
        }
        let cluster = try LocalCluster(workerCount: 1)
        let run = try Python.run(["-c", Self.script, cluster.url])
        #expect(run.status == 0 && run.output.contains("ok"), "\(run.output)\n\(run.error)")
    }
}
