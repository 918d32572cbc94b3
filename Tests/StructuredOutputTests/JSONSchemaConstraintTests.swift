// JSON Schema and JSON object constraints: accepted and rejected texts, refusals by keyword.

import ServingTypes
import StructuredOutput
import Testing

@Suite struct JSONSchemaConstraintTests {
    private func matches(_ schema: String, _ text: String) throws -> Bool {
        try StructuredOutputs.matches(.jsonSchema(schema), text)
    }

    private func refusal(_ schema: String) -> String? {
        do {
            try StructuredOutputs.validate(.jsonSchema(schema))
            return nil
        } catch {
            return error.message
        }
    }

    static let person = """
        {"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}, "age": {"type": "integer", "minimum": 0, "maximum": 150},
         "email": {"type": ["string", "null"]}}, "required": ["name", "age"], "additionalProperties": false}
        """

    @Test func objectsKeepPropertyOrderAndRequiredMembers() throws {
        #expect(try matches(Self.person, #"{"name":"Ann","age":31}"#))
        #expect(try matches(Self.person, #"{"name": "Ann", "age": 31, "email": null}"#))
        #expect(try matches(Self.person, #"{"name":"Ann","age":31,"email":"a@b.c"}"#))
        #expect(try !matches(Self.person, #"{"age":31,"name":"Ann"}"#))
        #expect(try !matches(Self.person, #"{"name":"Ann"}"#))
        #expect(try !matches(Self.person, #"{"name":"Ann","age":31,"x":1}"#))
        #expect(try !matches(Self.person, #"{"name":"Ann","age":151}"#))
        #expect(try !matches(Self.person, #"{"name":"Annabelle!","age":1}"#))
        // Whitespace: only one optional space after ':' and ','.
        #expect(try !matches(Self.person, #"{ "name":"Ann","age":31}"#))
        #expect(try !matches(Self.person, #"{"name":  "Ann","age":31}"#))
        #expect(try !matches(Self.person, "{\"name\":\"Ann\",\n\"age\":31}"))
    }

    @Test func optionalMembersTakeCommasOnlyBetweenPresentOnes() throws {
        let schema = #"{"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "integer"}}}"#
        for text in ["{}", #"{"a":1}"#, #"{"b":2}"#, #"{"a":1,"c":3}"#, #"{"a":1,"b":2,"c":3}"#, #"{"c":3}"#] {
            #expect(try matches(schema, text), "\(text)")
        }
        for text in [#"{,"b":2}"#, #"{"a":1,}"#, #"{"a":1"b":2}"#, #"{"b":2,"a":1}"#] {
            #expect(try !matches(schema, text), "\(text)")
        }
    }

    @Test func stringsTakeEscapesButNoControlCharacters() throws {
        let schema = #"{"type": "string", "minLength": 2, "maxLength": 4}"#
        #expect(try matches(schema, #""ab""#))
        #expect(try matches(schema, #""a\"\u00e9\n""#))
        #expect(try matches(schema, #""日本語""#))
        #expect(try !matches(schema, #""a""#))
        #expect(try !matches(schema, #""abcde""#))
        #expect(try !matches(schema, "\"a\u{1}b\""))
        #expect(try !matches(schema, #""a\qb""#))
    }

    @Test func stringPatternsSearchUnlessAnchored() throws {
        #expect(try matches(#"{"type": "string", "pattern": "^[A-Z]{2}\\d{3}$"}"#, #""AB123""#))
        #expect(try !matches(#"{"type": "string", "pattern": "^[A-Z]{2}\\d{3}$"}"#, #""xAB123""#))
        #expect(try matches(#"{"type": "string", "pattern": "\\d{3}"}"#, #""abc123def""#))
        #expect(try !matches(#"{"type": "string", "pattern": "\\d{3}"}"#, #""abc12def""#))
    }

    @Test func enumsAndConstsOfAnyJSONValues() throws {
        let schema = #"{"enum": ["red", 1, 2.5, true, null, [1, "a"], {"k": "v"}]}"#
        for text in [#""red""#, "1", "2.5", "true", "null", #"[1,"a"]"#, #"{"k":"v"}"#] {
            #expect(try matches(schema, text), "\(text)")
        }
        #expect(try !matches(schema, #""blue""#))
        #expect(try matches(#"{"const": "a\"b"}"#, #""a\"b""#))
    }

    @Test func integerRangesAreExact() throws {
        for (lower, upper) in [(-37, 1234), (0, 9), (5, 5), (-1000, -10), (90, 10_100)] {
            let schema = #"{"type": "integer", "minimum": \#(lower), "maximum": \#(upper)}"#
            for value in stride(from: lower - 150, through: upper + 150, by: max(1, (upper - lower) / 300)) {
                #expect(try matches(schema, String(value)) == (lower...upper).contains(value), "\(value) in \(lower)...\(upper)")
            }
            #expect(try !matches(schema, "0\(abs(lower) + 1)"))
        }
        #expect(try matches(#"{"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3}"#, "2"))
        #expect(try !matches(#"{"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3}"#, "3"))
        #expect(try !matches(#"{"type": "integer"}"#, "-0"))
        #expect(try !matches(#"{"type": "integer"}"#, "12345678901234567"))
    }

