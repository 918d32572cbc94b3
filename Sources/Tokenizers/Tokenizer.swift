// The tokenizer contract used by the engine and the HTTP layer.

/// Converts between text and token ids for one model checkpoint.
///
/// Conforming types are immutable after loading and safe to call from any thread
/// concurrently. Token ids are the model's ids; the results of `encode` and `decode` match
/// the Hugging Face `tokenizers` library for the same `tokenizer.json`.
public protocol Tokenizer: Sendable {
    /// Encodes `text` into token ids.
    ///
    /// Added tokens that appear in `text` (for example `<|eot_id|>`) are recognized and
    /// mapped to their ids. When `addSpecialTokens` is true the post-processor's template
    /// (for example a leading BOS) is applied. Never fails: characters that the vocabulary
    /// cannot represent become the unknown token, byte-fallback tokens, or are dropped,
    /// as the reference library does. Complexity: linear in `text` for typical inputs.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]

    /// Decodes token ids back into text.
    ///
    /// Ids outside the vocabulary are ignored. When `skipSpecialTokens` is true, ids of
    /// special added tokens are dropped before decoding. Invalid UTF-8 produced by
    /// byte tokens is replaced with U+FFFD.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String

    /// The vocabulary string of `id` (added tokens included), or nil when `id` is unknown.
    func tokenString(for id: Int) -> String?

    /// The id of the vocabulary string `token`, compared exactly (not by canonical
    /// equivalence), or nil when absent. Added tokens are searched first.
    func tokenID(for token: String) -> Int?

    /// Number of distinct ids: the model vocabulary plus added tokens not already in it.
    var vocabularySize: Int { get }

    /// Id of the beginning-of-sequence token named by `tokenizer_config.json`, if any.
    var bosTokenID: Int? { get }

    /// Ids that end generation: `eos_token` from `tokenizer_config.json` followed by any
    /// `eos_token_id` entries from `generation_config.json`, without duplicates.
    var eosTokenIDs: [Int] { get }

    /// Ids of all added tokens marked `special`.
    var specialTokenIDs: Set<Int> { get }

    /// The bytes token `id` adds to decoded text in the middle of a sequence (byte-level tokens
    /// through GPT-2's byte map, `<0xNN>` byte-fallback tokens as their byte, Metaspace `▁` as a
    /// space; an added token as its content), or nil when `id` is unknown or the decoder has no
    /// per-token bytes. Structured outputs build their token masks from it. Thread-safe.
    func tokenBytes(for id: Int) -> [UInt8]?

    /// The Jinja chat template, if the checkpoint ships one; a `chat_template.jinja` file
    /// takes precedence over `chat_template` in `tokenizer_config.json`.
    var chatTemplate: String? { get }
}

extension Tokenizer {
    /// Default for tokenizers without per-token bytes: none.
    public func tokenBytes(for id: Int) -> [UInt8]? { nil }

    /// Encodes `text` with the post-processor's special tokens (for example BOS) added.
    public func encode(_ text: String) -> [Int] {
        encode(text, addSpecialTokens: true)
    }

    /// Decodes `ids`, keeping special tokens in the output.
    public func decode(_ ids: [Int]) -> String {
        decode(ids, skipSpecialTokens: false)
    }
}
