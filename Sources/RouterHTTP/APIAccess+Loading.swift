// RadixServe: reading API keys from flags, key files and the environment, with clear errors.

import Foundation
import RouterCore

/// A problem with the configured API keys; the router refuses to start with it.
package struct APIKeyError: Error, Sendable, CustomStringConvertible {
    package var description: String
}

extension APIAccess {
    /// Shortest key accepted, in bytes.
    package static let minimumKeyLength = 8

    /// The keys of `--api-key` (repeatable), `--api-key-file` (repeatable), `RADIXSERVE_API_KEY`,
    /// `--admin-api-key` and `--metrics-api-key`.
    ///
    /// A key file holds one key per line, `KEY` or `NAME KEY [max_concurrent_requests=N]
    /// [tokens_per_minute=N]` (the name appears in logs and metrics, default `FILE:LINE`; the limits
    /// override `--key-max-concurrent-requests` and `--key-tokens-per-minute` for that key); blank
    /// lines and lines starting with `#` are skipped. It must not be readable by other users. Keys
    /// are at least 8 visible ASCII characters, and one key has one role.
    package static func load(
        userKeys: [String] = [], keyFiles: [String] = [], adminKeys: [String] = [], metricsKeys: [String] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(APIKeyError) -> APIAccess {
        var users: [Key] = []
        for (index, secret) in userKeys.enumerated() {
            users.append(try checked(Key(name: "key-\(index + 1)", secret: secret), source: "--api-key"))
        }
        if let secret = environment["RADIXSERVE_API_KEY"], !secret.isEmpty {
            users.append(try checked(Key(name: "env", secret: secret), source: "RADIXSERVE_API_KEY"))
        }
        for file in keyFiles { users += try keys(inFile: file) }
        let admins = try adminKeys.enumerated().map { (index, secret) throws(APIKeyError) in
            try checked(Key(name: adminKeys.count == 1 ? "admin" : "admin-\(index + 1)", secret: secret), source: "--admin-api-key")
        }
        let metrics = try metricsKeys.enumerated().map { (index, secret) throws(APIKeyError) in
            try checked(
                Key(name: metricsKeys.count == 1 ? "metrics" : "metrics-\(index + 1)", secret: secret), source: "--metrics-api-key")
        }
        var seenSecrets: [[UInt8]: String] = [:]
        var seenNames: Set<String> = []
        for key in users + admins + metrics {
            if let other = seenSecrets[key.bytes] {
                throw APIKeyError(description: "API keys '\(other)' and '\(key.name)' are the same key; give each key one role")
            }
            seenSecrets[key.bytes] = key.name
            guard seenNames.insert(key.name).inserted else {
                throw APIKeyError(description: "two API keys are named '\(key.name)'; names must be unique")
            }
        }
        return APIAccess(userKeys: users, adminKeys: admins, metricsKeys: metrics)
    }

    private static func checked(_ key: Key, source: String) throws(APIKeyError) -> Key {
        guard key.bytes.count >= minimumKeyLength else {
            throw APIKeyError(description: "\(source): a key must be at least \(minimumKeyLength) characters long (got \(key.bytes.count))")
        }
        guard key.bytes.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            throw APIKeyError(description: "\(source): a key may hold only visible ASCII characters (no spaces or control characters)")
        }
        return key
    }

    private static func keys(inFile path: String) throws(APIKeyError) -> [Key] {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw APIKeyError(description: "--api-key-file \(path): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw APIKeyError(description: "--api-key-file \(path): not a regular file")
        }
        if status.st_mode & 0o004 != 0 {
            throw APIKeyError(description: """
                --api-key-file \(path): readable by every user (mode \(String(status.st_mode & 0o777, radix: 8))); \
                restrict it, e.g. chmod 600 \(path)
                """)
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw APIKeyError(description: "--api-key-file \(path): cannot be read as UTF-8 text")
        }
        var keys: [Key] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let source = "--api-key-file \(path), line \(index + 1)"
            switch fields.count {
            case 1:
                keys.append(try checked(Key(name: "\(path):\(index + 1)", secret: String(fields[0])), source: source))
            case 2...4:
                let name = String(fields[0])
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                    throw APIKeyError(description: "\(source): a key name may hold only letters, digits, '-', '_' and '.'")
                }
                var key = try checked(Key(name: name, secret: String(fields[1])), source: source)
                key.limits = try limits(fields.dropFirst(2).map(String.init), source: source)
                keys.append(key)
            default:
                throw APIKeyError(description: """
                    \(source): expected 'KEY' or 'NAME KEY [max_concurrent_requests=N] [tokens_per_minute=N]', \
                    got \(fields.count) fields
                    """)
            }
        }
        if keys.isEmpty { throw APIKeyError(description: "--api-key-file \(path): holds no key") }
        return keys
    }

    /// The `max_concurrent_requests=N` and `tokens_per_minute=N` fields of a key file line.
    private static func limits(_ fields: [String], source: String) throws(APIKeyError) -> KeyLimits {
        var limits = KeyLimits()
        for field in fields {
            let parts = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Int(parts[1]), value >= 1 else {
                throw APIKeyError(description: "\(source): '\(field)' is not NAME=N with N a whole number of at least 1")
            }
            switch parts[0] {
            case "max_concurrent_requests" where limits.maxConcurrentRequests == nil: limits.maxConcurrentRequests = value
            case "tokens_per_minute" where limits.tokensPerMinute == nil: limits.tokensPerMinute = value
            case "max_concurrent_requests", "tokens_per_minute":
                throw APIKeyError(description: "\(source): '\(parts[0])' is given twice")
            default:
                throw APIKeyError(description: "\(source): unknown limit '\(parts[0])'; use max_concurrent_requests or tokens_per_minute")
            }
        }
        return limits
    }
}
