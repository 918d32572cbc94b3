// The BPE model from `tokenizer.json` (`model` field).
// Mirrors HF tokenizers models/bpe/model.rs (BPE::from config, merge_word, tokenize).

import OrderedJSON

/// A byte-pair-encoding model: vocabulary, ranked merges and unknown-character policy.
///
/// Immutable after loading except for its word cache, which is internally locked, so it is
/// safe to use from many threads.
struct BPEModel: Sendable {
    /// Token string (as scalars) to id.
    let vocabulary: [[Unicode.Scalar]: Int]
    /// Id to token string. A dictionary, not an array indexed by id: a file may name any id, and
    /// memory must follow the entries, not the largest id.
    let tokens: [Int: String]
    /// Packed `(left id << 32 | right id)` to packed `(rank << 32 | merged id)`.
    let merges: [UInt64: UInt64]
    /// Id of each single-scalar token, for the fast path of the initial split.
    let scalarIDs: [Unicode.Scalar: Int]
    /// Id of `<0xNN>` for each byte, or -1; empty when `byte_fallback` is off.
    let byteIDs: [Int]
    let unknownID: Int?
    let fusesUnknown: Bool
    let ignoresMerges: Bool
    let continuingSubwordPrefix: [Unicode.Scalar]?
    let endOfWordSuffix: [Unicode.Scalar]?
    let cache = WordCache(capacity: 10_000)

    /// Decodes a `{"type": "BPE", ...}` model object.
    init(json: JSONValue, reader: ConfigReader) throws(TokenizerError) {
        let component = "model"
        if let type = try reader.optionalString(json, "type", in: component), type != "BPE" {
            throw .unsupported("model", type: type, path: reader.path)
        }
        if let dropout = json["dropout"]?.doubleValue, dropout > 0 {
            throw .invalidValue("model.dropout", "BPE dropout is not supported", path: reader.path)
        }
        guard let vocabJSON = json["vocab"], !vocabJSON.isNull else { throw .missingField("model.vocab", path: reader.path) }
        guard let entries = vocabJSON.objectValue else {
            throw .invalidValue("model.vocab", "expected an object of token to id", path: reader.path)
        }
        var vocabulary: [[Unicode.Scalar]: Int] = [:]
        vocabulary.reserveCapacity(entries.count)
        // Ids are Int32 on the wire and packed into 32 bits in `merges`.
        for (token, value) in entries {
            guard let id = value.intValue, ConfigReader.tokenIDs.contains(id) else {
                throw .invalidValue(
                    "model.vocab", "id of '\(token)' is not an integer in \(ConfigReader.tokenIDs)", path: reader.path)
            }
            vocabulary[Array(token.unicodeScalars)] = id
        }
        var tokens: [Int: String] = [:]
        tokens.reserveCapacity(entries.count)
        var scalarIDs: [Unicode.Scalar: Int] = [:]
        for (token, value) in entries {
            let id = value.intValue!
            tokens[id] = token
            var scalars = token.unicodeScalars.makeIterator()
            if let first = scalars.next(), scalars.next() == nil { scalarIDs[first] = id }
        }
        self.vocabulary = vocabulary
        self.tokens = tokens
        self.scalarIDs = scalarIDs

        let prefix = try reader.optionalString(json, "continuing_subword_prefix", in: component)
        // An empty prefix or suffix behaves exactly like none.
        continuingSubwordPrefix = prefix.flatMap { $0.isEmpty ? nil : Array($0.unicodeScalars) }
        endOfWordSuffix = try reader.optionalString(json, "end_of_word_suffix", in: component)
            .flatMap { $0.isEmpty ? nil : Array($0.unicodeScalars) }
        fusesUnknown = try reader.bool(json, "fuse_unk", default: false, in: component)
        ignoresMerges = try reader.bool(json, "ignore_merges", default: false, in: component)
        if let unknown = try reader.optionalString(json, "unk_token", in: component) {
            guard let id = vocabulary[Array(unknown.unicodeScalars)] else {
                throw .invalidVocabulary("model.unk_token '\(unknown)' is not in the vocabulary", path: reader.path)
            }
            unknownID = id
        } else {
            unknownID = nil
        }
        if try reader.bool(json, "byte_fallback", default: false, in: component) {
            byteIDs = (0..<256).map { byte in
                let hex = String(byte, radix: 16, uppercase: true)
                let name = "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
                return vocabulary[Array(name.unicodeScalars)] ?? -1
            }
        } else {
            byteIDs = []
        }
        merges = try Self.readMerges(json, vocabulary: vocabulary, prefixLength: continuingSubwordPrefix?.count ?? 0, reader: reader)
    }

