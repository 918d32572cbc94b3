import ServingClient
import Testing

/// The `--json` output format shared by the command line.
@Suite struct JSONLineTests {
    private struct Record: Encodable {
        var finishReason: String
        var url: String
        var alreadySnake: Int
        var missing: Int?

        enum CodingKeys: String, CodingKey {
            case finishReason, url, missing
            case alreadySnake = "token_ids"
        }
    }

    @Test func sortsKeysInSnakeCaseOnOneLine() throws {
        let line = try Record(finishReason: "stop", url: "http://h/v1", alreadySnake: 3).jsonLine()
        #expect(line == #"{"finish_reason":"stop","token_ids":3,"url":"http://h/v1"}"# + "\n")
    }
}
