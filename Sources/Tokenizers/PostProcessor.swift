// Post-processors from `tokenizer.json` (`post_processor` field), single sequences only.
// Mirrors HF tokenizers processors/{template,roberta,bert,sequence}.rs.

import OrderedJSON

/// Adds special tokens (such as BOS) around an encoded sequence.
indirect enum PostProcessor: Sendable {
    /// Ids to place before and after the sequence (TemplateProcessing, Roberta, Bert).
    case template(prefix: [Int], suffix: [Int])
    /// Changes offsets only (ByteLevel); ids are unchanged.
    case passthrough
    case sequence([PostProcessor])

    /// Decodes a post-processor object; unknown types throw `unsupportedType`.
    init(json: JSONValue, reader: ConfigReader) throws(TokenizerError) {
        let type = try reader.type(of: json, component: "post_processor")
        let component = "post_processor.\(type)"
        switch type {
        case "TemplateProcessing":
            self = try Self.template(json, reader: reader, component: component)
        case "RobertaProcessing", "BertProcessing":
            let cls = try Self.tokenPair(json, "cls", reader: reader, component: component)
            let sep = try Self.tokenPair(json, "sep", reader: reader, component: component)
            self = .template(prefix: [cls], suffix: [sep])
        case "ByteLevel":
            self = .passthrough
        case "Sequence":
            var steps: [PostProcessor] = []
            for item in try reader.array(json, "processors", in: component) {
                steps.append(try PostProcessor(json: item, reader: reader))
            }
            self = .sequence(steps)
        default:
            throw .unsupported("post_processor", type: type, path: reader.path)
        }
    }

    /// Applies the processor to the ids of one sequence.
    func process(_ ids: [Int]) -> [Int] {
        switch self {
        case .template(let prefix, let suffix):
            return prefix + ids + suffix
        case .passthrough:
            return ids
        case .sequence(let steps):
            return steps.reduce(ids) { $1.process($0) }
        }
    }

    /// `["<s>", 0]` style pair used by Roberta and Bert processors.
    private static func tokenPair(_ json: JSONValue, _ key: String, reader: ConfigReader, component: String)
        throws(TokenizerError) -> Int
    {
        let pair = try reader.array(json, key, in: component)
        guard pair.count == 2, let id = pair[1].intValue, ConfigReader.tokenIDs.contains(id) else {
            throw .invalidValue("\(component).\(key)", "expected [token, id]", path: reader.path)
        }
        return id
    }

    /// Reads `single` and `special_tokens` of a TemplateProcessing object.
    private static func template(_ json: JSONValue, reader: ConfigReader, component: String) throws(TokenizerError)
        -> PostProcessor
    {
        var specialIDs: [String: [Int]] = [:]
        if let special = json["special_tokens"]?.objectValue {
            for (name, value) in special {
                let ids = try reader.array(value, "ids", in: "\(component).special_tokens.\(name)")
                specialIDs[name] = try ids.map { (id) throws(TokenizerError) -> Int in
                    guard let id = id.intValue, ConfigReader.tokenIDs.contains(id) else {
                        throw .invalidValue(
                            "\(component).special_tokens.\(name).ids", "expected integers in \(ConfigReader.tokenIDs)",
                            path: reader.path)
                    }
                    return id
                }
            }
        }
        var prefix: [Int] = []
        var suffix: [Int] = []
        var seenSequence = false
        for item in try reader.array(json, "single", in: component) {
            if item["Sequence"] != nil {
                seenSequence = true
            } else if let special = item["SpecialToken"] {
                let name = try reader.string(special, "id", in: "\(component).single.SpecialToken")
                guard let ids = specialIDs[name] else {
                    throw .invalidValue("\(component).single", "special token '\(name)' is not in special_tokens", path: reader.path)
                }
                if seenSequence { suffix += ids } else { prefix += ids }
            } else {
                throw .invalidValue("\(component).single", "expected Sequence or SpecialToken items", path: reader.path)
            }
        }
        return .template(prefix: prefix, suffix: suffix)
    }
}
