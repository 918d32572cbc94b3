// Regex constraints: which strings match in full, and which constructs are refused.

import ServingTypes
import StructuredOutput
import Testing

@Suite struct RegexConstraintTests {
    private func matches(_ regex: String, _ text: String) throws -> Bool {
        try StructuredOutputs.matches(.regex(regex), text)
    }

    private func refusal(_ regex: String) -> String? {
        do {
            try StructuredOutputs.validate(.regex(regex))
            return nil
        } catch {
            return error.message
        }
    }

    @Test func matchesWholeOutputOnly() throws {
        #expect(try matches(#"\d{3}-\d{4}"#, "555-1234"))
        #expect(try !matches(#"\d{3}-\d{4}"#, "555-12345"))
        #expect(try !matches(#"\d{3}-\d{4}"#, "x555-1234"))
        #expect(try matches("^(yes|no)$", "yes"))
        #expect(try !matches("yes|no", "yesno"))
    }

    @Test func quantifiersAndGroups() throws {
        let regex = "(?:ab)+c?d{2,3}e{2,}f*"
        for text in ["abddee", "ababcdddeeefff", "abcddee"] { #expect(try matches(regex, text), "\(text)") }
        for text in ["ddee", "abcdee", "abddddee", "abdde", "abddeeg"] { #expect(try !matches(regex, text), "\(text)") }
        #expect(try !matches("a{2}", "aaa"))
        #expect(try matches("a{0}b", "b"))
        #expect(try matches("(a|bc)*?d", "abcad"))
        #expect(try matches("(?<name>x)(?P<other>y)", "xy"))
    }

    @Test func classesAndEscapes() throws {
        #expect(try matches("[a-z0-9_]+", "abc_09"))
        #expect(try !matches("[a-z0-9_]+", "abc-09"))
        #expect(try matches(#"[^"]*"#, "it's é ✓"))
        #expect(try !matches(#"[^"]*"#, #"a"b"#))
        #expect(try matches(#"\w+\s\W\.\\\n\t"#, "ab_1 !.\\\n\t"))
        #expect(try matches(#"\u00e9\x41\u{1F600}"#, "éA😀"))
        #expect(try matches(#"[\d.-]+"#, "-3.14"))
        #expect(try matches(#"\{"a"\}"#, #"{"a"}"#))
        #expect(try matches("a{x", "a{x"))
    }

    @Test func dotAndClassesAreUTF8Aware() throws {
        #expect(try matches("...", "é日😀"))
        #expect(try !matches("..", "é日😀"))
        #expect(try !matches(".", "\n"))
        #expect(try matches("[à-ÿ]+", "àéÿ"))
        #expect(try !matches("[à-ÿ]+", "aé"))
        #expect(try matches("[^a]", "日"))
        #expect(try matches("[日本]{2}", "本日"))
    }

    @Test func refusesUnsupportedConstructsByName() {
        #expect(refusal("(?=a)a")?.contains("lookahead '(?='") == true)
        #expect(refusal("(?!a)b")?.contains("negative lookahead") == true)
        #expect(refusal("(?<=a)b")?.contains("lookbehind") == true)
        #expect(refusal(#"(a)\1"#)?.contains("backreference") == true)
        #expect(refusal(#"\bword"#)?.contains("word boundary") == true)
        #expect(refusal("a^b")?.contains("anchor '^'") == true)
        #expect(refusal("[[:alpha:]]")?.contains("POSIX class") == true)
        #expect(refusal("(?i)abc")?.contains("group flag") == true)
        #expect(refusal(#"\p{L}"#)?.contains("Unicode property") == true)
        #expect(refusal("a*+")?.contains("possessive") == true)
        #expect(refusal("*a")?.contains("nothing to repeat") == true)
        #expect(refusal("a{3,2}")?.contains("max < min") == true)
        #expect(refusal("a{5000}")?.contains("exceeds") == true)
        #expect(refusal("(ab")?.contains("unclosed '('") == true)
        #expect(refusal("ab)")?.contains("unbalanced ')'") == true)
        #expect(refusal("[^\\s\\S]")?.contains("matches no string") == true)
        #expect(refusal(#"\d+(\.\d+)?"#) == nil)
    }
}
