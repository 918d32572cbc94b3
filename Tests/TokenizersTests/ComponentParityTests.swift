// Normalizers, pre-tokenizers and decoders beyond the fixture families, against the
// Python `tokenizers` library (data in ComponentParityData.swift).

import Foundation
import Testing
import Tokenizers

@Suite struct ComponentParityTests {
    struct Configuration: Sendable, CustomTestStringConvertible {
        let tokenizerJSON: String
        let cases: [(text: String, ids: [Int], decoded: String)]
        let testDescription: String
    }

    static let configurations: [Configuration] = ComponentParityData.configurations
        .split(separator: "\n")
        .map { line in
            let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            func raw(_ key: String) -> String {
                guard let value = object[key], !(value is NSNull) else { return "null" }
                return String(decoding: try! JSONSerialization.data(withJSONObject: value), as: UTF8.self)
            }
            let json = """
                {"version": "1.0", "added_tokens": [], "normalizer": \(raw("normalizer")),
                 "pre_tokenizer": \(raw("pre_tokenizer")), "post_processor": null,
                 "decoder": \(raw("decoder")), "model": \(ComponentParityData.model)}
                """
            let cases = (object["cases"] as! [[String: Any]]).map { item in
                (
                    text: item["text"] as! String, ids: (item["ids"] as! [NSNumber]).map(\.intValue),
                    decoded: item["decoded"] as! String
                )
            }
            let label = [raw("normalizer"), raw("pre_tokenizer"), raw("decoder")].joined(separator: " | ")
            return Configuration(tokenizerJSON: json, cases: cases, testDescription: label)
        }

    @Test(arguments: configurations)
    func matchesReference(_ configuration: Configuration) throws {
        let tokenizer = try BPETokenizer(tokenizerJSON: Data(configuration.tokenizerJSON.utf8))
        for item in configuration.cases {
            #expect(tokenizer.encode(item.text) == item.ids, "\(item.text.debugDescription)")
            #expect(
                tokenizer.decode(item.ids).exactScalars == item.decoded.exactScalars,
                "\(item.text.debugDescription) → \(tokenizer.decode(item.ids).debugDescription)")
        }
    }
}
