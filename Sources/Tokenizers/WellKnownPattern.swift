// Hand-coded scanners for the pre-tokenizer regexes used by GPT-2, Llama 3 and Qwen 2.
// Each scanner reproduces Oniguruma's leftmost-first alternation for its exact pattern.

/// A pre-tokenizer regex recognized by its exact source text and matched by a scanner.
enum WellKnownPattern: Sendable, Equatable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// The Llama 3 family: case-insensitive contractions, `\p{N}{1,maxDigits}` (0 = unbounded).
    case llama3(maxDigits: Int)

    static let gpt2Source = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Source =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Source =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Recognizes `source` when it is exactly one of the supported patterns.
    init?(source: String) {
        switch source {
        case _ where source.utf8.elementsEqual(Self.gpt2Source.utf8): self = .gpt2
        case _ where source.utf8.elementsEqual(Self.llama3Source.utf8): self = .llama3(maxDigits: 3)
        case _ where source.utf8.elementsEqual(Self.qwen2Source.utf8): self = .llama3(maxDigits: 1)
        default: return nil
        }
    }

    /// Matches as `Regex.find_iter` would report them. Every scalar belongs to one match.
    func matches(in text: [Unicode.Scalar]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        result.reserveCapacity(text.count / 4 + 1)
        text.withUnsafeBufferPointer { buffer in
            var index = 0
            while index < buffer.count {
                let end: Int
                switch self {
                case .gpt2: end = Self.gpt2Match(buffer, at: index)
                case .llama3(let maxDigits): end = Self.llama3Match(buffer, at: index, maxDigits: maxDigits)
                }
                assert(end > index)
                result.append(index..<end)
                index = end
            }
        }
        return result
    }

    // MARK: - Shared pieces

    @inline(__always)
    private static func classOf(_ text: UnsafeBufferPointer<Unicode.Scalar>, _ index: Int) -> ScalarClass? {
        index < text.count ? ScalarClass.of(text[index]) : nil
    }

    /// Length of `'s|'t|'re|'ve|'m|'ll|'d` at `index`, optionally case-insensitive; 0 if none.
    private static func contractionLength(
        _ text: UnsafeBufferPointer<Unicode.Scalar>, at index: Int, ignoringCase: Bool
    ) -> Int {
        guard text[index] == "'", index + 1 < text.count else { return 0 }
        func lower(_ offset: Int) -> Unicode.Scalar? {
            guard index + offset < text.count else { return nil }
            let scalar = text[index + offset]
            guard ignoringCase else { return scalar }
            if scalar == "\u{17F}" { return "s" }  // LATIN SMALL LETTER LONG S case-folds to "s".
            if scalar.value >= 0x41 && scalar.value <= 0x5A { return Unicode.Scalar(scalar.value + 0x20) }
            return scalar
        }
        switch lower(1) {
        case "s", "t", "m", "d": return 2
        case "r", "v": return lower(2) == "e" ? 3 : 0
        case "l": return lower(2) == "l" ? 3 : 0
        default: return 0
        }
    }

    /// End of the run of scalars of class `cls` starting at `index`.
    @inline(__always)
    private static func runEnd(
        _ text: UnsafeBufferPointer<Unicode.Scalar>, from index: Int, where cls: ScalarClass, limit: Int = .max
    ) -> Int {
        var end = index
        while end < text.count && end - index < limit && ScalarClass.of(text[end]) == cls { end += 1 }
        return end
    }

    /// `\s+(?!\S)|\s+` at a whitespace scalar.
    private static func whitespaceMatch(_ text: UnsafeBufferPointer<Unicode.Scalar>, at index: Int) -> Int {
        let end = runEnd(text, from: index, where: .whitespace)
        if end == text.count || end - 1 == index { return end }
        return end - 1
    }

    // MARK: - GPT-2

    private static func gpt2Match(_ text: UnsafeBufferPointer<Unicode.Scalar>, at index: Int) -> Int {
        let contraction = contractionLength(text, at: index, ignoringCase: false)
        if contraction > 0 { return index + contraction }
        var start = index
        if text[index] == " ", let next = classOf(text, index + 1), next != .whitespace {
            start = index + 1
        }
        switch ScalarClass.of(text[start]) {
        case .letter, .number, .other:
            return runEnd(text, from: start, where: ScalarClass.of(text[start]))
        case .whitespace:
            return whitespaceMatch(text, at: index)
        }
    }

    // MARK: - Llama 3 / Qwen 2

    private static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\r" || scalar == "\n"
    }

    private static func llama3Match(_ text: UnsafeBufferPointer<Unicode.Scalar>, at index: Int, maxDigits: Int) -> Int {
        let contraction = contractionLength(text, at: index, ignoringCase: true)
        if contraction > 0 { return index + contraction }
        let first = text[index]
        let cls = ScalarClass.of(first)
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if cls == .letter {
            return runEnd(text, from: index, where: .letter)
        }
        if cls != .number && !isLineBreak(first) && classOf(text, index + 1) == .letter {
            return runEnd(text, from: index + 1, where: .letter)
        }
        // \p{N}{1,n}
        if cls == .number {
            return runEnd(text, from: index, where: .number, limit: maxDigits == 0 ? .max : maxDigits)
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        var start = index
        if first == " ", classOf(text, index + 1) == .other { start = index + 1 }
        if ScalarClass.of(text[start]) == .other {
            var end = runEnd(text, from: start, where: .other)
            while end < text.count && isLineBreak(text[end]) { end += 1 }
            return end
        }
        // \s*[\r\n]+
        let wsEnd = runEnd(text, from: index, where: .whitespace)
        var lastBreak = -1
        var probe = wsEnd - 1
        while probe >= index {
            if isLineBreak(text[probe]) {
                lastBreak = probe
                break
            }
            probe -= 1
        }
        if lastBreak >= 0 { return lastBreak + 1 }
        // \s+(?!\S)|\s+
        return whitespaceMatch(text, at: index)
    }
}
