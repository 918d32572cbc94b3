import Foundation
import ServingTypes

extension APIErrorBody {
    /// `error.message` (with `error.type` in brackets when present), or nil if `body` is not an
    /// OpenAI error object.
    static func message(in body: Data) -> String? {
        guard let decoded = try? JSONDecoder().decode(APIErrorBody.self, from: body), let text = decoded.error.message
        else { return nil }
        if let type = decoded.error.type, !type.isEmpty { return "\(text) [\(type)]" }
        return text
    }
}
