// The `tokenizer.json` pipeline: added tokens → normalizer → pre-tokenizer → BPE →
// post-processor, and the reverse path through the decoder.
// Mirrors HF tokenizers tokenizer/mod.rs (TokenizerImpl::encode_single_sequence, decode).

import Foundation
import OrderedJSON

/// A Hugging Face `tokenizer.json` tokenizer with a BPE model.
///
/// Immutable and `Sendable`; `encode` and `decode` may run concurrently from many threads
/// (the BPE word cache is internally locked).
public struct BPETokenizer: Tokenizer {
    let model: BPEModel
    let addedVocabulary: AddedVocabulary
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let postProcessor: PostProcessor?
    let decoder: TokenDecoder?

    /// Model vocabulary plus added tokens whose ids are not in it.
    public let vocabularySize: Int
    /// Id of `bosToken` given at load time, if it is in the vocabulary.
    public let bosTokenID: Int?
    /// Ids of the EOS token names given at load time, then the extra ids, without duplicates.
    public let eosTokenIDs: [Int]
    /// Ids of added tokens with `"special": true`.
    public let specialTokenIDs: Set<Int>
    /// The chat template given at load time.
    public let chatTemplate: String?

    /// Parses a `tokenizer.json` document. `path` is used in error messages only; the token
    /// names and ids normally come from `tokenizer_config.json` and `generation_config.json`
    /// (see `AutoTokenizer.load(directory:)`).
    ///
    /// - Throws: `TokenizerError` for invalid JSON, a non-BPE model, unsupported component
    ///   types, or merges that reference tokens missing from the vocabulary.
    public init(
        tokenizerJSON data: Data, path: String = "tokenizer.json", bosToken: String? = nil,
        eosTokens: [String] = [], eosTokenIDs extraEOSTokenIDs: [Int] = [], chatTemplate: String? = nil
    ) throws(TokenizerError) {
        let reader = ConfigReader(path: path)
        let json: JSONValue
        do {
            json = try JSONValue.parse([UInt8](data))
        } catch {
            throw .invalidJSON("\(error.message) at byte \(error.offset)", path: path)
        }
        guard json.objectValue != nil else { throw .invalidJSON("top level is not an object", path: path) }
        try self.init(json: json, reader: reader, bosToken: bosToken, eosTokens: eosTokens,
            eosTokenIDs: extraEOSTokenIDs, chatTemplate: chatTemplate)
    }

    init(
        json: JSONValue, reader: ConfigReader, bosToken: String?, eosTokens: [String], eosTokenIDs extraEOSTokenIDs: [Int],
        chatTemplate: String?
    ) throws(TokenizerError) {
        guard let modelJSON = json["model"], !modelJSON.isNull else { throw .missingField("model", path: reader.path) }
        let modelType = try reader.optionalString(modelJSON, "type", in: "model") ?? "BPE"
        guard modelType == "BPE" else { throw .unsupported("model", type: modelType, path: reader.path) }
        model = try BPEModel(json: modelJSON, reader: reader)
        normalizer = try Self.optional(json["normalizer"]) { (value) throws(TokenizerError) in
            try Normalizer(json: value, reader: reader)
        }
        preTokenizer = try Self.optional(json["pre_tokenizer"]) { (value) throws(TokenizerError) in
            try PreTokenizer(json: value, reader: reader)
        }
        postProcessor = try Self.optional(json["post_processor"]) { (value) throws(TokenizerError) in
            try PostProcessor(json: value, reader: reader)
        }
        decoder = try Self.optional(json["decoder"]) { (value) throws(TokenizerError) in
            try TokenDecoder(json: value, reader: reader)
        }
        let addedJSON = json["added_tokens"]?.arrayValue ?? []
        addedVocabulary = try AddedVocabulary(json: addedJSON, normalizer: normalizer, reader: reader)

        let modelIDs = Set(model.vocabulary.values)
        vocabularySize = modelIDs.count + addedVocabulary.tokens.filter { !modelIDs.contains($0.id) }.count
        specialTokenIDs = Set(addedVocabulary.tokens.filter(\.isSpecial).map(\.id))
        self.chatTemplate = chatTemplate
        let added = addedVocabulary
        let vocabulary = model.vocabulary
        let lookup = { (name: String) -> Int? in
            let scalars = Array(name.unicodeScalars)
            return added.contentToID[scalars] ?? vocabulary[scalars]
        }
        var eosIDs: [Int] = []
        for token in eosTokens {
            if let id = lookup(token), !eosIDs.contains(id) { eosIDs.append(id) }
        }
        for id in extraEOSTokenIDs where !eosIDs.contains(id) { eosIDs.append(id) }
        self.bosTokenID = bosToken.flatMap(lookup)
        self.eosTokenIDs = eosIDs
    }

    private static func optional<T>(_ value: JSONValue?, _ body: (JSONValue) throws(TokenizerError) -> T)
        throws(TokenizerError) -> T?
    {
        guard let value, !value.isNull else { return nil }
        return try body(value)
    }

    /// Splits on added tokens, normalizes, pre-tokenizes, applies BPE, then the post-processor.
    /// Thread-safe. Complexity: linear in `text` plus O(w log w) per uncached word of w symbols.
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        for segment in addedVocabulary.segment(Array(text.unicodeScalars), normalizer: normalizer) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let piece):
                if let preTokenizer {
                    for word in preTokenizer.preTokenize([piece]) { model.tokenize(word.scalars, into: &ids) }
                } else {
                    model.tokenize(piece.scalars, into: &ids)
                }
            }
        }
        if addSpecialTokens, let postProcessor { ids = postProcessor.process(ids) }
        return ids
    }

    /// Maps ids to token strings and runs the decoder over all of them, as the reference does.
    /// Thread-safe.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        decode(tokens: tokenStrings(for: ids, skipSpecialTokens: skipSpecialTokens))
    }

    /// Token strings of `ids` as the decoder sees them: unknown ids dropped, special
    /// tokens dropped when `skipSpecialTokens` is true.
    func tokenStrings(for ids: [Int], skipSpecialTokens: Bool) -> [String] {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if skipSpecialTokens && specialTokenIDs.contains(id) { continue }
            if let token = tokenString(for: id) { tokens.append(token) }
        }
        return tokens
    }

    /// Runs the decoder (or joins with spaces when there is none).
    func decode(tokens: [String]) -> String {
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens)
    }

    /// Added-token content for `id`, else the model's token string.
    public func tokenString(for id: Int) -> String? {
        addedVocabulary.idToContent[id] ?? model.token(for: id)
    }

    /// The bytes `id` adds to decoded text mid-sequence (see ``Tokenizer/tokenBytes(for:)``).
    public func tokenBytes(for id: Int) -> [UInt8]? {
        if let content = addedVocabulary.idToContent[id] { return Array(content.utf8) }
        guard let token = model.token(for: id), let decoder else { return nil }
        return decoder.bytes(ofMiddleToken: token)
    }

    /// Id of an added token with content `token`, else of the model token; exact comparison.
    public func tokenID(for token: String) -> Int? {
        let scalars = Array(token.unicodeScalars)
        return addedVocabulary.contentToID[scalars] ?? model.vocabulary[scalars]
    }
}
