// RadixServe: the output constraint of a request body (`response_format`, `json_schema`), read in key order.

import OrderedJSON
import ServingTypes

/// The constraint a body asks for outside ``SamplingFields``: OpenAI's `response_format` on the
/// two OpenAI endpoints, and an object-valued `json_schema` in `/generate`'s `sampling_params`.
/// The body is read again with the order-keeping parser, because a schema's properties are
/// generated in the order it lists them.
package struct OutputFormat: Sendable {
    /// The constraint found, if any.
    package var constraint: OutputConstraint?
    /// The field it came from, for errors.
    package var constraintName: String?

    package init() {}

    /// `response_format` of an OpenAI body (`text`: none, `json_object`, or `json_schema` with
    /// `json_schema.schema`), or an object-valued `json_schema` beside the sampling fields, which
    /// the OpenAI endpoints take flattened into the body.
    /// - Throws: ``APIError`` 400 naming what is missing or unknown, or both given.
    package static func openAI(_ bytes: [UInt8]) throws(APIError) -> OutputFormat {
        guard let body = try? JSONValue.parse(bytes) else { return OutputFormat() }
        let format = try responseFormat(body["response_format"])
        let schema = try schemaObject(body["json_schema"])
        guard format.constraint == nil || schema.constraint == nil else {
            throw APIError.invalid("give one of response_format, regex and json_schema, not several", param: "response_format")
        }
        return format.constraint == nil ? schema : format
    }

    /// An object-valued `sampling_params.json_schema` of a `/generate` body (a string-valued one is
    /// in ``SamplingFields/jsonSchema``).
    /// - Throws: ``APIError`` 400 when `json_schema` is neither a string nor an object.
    package static func generate(_ bytes: [UInt8]) throws(APIError) -> OutputFormat {
        guard let body = try? JSONValue.parse(bytes) else { return OutputFormat() }
        return try schemaObject(body["sampling_params"]?["json_schema"])
    }

    private static func responseFormat(_ value: JSONValue?) throws(APIError) -> OutputFormat {
        var format = OutputFormat()
        guard let value, !value.isNull else { return format }
        format.constraintName = "response_format"
        guard value.objectValue != nil else {
            throw APIError.invalid("response_format must be an object such as {\"type\": \"json_object\"}", param: "response_format")
        }
        switch value["type"]?.stringValue {
        case "text":
            return OutputFormat()
        case "json_object":
            format.constraint = .jsonObject
        case "json_schema":
            guard let schema = value["json_schema"]?["schema"], schema.objectValue != nil || schema.boolValue != nil else {
                throw APIError.invalid(
                    "response_format of type json_schema needs json_schema.schema, a JSON Schema object",
                    param: "response_format.json_schema.schema")
            }
            format.constraint = .jsonSchema(schema.serialized)
        case let other:
            throw APIError.invalid(
                "unknown response_format type \(other.map { "'\($0)'" } ?? "(missing)"); use text, json_object or json_schema",
                param: "response_format.type")
        }
        return format
    }

    /// A `json_schema` field given as an object (a string is read by ``SamplingFields``).
    private static func schemaObject(_ schema: JSONValue?) throws(APIError) -> OutputFormat {
        var format = OutputFormat()
        guard let schema, !schema.isNull, schema.stringValue == nil else { return format }
        guard schema.objectValue != nil else {
            throw APIError.invalid("json_schema must be a JSON Schema object or its JSON text", param: "json_schema")
        }
        format.constraint = .jsonSchema(schema.serialized)
        format.constraintName = "json_schema"
        return format
    }
}
