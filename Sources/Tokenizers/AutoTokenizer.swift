// Loads a tokenizer from a checkpoint directory.

import Foundation
import OrderedJSON

/// Entry point for loading the tokenizer of a checkpoint directory.
public enum AutoTokenizer {
    /// Loads `tokenizer.json` from `directory`, together with `tokenizer_config.json`
    /// (BOS/EOS names and `chat_template`), `generation_config.json` (`eos_token_id`) and
    /// `chat_template.jinja` when present.
    ///
    /// Only `tokenizer.json` is required. Safe to call from any thread; performs file I/O.
    /// - Throws: `TokenizerError` naming the file and the problem.
    public static func load(directory: URL) throws(TokenizerError) -> any Tokenizer {
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        let generationURL = directory.appendingPathComponent("generation_config.json")
        let templateURL = directory.appendingPathComponent("chat_template.jinja")

        var bosToken: String?
        var eosTokens: [String] = []
        var chatTemplate: String?
        if FileManager.default.fileExists(atPath: configURL.path) {
            let (config, reader) = try ConfigReader.load(configURL)
            bosToken = try tokenName(config["bos_token"], field: "bos_token", reader: reader)
            if let eos = try tokenName(config["eos_token"], field: "eos_token", reader: reader) { eosTokens.append(eos) }
            chatTemplate = try template(config["chat_template"], reader: reader)
        }
        var extraEOS: [Int] = []
        if FileManager.default.fileExists(atPath: generationURL.path) {
            let (generation, reader) = try ConfigReader.load(generationURL)
            if let value = generation["eos_token_id"], !value.isNull {
                if let id = value.intValue {
                    extraEOS = [id]
                } else if let list = value.arrayValue, list.allSatisfy({ $0.intValue != nil }) {
                    extraEOS = list.compactMap(\.intValue)
                } else {
                    throw .invalidValue("eos_token_id", "expected an integer or a list of integers", path: reader.path)
                }
            }
        }
        if FileManager.default.fileExists(atPath: templateURL.path) {
            do {
                chatTemplate = try String(contentsOf: templateURL, encoding: .utf8)
            } catch {
                throw TokenizerError(code: .unreadableFile, message: "cannot read file: \(error)", path: templateURL.path)
            }
        }

        let (json, reader) = try ConfigReader.load(tokenizerURL)
        guard json.objectValue != nil else { throw .invalidJSON("top level is not an object", path: reader.path) }
        return try BPETokenizer(
            json: json, reader: reader, bosToken: bosToken, eosTokens: eosTokens, eosTokenIDs: extraEOS,
            chatTemplate: chatTemplate)
    }

    /// A token named either as a string or as an AddedToken object `{"content": ...}`.
    private static func tokenName(_ value: JSONValue?, field: String, reader: ConfigReader) throws(TokenizerError)
        -> String?
    {
        guard let value, !value.isNull else { return nil }
        if let name = value.stringValue { return name }
        if let content = value["content"]?.stringValue { return content }
        throw .invalidValue(field, "expected a string or an object with 'content'", path: reader.path)
    }

    /// `chat_template` as a string, or the `default` entry of a list of named templates.
    private static func template(_ value: JSONValue?, reader: ConfigReader) throws(TokenizerError) -> String? {
        guard let value, !value.isNull else { return nil }
        if let text = value.stringValue { return text }
        if let list = value.arrayValue {
            for entry in list where entry["name"]?.stringValue == "default" {
                return try reader.string(entry, "template", in: "chat_template[default]")
            }
            return nil
        }
        throw .invalidValue("chat_template", "expected a string or a list of {name, template}", path: reader.path)
    }
}