    @Test func numbersWithinBoundsAndUnbounded() throws {
        let bounded = #"{"type": "number", "minimum": -1, "maximum": 2}"#
        for text in ["-1", "-0.5", "0", "0.25", "1.999", "2"] { #expect(try matches(bounded, text), "\(text)") }
        for text in ["-1.5", "2.5", "3", "2.0e1", "-2"] { #expect(try !matches(bounded, text), "\(text)") }
        let any = #"{"type": "number"}"#
        for text in ["0", "-12.5", "3e10", "6.02E+23", "1.5e-3"] { #expect(try matches(any, text), "\(text)") }
        for text in ["01", "1.", ".5", "+1", "1e", "1e100"] { #expect(try !matches(any, text), "\(text)") }
    }

    @Test func arraysNestedObjectsAnyOfAndTypeArrays() throws {
        let schema = """
            {"type": "object", "properties": {
              "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
              "point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}, "required": ["x", "y"]},
              "id": {"anyOf": [{"type": "integer"}, {"type": "string", "enum": ["none"]}]},
              "ok": {"type": "boolean"}, "n": {"type": "null"}},
             "required": ["tags", "point", "id"]}
            """
        #expect(try matches(schema, #"{"tags":["a"],"point":{"x":1,"y":-2.5},"id":7}"#))
        #expect(try matches(schema, #"{"tags": ["a", "b", "c"], "point": {"x": 0, "y": 0}, "id": "none", "ok": false, "n": null}"#))
        #expect(try !matches(schema, #"{"tags":[],"point":{"x":1,"y":2},"id":7}"#))
        #expect(try !matches(schema, #"{"tags":["a","b","c","d"],"point":{"x":1,"y":2},"id":7}"#))
        #expect(try !matches(schema, #"{"tags":["a"],"point":{"x":1},"id":7}"#))
        #expect(try !matches(schema, #"{"tags":["a"],"point":{"x":1,"y":2},"id":"x"}"#))
    }

    @Test func localReferencesAndBoundedRecursion() throws {
        let schema = """
            {"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
              "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}, "required": ["v", "next"]}},
             "$ref": "#/$defs/node"}
            """
        #expect(try matches(schema, #"{"v":1,"next":null}"#))
        #expect(try matches(schema, #"{"v":1,"next":{"v":2,"next":{"v":3,"next":null}}}"#))
        // Four expansions of the reference at most: the fifth nested node is impossible.
        let four = #"{"v":1,"next":{"v":2,"next":{"v":3,"next":{"v":4,"next":null}}}}"#
        #expect(try matches(schema, four))
        #expect(try !matches(schema, four.replacingFirstNull(with: #"{"v":5,"next":null}"#)))
        let definitions = ##"{"definitions": {"c": {"enum": ["r", "g"]}}, "type": "array", "items": {"$ref": "#/definitions/c"}}"##
        #expect(try matches(definitions, #"["r","g","r"]"#))
    }

    @Test func freeFormValuesAndJSONObject() throws {
        #expect(try matches("{}", #"[1,{"a":null},"x"]"#))
        #expect(try matches(#"{"type": "object"}"#, #"{"a":{"b":[true]}}"#))
        let object = OutputConstraint.jsonObject
        #expect(try StructuredOutputs.matches(object, #"{"a": [1, {"b": null}], "c": "d"}"#))
        #expect(try StructuredOutputs.matches(object, "{}"))
        #expect(try !StructuredOutputs.matches(object, "[1]"))
        #expect(try !StructuredOutputs.matches(object, #""x""#))
        let deep = { (levels: Int) in String(repeating: #"{"a":"#, count: levels - 1) + "{}" + String(repeating: "}", count: levels - 1) }
        #expect(try StructuredOutputs.matches(object, deep(8)))
        #expect(try !StructuredOutputs.matches(object, deep(9)))
    }

    @Test func refusesUnsupportedKeywordsByName() {
        #expect(refusal(#"{"type": "object", "properties": {"x": {"patternProperties": {}}}}"#)
            == "unsupported JSON Schema keyword 'patternProperties' at #/properties/x")
        #expect(refusal(#"{"oneOf": [{"type": "string"}]}"#)?.contains("'oneOf' at # (use anyOf)") == true)
        #expect(refusal(#"{"type": "string", "format": "date-time"}"#)?.contains("'format'") == true)
        #expect(refusal(#"{"allOf": []}"#)?.contains("'allOf'") == true)
        #expect(refusal(#"{"type": "object", "properties": {}, "additionalProperties": true}"#)?.contains("additionalProperties") == true)
        #expect(refusal(#"{"type": "number", "exclusiveMinimum": 0}"#)?.contains("integers only") == true)
        #expect(refusal(#"{"$ref": "https://example.com/s.json"}"#)?.contains("not supported") == true)
        #expect(refusal(##"{"$ref": "#/$defs/missing"}"##)?.contains("points at nothing") == true)
        #expect(refusal(#"{"type": "integer", "minimum": 5, "maximum": 4}"#)?.contains("leave no value") == true)
        #expect(refusal(#"{"type": "object", "properties": {"a": {}}, "required": ["b"]}"#)?.contains("'b'") == true)
        #expect(refusal(#"{"type": "strin"}"#)?.contains("'type' at #") == true)
        #expect(refusal("{not json")?.contains("not valid JSON") == true)
        #expect(refusal(##"{"$defs": {"n": {"properties": {"a": {"$ref": "#/$defs/n"}}, "required": ["a"]}}, "$ref": "#/$defs/n"}"##)?
            .contains("allows no value") == true)
        #expect(refusal(#"{"title": "T", "description": "d", "$schema": "x", "default": 1, "examples": [1], "type": "integer"}"#) == nil)
    }
}

extension String {
    fileprivate func replacingFirstNull(with replacement: String) -> String {
        guard let range = firstRange(of: "null") else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }
}
