// Typed access to the fields of `tokenizer.json` and its sibling config files.

import Foundation
import OrderedJSON

/// Reads typed fields from parsed JSON and reports problems against one file.
struct ConfigReader: Sendable {
    /// Path reported in error messages.
    let path: String

    /// Reads and parses the JSON file at `url`.
    static func load(_ url: URL) throws(TokenizerError) -> (JSONValue, ConfigReader) {
        let reader = ConfigReader(path: url.path)
        guard FileManager.default.fileExists(atPath: url.path) else { throw .fileNotFound(url.path) }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError(code: .unreadableFile, message: "cannot read file: \(error)", path: url.path)
        }
        do {
            return (try JSONValue.parse([UInt8](data)), reader)
        } catch {
            throw .invalidJSON("\(error.message) at byte \(error.offset)", path: url.path)
        }
    }

    /// The `type` discriminator of a component object such as a normalizer.
    func type(of object: JSONValue, component: String) throws(TokenizerError) -> String {
        guard object.objectValue != nil else { throw .invalidValue(component, "expected an object", path: path) }
        return try string(object, "type", in: component)
    }

    func string(_ object: JSONValue, _ key: String, in component: String) throws(TokenizerError) -> String {
        guard let value = object[key], !value.isNull else { throw .missingField("\(component).\(key)", path: path) }
        guard let text = value.stringValue else { throw .invalidValue("\(component).\(key)", "expected a string", path: path) }
        return text
    }

    func optionalString(_ object: JSONValue, _ key: String, in component: String) throws(TokenizerError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw .invalidValue("\(component).\(key)", "expected a string", path: path) }
        return text
    }

    func bool(_ object: JSONValue, _ key: String, default fallback: Bool, in component: String) throws(TokenizerError)
        -> Bool
    {
        guard let value = object[key], !value.isNull else { return fallback }
        guard let flag = value.boolValue else { throw .invalidValue("\(component).\(key)", "expected a boolean", path: path) }
        return flag
    }

    func int(_ object: JSONValue, _ key: String, in component: String) throws(TokenizerError) -> Int {
        guard let value = object[key], !value.isNull else { throw .missingField("\(component).\(key)", path: path) }
        guard let number = value.intValue else { throw .invalidValue("\(component).\(key)", "expected an integer", path: path) }
        return number
    }

    /// The ids a tokenizer may hand out: the engine and the wire carry token ids as Int32.
    static let tokenIDs = 0...Int(Int32.max)

    /// An integer token id in ``tokenIDs``.
    func tokenID(_ object: JSONValue, _ key: String, in component: String) throws(TokenizerError) -> Int {
        let id = try int(object, key, in: component)
        guard Self.tokenIDs.contains(id) else {
            throw .invalidValue("\(component).\(key)", "token id \(id) is outside \(Self.tokenIDs)", path: path)
        }
        return id
    }

    func array(_ object: JSONValue, _ key: String, in component: String) throws(TokenizerError) -> [JSONValue] {
        guard let value = object[key], !value.isNull else { throw .missingField("\(component).\(key)", path: path) }
        guard let items = value.arrayValue else { throw .invalidValue("\(component).\(key)", "expected an array", path: path) }
        return items
    }

    /// A single-scalar string field such as Metaspace's `replacement`.
    func scalar(_ object: JSONValue, _ key: String, in component: String) throws(TokenizerError) -> Unicode.Scalar {
        let text = try string(object, key, in: component)
        let scalars = Array(text.unicodeScalars)
        guard scalars.count == 1 else {
            throw .invalidValue("\(component).\(key)", "expected one character, got '\(text)'", path: path)
        }
        return scalars[0]
    }

    /// A `{"String": ...}` or `{"Regex": ...}` pattern object (Split, Replace).
    func pattern(_ object: JSONValue, _ key: String, in component: String) throws(TokenizerError) -> TextPattern {
        guard let value = object[key], !value.isNull else { throw .missingField("\(component).\(key)", path: path) }
        if let literal = value["String"]?.stringValue {
            return .literal(Array(literal.unicodeScalars))
        }
        if let source = value["Regex"]?.stringValue {
            do {
                return try TextPattern.regex(source)
            } catch {
                throw .invalidValue("\(component).\(key)", "cannot compile regex '\(source)': \(error)", path: path)
            }
        }
        throw .invalidValue("\(component).\(key)", "expected {\"String\": …} or {\"Regex\": …}", path: path)
    }
}
