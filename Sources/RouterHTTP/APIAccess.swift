// RadixServe: who may call the router's HTTP API (API keys: user, admin and metrics).

import Foundation
import RouterCore

/// The router's API keys and what each may call.
///
/// | endpoint | open when | otherwise needs |
/// |---|---|---|
/// | `/health` | always | — |
/// | `/metrics` | no metrics key is set | a metrics or admin key |
/// | `/workers`, `/flush_cache` | no key of any kind is set | an admin key (a user key gets 403) |
/// | everything else (`/v1/…`, `/generate`) | no user key is set | a user or admin key |
///
/// Keys travel as `Authorization: Bearer KEY`. Every configured key is compared in full, in time
/// independent of where the bytes differ, so response times do not reveal a key's prefix.
package struct APIAccess: Sendable {
    /// One key and the name it is known by in logs and metrics.
    package struct Key: Sendable, Hashable {
        package var name: String
        var bytes: [UInt8]
        /// This key's own admission limits, over the router's per-key defaults (key files only).
        package var limits = KeyLimits()

        package init(name: String, secret: String, limits: KeyLimits = KeyLimits()) {
            self.name = name
            bytes = Array(secret.utf8)
            self.limits = limits
        }
    }

    package private(set) var userKeys: [Key] = []
    package private(set) var adminKeys: [Key] = []
    package private(set) var metricsKeys: [Key] = []

    /// No key at all: every endpoint is open (the default, for a router on loopback).
    package static let open = APIAccess()

    package init(userKeys: [Key] = [], adminKeys: [Key] = [], metricsKeys: [Key] = []) {
        self.userKeys = userKeys
        self.adminKeys = adminKeys
        self.metricsKeys = metricsKeys
    }

    /// Whether any key is configured.
    package var isProtected: Bool { !(userKeys.isEmpty && adminKeys.isEmpty && metricsKeys.isEmpty) }

    /// What a request may do.
    package enum Decision: Hashable, Sendable {
        /// Served; `key` names the key it presented (nil on an open endpoint).
        case allowed(key: String?)
        /// 401: no key, or a key this router does not know.
        case unauthorized(String)
        /// 403: a valid key that may not call this endpoint.
        case forbidden(String)
    }

    /// The decision for a request to `path` carrying the `Authorization` header value `authorization`.
    package func decide(path: String, authorization: String?) -> Decision {
        let presented = Self.bearerToken(authorization)
        let admin = presented.flatMap { Self.find($0, in: adminKeys) }
        switch EndpointClass(path: path) {
        case .health:
            return .allowed(key: nil)
        case .metrics:
            guard !metricsKeys.isEmpty else { return .allowed(key: nil) }
            if let key = presented.flatMap({ Self.find($0, in: metricsKeys) }) ?? admin { return .allowed(key: key.name) }
            return refusal(presented, needs: "a metrics API key (--metrics-api-key) or the admin key")
        case .admin:
            guard isProtected else { return .allowed(key: nil) }
            if let admin { return .allowed(key: admin.name) }
            if adminKeys.isEmpty {
                return .forbidden("admin endpoints need --admin-api-key, which this router was not started with")
            }
            return refusal(presented, needs: "the admin API key (--admin-api-key)")
        case .model:
            guard !userKeys.isEmpty else { return .allowed(key: admin?.name) }
            if let key = presented.flatMap({ Self.find($0, in: userKeys) }) ?? admin { return .allowed(key: key.name) }
            return .unauthorized(Self.missingOrWrong(presented))
        }
    }

    /// 403 for a valid key of another kind, 401 for a missing or unknown one.
    private func refusal(_ presented: [UInt8]?, needs: String) -> Decision {
        if let presented, Self.find(presented, in: userKeys + metricsKeys + adminKeys) != nil {
            return .forbidden("this endpoint needs \(needs); the key given may not call it")
        }
        return .unauthorized(Self.missingOrWrong(presented) + "; this endpoint needs \(needs)")
    }

    private static func missingOrWrong(_ presented: [UInt8]?) -> String {
        presented == nil
            ? "missing API key: send it as 'Authorization: Bearer KEY'"
            : "invalid API key"
    }

    /// The token of `Bearer TOKEN` (scheme case-insensitive), or nil.
    static func bearerToken(_ header: String?) -> [UInt8]? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : Array(token.utf8)
    }

    /// The key equal to `token`, comparing against every key without stopping early.
    static func find(_ token: [UInt8], in keys: [Key]) -> Key? {
        var found: Key?
        for key in keys where constantTimeEquals(token, key.bytes) { found = found ?? key }
        return found
    }

    /// Equality whose time depends only on the lengths, not on where the bytes differ.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let length = max(a.count, b.count)
        for index in 0..<length {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0 && a.count == b.count
    }

    /// Which rule of the table above applies to `path`.
    enum EndpointClass {
        case health, metrics, admin, model

        init(path: String) {
            let path = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
            switch path {
            case "/health": self = .health
            case "/metrics": self = .metrics
            case "/flush_cache", "/workers": self = .admin
            default: self = path.hasPrefix("/workers/") ? .admin : .model
            }
        }
    }
}
