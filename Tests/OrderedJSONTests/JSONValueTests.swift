import OrderedJSON
import Testing

@Suite struct JSONValueTests {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func objectsKeepFileOrderAndExactKeys() throws {
        // "é" precomposed and decomposed are different vocabulary entries; both must survive.
        let value = try parse(#"{"z": 1, "\u00e9": 2, "e\u0301": 3, "a": [true, null, -1.5e2]}"#)
        let members = try #require(value.objectValue)
        #expect(members.map(\.key) == ["z", "\u{E9}", "e\u{301}", "a"])
        #expect(value["\u{E9}"]?.intValue == 2 && value["e\u{301}"]?.intValue == 3)
        #expect(value["a"]?.arrayValue?.count == 3)
        #expect(value["a"]?.arrayValue?[1].isNull == true)
        #expect(value["a"]?.arrayValue?[2].doubleValue == -150)
    }

    @Test func escapesAndSurrogatePairs() throws {
        #expect(try parse(#""tab\there \ud83d\ude00 \/ \u0041""#).stringValue == "tab\there 😀 / A")
        // A lone high surrogate cannot be a scalar: it becomes U+FFFD, the next escape is kept.
        #expect(try parse(#""\ud83d\u0041""#).stringValue == "\u{FFFD}A")
    }

    @Test func integersStayExactAndOtherNumbersAreDoubles() throws {
        #expect(try parse("9007199254740993").intValue == 9_007_199_254_740_993)
        #expect(try parse("1.0").intValue == 1)
        #expect(try parse("2.5").intValue == nil)
        #expect(try parse("1e3").doubleValue == 1000)
    }

    @Test(arguments: [
        ("{\"a\": 1,}", "expected object key", 8),
        ("[1 2]", "expected ',' or ']'", 3),
        ("\"a\u{01}b\"", "control character in string", 2),
        ("tru", "unexpected end of input", 0),
        ("{} x", "unexpected trailing data", 3),
        ("\"\\q\"", "invalid escape", 3),
    ])
    func malformedInputNamesTheProblemAndItsOffset(text: String, message: String, offset: Int) {
        #expect {
            _ = try parse(text)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.message == message && error.offset == offset && error.description == "\(message) at byte \(offset)"
        }
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONParseError.self) { _ = try parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { _ = try parse(fine) }
    }
}
