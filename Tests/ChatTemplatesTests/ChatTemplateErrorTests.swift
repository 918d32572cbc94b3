import ChatTemplates
import Testing

@Suite struct ChatTemplateErrorTests {
    static let syntaxCases: [(source: String, line: Int, column: Int)] = [
        ("ok\n{% if x %}a", 2, 12),
        ("{{ 'abc }}", 1, 4),
        ("line\n  {% frobnicate %}", 2, 6),
        ("{{ a + }}", 1, 8),
        ("{% for x of y %}{% endfor %}", 1, 10),
        ("{# never closed", 1, 1),
        ("{% endif %}", 1, 4),
        ("{{ a[1:2:3:4] }}", 1, 12),
    ]

    @Test(arguments: syntaxCases.indices)
    func syntaxErrorsNamePosition(index: Int) {
        let testCase = Self.syntaxCases[index]
        let error = #expect(throws: ChatTemplateError.self) { try ChatTemplate(testCase.source) }
        #expect(error?.code == .syntax)
        #expect(error?.line == testCase.line, "\(testCase.source): \(String(describing: error))")
        #expect(error?.column == testCase.column, "\(testCase.source): \(String(describing: error))")
    }

    @Test func renderErrorsNamePosition() throws {
        let cases: [(String, String)] = [
            ("a\n  {{ missing.attr }}", "'missing' is undefined"),
            ("{{ 1 | nosuchfilter }}", "unknown filter 'nosuchfilter'"),
            ("{{ 'a' + 1 }}", "unsupported operand"),
            ("{{ 1 // 0 }}", "division"),
            ("{% for x in 3 %}{% endfor %}", "not iterable"),
            ("{{ nope() }}", "'nope' is undefined"),
        ]
        for (source, fragment) in cases {
            let template = try ChatTemplate(source)
            let error = #expect(throws: ChatTemplateError.self) { try template.render(context: [:]) }
            #expect(error?.code == .render)
            #expect(error?.line != nil)
            #expect(error?.message.contains(fragment) == true, "\(source): \(String(describing: error))")
        }
    }

    @Test func raiseExceptionCarriesTheMessage() throws {
        let template = try ChatTemplate("x\n{{ raise_exception('roles must alternate') }}")
        let error = #expect(throws: ChatTemplateError.self) { try template.render(context: [:]) }
        #expect(error?.code == .raised)
        #expect(error?.message == "roles must alternate")
        #expect(error?.line == 2)
    }

    /// Every prefix and random slice of a real template either compiles or throws; none traps.
    @Test func truncatedTemplatesNeverTrap() throws {
        let source = TemplateData.cases.compactMap { $0["template"]?.printed }.joined()
        let bytes = Array(source.utf8)
        var state: UInt64 = 0x1234_5678
        for _ in 0..<600 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let start = Int(state >> 33) % bytes.count
            let length = Int(state >> 13) % 200
            let slice = String(decoding: bytes[start..<min(bytes.count, start + length)], as: UTF8.self)
            if let template = try? ChatTemplate(slice) {
                _ = try? template.render(context: ["messages": [["role": "user", "content": "hi"]], "items": [1, 2]])
            }
        }
    }

    @Test func jsonRoundTripKeepsKeyOrder() throws {
        let text = #"{"z": 1, "a": [true, null, 2.5, "\u00e9\n"], "m": {"y": {}, "b": []}}"#
        let value = try JinjaValue(json: text)
        #expect(value.jsonString() == #"{"z": 1, "a": [true, null, 2.5, "é\n"], "m": {"y": {}, "b": []}}"#)
        #expect(throws: ChatTemplateError.self) { try JinjaValue(json: "{\"a\": }") }
        #expect(throws: ChatTemplateError.self) { try JinjaValue(json: "[1, 2") }
    }
}

@Suite struct ChatTemplateGlobalsTests {
    @Test func strftimeNowFormatsTheCurrentDate() throws {
        let rendered = try ChatTemplate("{{ strftime_now('%Y') }}").render(context: [:])
        #expect(rendered.count == 4 && Int(rendered) ?? 0 >= 2024)
    }
}
