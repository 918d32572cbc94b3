// RadixServe: a model vocabulary as byte strings in a trie, for computing token masks.

import Tokenizers

/// The byte string of every token id a constraint may allow, laid out as a byte trie in
/// preorder so a mask is one forward scan that skips dead subtrees.
///
/// Ids without bytes (special tokens, ids the tokenizer does not know, tokens with empty text)
/// are never allowed by a constraint. Immutable and `Sendable`: build it once per model and share.
public final class TokenVocabulary: Sendable {
    /// Number of token ids covered, `0..<size` (the model's vocabulary size; ids the tokenizer
    /// lacks have no bytes).
    public let size: Int
    let tokenBytes: [[UInt8]]
    // Trie in preorder; node 0 is the root (depth 0, no byte).
    let nodeByte: [UInt8]
    let nodeDepth: [UInt16]
    /// Index one past the node's subtree.
    let subtreeEnd: [Int32]
    /// Tokens ending at node n are `nodeTokens[tokenStart[n]..<tokenStart[n + 1]]`.
    let tokenStart: [Int32]
    let nodeTokens: [Int32]
    /// The longest token, in bytes.
    let maxTokenLength: Int

    /// Creates a vocabulary from each id's bytes; nil or empty: never allowed.
    public init(tokenBytes bytes: [[UInt8]?]) {
        size = bytes.count
        let tokenBytes = bytes.map { $0 ?? [] }
        self.tokenBytes = tokenBytes
        let order = tokenBytes.indices.filter { !tokenBytes[$0].isEmpty }
            .sorted { tokenBytes[$0].lexicographicallyPrecedes(tokenBytes[$1]) }
        var byteOf: [UInt8] = [0]
        var depthOf: [UInt16] = [0]
        var ends: [Int32] = [0]
        var tokensAt: [[Int32]] = [[]]
        // Path of open nodes from the root; an open node's subtree end is set when it closes.
        var path: [Int] = [0]
        var previous: [UInt8] = []
        for id in order {
            let token = tokenBytes[id]
            var shared = 0
            while shared < min(previous.count, token.count) && previous[shared] == token[shared] { shared += 1 }
            while path.count > shared + 1 {
                ends[path.removeLast()] = Int32(byteOf.count)
            }
            for position in shared..<token.count {
                byteOf.append(token[position])
                depthOf.append(UInt16(clamping: position + 1))
                ends.append(0)
                tokensAt.append([])
                path.append(byteOf.count - 1)
            }
            tokensAt[path.last!].append(Int32(id))
            previous = token
        }
        for node in path { ends[node] = Int32(byteOf.count) }
        nodeByte = byteOf
        nodeDepth = depthOf
        subtreeEnd = ends
        var starts: [Int32] = [0]
        var flat: [Int32] = []
        for tokens in tokensAt {
            flat += tokens
            starts.append(Int32(flat.count))
        }
        tokenStart = starts
        nodeTokens = flat
        maxTokenLength = tokenBytes.map(\.count).max() ?? 0
    }

    /// The vocabulary of `tokenizer` over `size` ids (the model's vocabulary, at least the
    /// tokenizer's when nil), without its special tokens.
    public convenience init(tokenizer: any Tokenizer, size: Int? = nil) {
        let count = size ?? tokenizer.vocabularySize
        let special = tokenizer.specialTokenIDs
        self.init(tokenBytes: (0..<count).map { id in special.contains(id) ? nil : tokenizer.tokenBytes(for: id) })
    }

    /// Number of trie nodes (the root included).
    var nodeCount: Int { nodeByte.count }

    /// The bytes of `id`; empty when it is never allowed.
    public func bytes(of id: Int) -> [UInt8] {
        id >= 0 && id < size ? tokenBytes[id] : []
    }
}
