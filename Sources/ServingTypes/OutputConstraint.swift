// RadixServe: a constraint on the text a request may generate (structured outputs).

/// What a request's output must match; the worker compiles it once (cached by its text) into an
/// automaton over the model's vocabulary and masks each step's logits to the tokens it allows.
public enum OutputConstraint: Hashable, Sendable {
    /// One JSON object (`response_format: {"type": "json_object"}`).
    case jsonObject
    /// JSON valid against this JSON Schema, given as its JSON text (`response_format` `json_schema`,
    /// or `json_schema` in `/generate`'s sampling parameters).
    case jsonSchema(String)
    /// Text matched in full by this regular expression (`regex` in `/generate`'s sampling parameters).
    case regex(String)

    /// The longest schema or pattern accepted, in bytes.
    public static let maxTextBytes = 64 * 1024
}