    private static func readMerges(
        _ json: JSONValue, vocabulary: [[Unicode.Scalar]: Int], prefixLength: Int, reader: ConfigReader
    ) throws(TokenizerError) -> [UInt64: UInt64] {
        let items = try reader.array(json, "merges", in: "model")
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity(items.count)
        for (rank, item) in items.enumerated() {
            let left: [Unicode.Scalar]
            let right: [Unicode.Scalar]
            if let line = item.stringValue {
                let scalars = Array(line.unicodeScalars)
                guard let space = scalars.firstIndex(of: " ") else {
                    throw .invalidValue("model.merges", "merge \(rank) '\(line)' is not two tokens", path: reader.path)
                }
                left = Array(scalars[..<space])
                right = Array(scalars[(space + 1)...])
            } else if let pair = item.arrayValue, pair.count == 2, let first = pair[0].stringValue,
                let second = pair[1].stringValue
            {
                left = Array(first.unicodeScalars)
                right = Array(second.unicodeScalars)
            } else {
                throw .invalidValue("model.merges", "merge \(rank) is neither \"a b\" nor [\"a\", \"b\"]", path: reader.path)
            }
            guard let leftID = vocabulary[left], let rightID = vocabulary[right] else {
                throw .invalidVocabulary(
                    "merge \(rank) names a token missing from the vocabulary", path: reader.path)
            }
            let merged = left + right.dropFirst(min(prefixLength, right.count))
            guard let mergedID = vocabulary[merged] else {
                throw .invalidVocabulary(
                    "merge \(rank) produces '\(String(String.UnicodeScalarView(merged)))', which is not in the vocabulary",
                    path: reader.path)
            }
            merges[UInt64(leftID) << 32 | UInt64(rightID)] = UInt64(rank) << 32 | UInt64(mergedID)
        }
        return merges
    }

    /// Number of entries in the vocabulary.
    var vocabularyCount: Int { vocabulary.count }

    /// Token string of `id`, if the model knows it.
    func token(for id: Int) -> String? {
        tokens[id]
    }

    /// Appends the ids of one pre-tokenized word to `ids`.
    func tokenize(_ word: [Unicode.Scalar], into ids: inout [Int]) {
        if word.isEmpty { return }
        if ignoresMerges, let id = vocabulary[word] {
            ids.append(id)
            return
        }
        if let cached = cache.lookup(word) {
            ids.append(contentsOf: cached)
            return
        }
        let result = mergeWord(word)
        cache.store(word, result)
        ids.append(contentsOf: result)
    }

    /// Splits `word` into initial symbols (characters, byte fallback or unknown) and merges them.
    private func mergeWord(_ word: [Unicode.Scalar]) -> [Int] {
        var symbols: [Int] = []
        symbols.reserveCapacity(word.count)
        var pendingUnknown = false
        let hasAffixes = continuingSubwordPrefix != nil || endOfWordSuffix != nil
        for (index, scalar) in word.enumerated() {
            var id: Int?
            var key: [Unicode.Scalar] = []
            if hasAffixes {
                if index > 0, let prefix = continuingSubwordPrefix { key.append(contentsOf: prefix) }
                key.append(scalar)
                if index == word.count - 1, let suffix = endOfWordSuffix { key.append(contentsOf: suffix) }
                id = vocabulary[key]
            } else {
                id = scalarIDs[scalar]
            }
            if let id {
                if pendingUnknown, let unknownID { symbols.append(unknownID) }
                pendingUnknown = false
                symbols.append(id)
                continue
            }
            if !byteIDs.isEmpty {
                let bytes: [UInt8] = hasAffixes ? Array(String(String.UnicodeScalarView(key)).utf8) : Array(UTF8.encode(scalar)!)
                let fallback = bytes.map { byteIDs[Int($0)] }
                if !fallback.contains(-1) {
                    symbols.append(contentsOf: fallback)
                    continue
                }
            }
            if let unknownID {
                if pendingUnknown && !fusesUnknown { symbols.append(unknownID) }
                pendingUnknown = true
            }
        }
        if pendingUnknown, let unknownID { symbols.append(unknownID) }
        return BPEMerger.mergeAll(symbols, merges: merges)
    }
}
