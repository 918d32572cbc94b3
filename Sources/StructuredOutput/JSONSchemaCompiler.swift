// RadixServe: the JSON Schema subset of structured outputs, compiled to a Pattern.

import OrderedJSON

/// Compiles a JSON Schema (the subset in README "Structured outputs") to the ``Pattern`` of the
/// compact JSON texts it accepts. Any keyword outside the subset is refused, naming it and its
/// location as a JSON pointer (`unsupported JSON Schema keyword 'patternProperties' at
/// #/properties/x`), so a schema is never silently weakened.
///
/// Deliberate narrowings, all documented: object members come in the schema's `properties`
/// order and no others (`additionalProperties: false` is assumed); free-form values (`{}`,
/// an object without `properties`, an array without `items`) nest at most
/// ``maxFreeFormDepth`` levels; a `$ref` is unrolled at most ``maxRefRecursion`` times inside
/// itself (deeper, that branch is impossible); numeric bounds are rounded inward to integers.
struct JSONSchemaCompiler {
    /// Nesting of objects/arrays allowed for a free-form value, counted from the document root.
    static let maxFreeFormDepth = 8
    /// How many times one `$ref` may be expanded within its own expansion.
    static let maxRefRecursion = 4

    /// Keywords that only annotate; they are ignored.
    static let annotations: Set<String> = ["title", "description", "$schema", "default", "examples", "$comment"]
    static let supported: Set<String> = annotations.union([
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const",
        "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf",
        "$ref", "$defs", "definitions",
    ])
    private static let typeNames: [String] = ["object", "array", "string", "integer", "number", "boolean", "null"]

    private let root: JSONValue
    private var expansions: [String: Int] = [:]

    /// Compiles the schema whose JSON text is `text`.
    /// - Throws: ``ConstraintError`` for invalid JSON or anything outside the subset.
    static func compile(_ text: String) throws(ConstraintError) -> Pattern {
        let root: JSONValue
        do {
            root = try JSONValue.parse(Array(text.utf8))
        } catch {
            throw ConstraintError("the JSON Schema is not valid JSON: \(error)")
        }
        var compiler = JSONSchemaCompiler(root: root)
        return try compiler.compile(root, path: "#", depth: 0)
    }

    private init(root: JSONValue) {
        self.root = root
    }

    private mutating func compile(_ schema: JSONValue, path: String, depth: Int) throws(ConstraintError) -> Pattern {
        if case .bool(let allowsAll) = schema {
            return allowsAll ? JSONGrammar.anyValue(depth: Self.maxFreeFormDepth - depth) : .nothing
        }
        guard case .object(let members) = schema else {
            throw ConstraintError("JSON Schema at \(path) must be an object or a boolean")
        }
        for member in members where !Self.supported.contains(member.key) {
            let hint = member.key == "oneOf" ? " (use anyOf)" : ""
            throw ConstraintError("unsupported JSON Schema keyword '\(member.key)' at \(path)\(hint)")
        }
        let keywords = Set(members.map(\.key)).subtracting(Self.annotations).subtracting(["$defs", "definitions"])
        if let reference = schema["$ref"] {
            if let other = keywords.subtracting(["$ref"]).sorted().first {
                throw ConstraintError("JSON Schema keyword '\(other)' beside '$ref' at \(path) is not supported")
            }
            return try compileReference(reference, path: path, depth: depth)
        }
        if let anyOf = schema["anyOf"] {
            if let other = keywords.subtracting(["anyOf"]).sorted().first {
                throw ConstraintError("JSON Schema keyword '\(other)' beside 'anyOf' at \(path) is not supported")
            }
            guard let branches = anyOf.arrayValue, !branches.isEmpty else {
                throw ConstraintError("'anyOf' at \(path) must be a non-empty array")
            }
            var alternatives: [Pattern] = []
            for (index, branch) in branches.enumerated() {
                alternatives.append(try compile(branch, path: "\(path)/anyOf/\(index)", depth: depth))
            }
            return .choice(alternatives)
        }
        if let constant = schema["const"] {
            return .literal(Self.serialize(constant))
        }
        if let values = schema["enum"] {
            guard let values = values.arrayValue, !values.isEmpty else {
                throw ConstraintError("'enum' at \(path) must be a non-empty array")
            }
            return .choice(values.map { .literal(Self.serialize($0)) })
        }
        let types = try self.types(of: schema, keywords: keywords, path: path)
        guard !types.isEmpty else { return JSONGrammar.anyValue(depth: Self.maxFreeFormDepth - depth) }
        var alternatives: [Pattern] = []
        for type in types {
            alternatives.append(try compile(schema, as: type, path: path, depth: depth))
        }
        return alternatives.count == 1 ? alternatives[0] : .choice(alternatives)
    }

