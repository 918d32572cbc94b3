// RadixServe: what the router's handlers know about a request beyond its bytes.

import Hummingbird

/// Hummingbird's request context plus the name of the API key the request presented, which
/// ``APIKeyMiddleware`` sets and admission and logs use.
package struct RouterRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The presented key's name; nil on a router without keys or an open endpoint.
    package var apiKeyName: String?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