    /// The schema's `type` (a name or an array of names), or the type its keywords imply.
    private func types(of schema: JSONValue, keywords: Set<String>, path: String) throws(ConstraintError) -> [String] {
        guard let type = schema["type"] else {
            if !keywords.isDisjoint(with: ["properties", "required", "additionalProperties"]) { return ["object"] }
            if !keywords.isDisjoint(with: ["items", "minItems", "maxItems"]) { return ["array"] }
            if !keywords.isDisjoint(with: ["pattern", "minLength", "maxLength"]) { return ["string"] }
            if !keywords.isDisjoint(with: ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]) { return ["number"] }
            return []
        }
        let names = type.arrayValue?.map(\.stringValue) ?? [type.stringValue]
        var result: [String] = []
        for name in names {
            guard let name, Self.typeNames.contains(name) else {
                throw ConstraintError("'type' at \(path) must name JSON types (\(Self.typeNames.joined(separator: ", ")))")
            }
            if !result.contains(name) { result.append(name) }
        }
        guard !result.isEmpty else { throw ConstraintError("'type' at \(path) is an empty array") }
        return result
    }

    private mutating func compile(_ schema: JSONValue, as type: String, path: String, depth: Int) throws(ConstraintError) -> Pattern {
        switch type {
        case "object": return try compileObject(schema, path: path, depth: depth)
        case "array": return try compileArray(schema, path: path, depth: depth)
        case "string": return try compileString(schema, path: path)
        case "integer", "number": return try compileNumber(schema, isInteger: type == "integer", path: path)
        case "boolean": return .choice([.literal("true"), .literal("false")])
        default: return .literal("null")
        }
    }

    private mutating func compileObject(_ schema: JSONValue, path: String, depth: Int) throws(ConstraintError) -> Pattern {
        if let additional = schema["additionalProperties"], additional.boolValue != false {
            throw ConstraintError("'additionalProperties' at \(path) is supported only as false (members are the listed properties)")
        }
        var required: [String] = []
        if let list = schema["required"] {
            guard let names = list.arrayValue?.compactMap(\.stringValue), names.count == list.arrayValue?.count else {
                throw ConstraintError("'required' at \(path) must be an array of strings")
            }
            required = names
        }
        guard let properties = schema["properties"] else {
            guard required.isEmpty else { throw ConstraintError("'required' at \(path) without 'properties' is not supported") }
            return JSONGrammar.anyObject(depth: max(1, Self.maxFreeFormDepth - depth))
        }
        guard let entries = properties.objectValue else { throw ConstraintError("'properties' at \(path) must be an object") }
        let names = Set(entries.map(\.key))
        if let missing = required.first(where: { !names.contains($0) }) {
            throw ConstraintError("required property '\(missing)' at \(path) is not in 'properties'")
        }
        var members: [Pattern.Member] = []
        for (name, value) in entries {
            let key = Self.serialize(.string(name))
            let body = try compile(value, path: "\(path)/properties/\(Self.escapePointer(name))", depth: depth + 1)
            members.append(Pattern.Member(
                pattern: .sequence([.literal(key), .byte(0x3A), JSONGrammar.space, body]),
                isRequired: required.contains(name)))
        }
        return .sequence([.byte(0x7B), .members(members, separator: JSONGrammar.separator), .byte(0x7D)])
    }

    private mutating func compileArray(_ schema: JSONValue, path: String, depth: Int) throws(ConstraintError) -> Pattern {
        let minItems = try count(schema, "minItems", path: path) ?? 0
        let maxItems = try count(schema, "maxItems", path: path)
        if let maxItems, maxItems < minItems { throw ConstraintError("'maxItems' < 'minItems' at \(path)") }
        let item: Pattern
        if let items = schema["items"] {
            guard items.objectValue != nil || items.boolValue != nil else {
                throw ConstraintError("'items' at \(path) must be a schema (tuple forms are not supported)")
            }
            item = try compile(items, path: "\(path)/items", depth: depth + 1)
        } else {
            item = JSONGrammar.anyValue(depth: max(0, Self.maxFreeFormDepth - depth - 1))
        }
        return .sequence([.byte(0x5B), .list(item: item, separator: JSONGrammar.separator, min: minItems, max: maxItems), .byte(0x5D)])
    }

    private func compileString(_ schema: JSONValue, path: String) throws(ConstraintError) -> Pattern {
        let minLength = try count(schema, "minLength", path: path) ?? 0
        let maxLength = try count(schema, "maxLength", path: path)
        if let maxLength, maxLength < minLength { throw ConstraintError("'maxLength' < 'minLength' at \(path)") }
        guard let pattern = schema["pattern"] else { return JSONGrammar.string(minLength: minLength, maxLength: maxLength) }
        guard schema["minLength"] == nil && schema["maxLength"] == nil else {
            throw ConstraintError("'pattern' together with 'minLength'/'maxLength' at \(path) is not supported")
        }
        guard let text = pattern.stringValue else { throw ConstraintError("'pattern' at \(path) must be a string") }
        let parsed: RegexParser.Parsed
        do {
            parsed = try RegexParser.parse(text)
        } catch {
            throw ConstraintError("\(error.message) in 'pattern' at \(path)")
        }
        // JSON Schema patterns search: unanchored ends allow any string characters there.
        let filler = Pattern.repetition(.scalars(JSONGrammar.plainCharacters), min: 0, max: nil)
        var parts: [Pattern] = [.byte(0x22)]
        if !parsed.isAnchoredAtStart { parts.append(filler) }
        parts.append(Self.restrictedToPlainCharacters(parsed.pattern))
        if !parsed.isAnchoredAtEnd { parts.append(filler) }
        parts.append(.byte(0x22))
        return .sequence(parts)
    }

    /// `pattern` without `"`, `\` or control characters, which a JSON string could only hold
    /// escaped (the pattern then matches the raw text between the quotes).
    static func restrictedToPlainCharacters(_ pattern: Pattern) -> Pattern {
        switch pattern {
        case .empty, .nothing: return pattern
        case .literal(let bytes):
            return bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C } ? .nothing : pattern
        case .bytes(let ranges):
            return .scalars(ScalarSet(ranges.map { UInt32($0.lowerBound)...UInt32(min($0.upperBound, 0x7F)) })
                .subtracting(JSONGrammar.plainCharacters.complement()))
        case .scalars(let set): return .scalars(set.subtracting(JSONGrammar.plainCharacters.complement()))
        case .sequence(let parts): return .sequence(parts.map(restrictedToPlainCharacters))
        case .choice(let parts): return .choice(parts.map(restrictedToPlainCharacters))
        case .repetition(let body, let min, let max): return .repetition(restrictedToPlainCharacters(body), min: min, max: max)
        case .list(let item, let separator, let min, let max):
            return .list(item: restrictedToPlainCharacters(item), separator: restrictedToPlainCharacters(separator), min: min, max: max)
        case .members(let members, let separator):
            return .members(
                members.map { Pattern.Member(pattern: restrictedToPlainCharacters($0.pattern), isRequired: $0.isRequired) },
                separator: restrictedToPlainCharacters(separator))
        }
    }

    private func compileNumber(_ schema: JSONValue, isInteger: Bool, path: String) throws(ConstraintError) -> Pattern {
        func bound(_ keyword: String) throws(ConstraintError) -> Double? {
            guard let value = schema[keyword] else { return nil }
            guard let number = value.doubleValue else { throw ConstraintError("'\(keyword)' at \(path) must be a number") }
            return number
        }
        let minimum = try bound("minimum")
        let maximum = try bound("maximum")
        let exclusiveMinimum = try bound("exclusiveMinimum")
        let exclusiveMaximum = try bound("exclusiveMaximum")
        if !isInteger && (exclusiveMinimum != nil || exclusiveMaximum != nil) {
            throw ConstraintError("'exclusiveMinimum'/'exclusiveMaximum' at \(path) are supported for integers only")
        }
        if !isInteger && minimum == nil && maximum == nil { return JSONGrammar.unboundedNumber }
        let limit = Double(JSONGrammar.maxMagnitude)
        var lower = -limit
        var upper = limit
        if let minimum { lower = max(lower, minimum.rounded(.up)) }
        if let maximum { upper = min(upper, maximum.rounded(.down)) }
        if let exclusiveMinimum { lower = max(lower, exclusiveMinimum.rounded(.down) + 1) }
        if let exclusiveMaximum { upper = min(upper, exclusiveMaximum.rounded(.up) - 1) }
        guard lower <= upper else {
            throw ConstraintError("the numeric bounds at \(path) leave no value with at most \(JSONGrammar.maxIntegerDigits) digits")
        }
        return isInteger ? JSONGrammar.integer(Int(lower), Int(upper)) : JSONGrammar.boundedNumber(Int(lower), Int(upper))
    }

    private func count(_ schema: JSONValue, _ keyword: String, path: String) throws(ConstraintError) -> Int? {
        guard let value = schema[keyword] else { return nil }
        guard let count = value.intValue, count >= 0 else {
            throw ConstraintError("'\(keyword)' at \(path) must be a non-negative integer")
        }
        guard count <= 10_000 else { throw ConstraintError("'\(keyword)' at \(path) exceeds 10000") }
        return count
    }

    private mutating func compileReference(_ reference: JSONValue, path: String, depth: Int) throws(ConstraintError) -> Pattern {
        guard let pointer = reference.stringValue else { throw ConstraintError("'$ref' at \(path) must be a string") }
        guard pointer == "#" || pointer.hasPrefix("#/$defs/") || pointer.hasPrefix("#/definitions/") else {
            throw ConstraintError("'$ref' '\(pointer)' at \(path) is not supported (only #, #/$defs/… and #/definitions/…)")
        }
        var target = root
        for segment in pointer.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) where pointer != "#" {
            let name = String(segment.replacing("~1", with: "/").replacing("~0", with: "~"))
            guard let next = target[name] else { throw ConstraintError("'$ref' '\(pointer)' at \(path) points at nothing") }
            target = next
        }
        let count = expansions[pointer, default: 0]
        guard count < Self.maxRefRecursion else { return .nothing }
        expansions[pointer] = count + 1
        defer { expansions[pointer] = count }
        return try compile(target, path: pointer, depth: depth)
    }

    private static func escapePointer(_ name: String) -> String {
        name.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    /// Compact JSON bytes of `value` (object keys in their order; strings with the minimal escapes).
    static func serialize(_ value: JSONValue) -> [UInt8] {
        var bytes: [UInt8] = []
        append(value, to: &bytes)
        return bytes
    }

    private static func append(_ value: JSONValue, to bytes: inout [UInt8]) {
        switch value {
        case .null: bytes += Array("null".utf8)
        case .bool(let flag): bytes += Array((flag ? "true" : "false").utf8)
        case .integer(let number): bytes += Array(String(number).utf8)
        case .number(let number): bytes += Array("\(number)".utf8)
        case .string(let text):
            bytes.append(0x22)
            for byte in text.utf8 {
                switch byte {
                case 0x22: bytes += [0x5C, 0x22]
                case 0x5C: bytes += [0x5C, 0x5C]
                case 0x0A: bytes += [0x5C, 0x6E]
                case 0x0D: bytes += [0x5C, 0x72]
                case 0x09: bytes += [0x5C, 0x74]
                case 0x08: bytes += [0x5C, 0x62]
                case 0x0C: bytes += [0x5C, 0x66]
                case ..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
                default: bytes.append(byte)
                }
            }
            bytes.append(0x22)
        case .array(let items):
            bytes.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(0x2C) }
                append(item, to: &bytes)
            }
            bytes.append(0x5D)
        case .object(let members):
            bytes.append(0x7B)
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(0x2C) }
                append(.string(member.key), to: &bytes)
                bytes.append(0x3A)
                append(member.value, to: &bytes)
            }
            bytes.append(0x7D)
        }
    }
}
