import ServingClient
import Testing

@Suite struct ServingURLTests {
    @Test(arguments: [
        ("http://127.0.0.1:8080", "127.0.0.1", 8080, ""),
        ("http://localhost:30000/", "localhost", 30000, ""),
        ("  HTTP://Router.Example.com  ", "router.example.com", 80, ""),
        ("http://10.0.0.2:8000/radixserve/", "10.0.0.2", 8000, "/radixserve"),
        ("https://localhost:8443", "localhost", 8443, ""),
        ("HTTPS://router.example.com/api", "router.example.com", 443, "/api"),
    ])
    func parsesHostPortAndPathPrefix(text: String, host: String, port: Int, basePath: String) throws {
        let url = try ServingURL(text)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.basePath == basePath)
        #expect(url.target("/v1/models") == basePath + "/v1/models")
        #expect(url.isSecure == text.lowercased().contains("https"))
    }

    @Test func descriptionAlwaysNamesThePort() throws {
        #expect(try ServingURL("http://localhost").description == "http://localhost:80")
        #expect(try ServingURL("http://localhost").authority == "localhost")
        #expect(try ServingURL("http://localhost:9000/x").description == "http://localhost:9000/x")
        #expect(try ServingURL("http://localhost:9000").authority == "localhost:9000")
        #expect(try ServingURL("https://localhost").description == "https://localhost:443")
        #expect(try ServingURL("https://localhost").authority == "localhost")
        #expect(try ServingURL("https://localhost:80").authority == "localhost:80")
        #expect(try ServingURL("https://127.0.0.1:8443/x/").description == "https://127.0.0.1:8443/x")
    }

    @Test(arguments: [
        ("localhost:8080", "no scheme"),
        ("ftp://host", "'ftp' is not http or https"),
        ("https://[::1]:8443", "IPv6"),
        ("http://", "no host"),
        ("http://:8080", "no host"),
        ("http://host:0", "not in 1...65535"),
        ("http://host:70000", "not in 1...65535"),
        ("http://host:80a", "not in 1...65535"),
        ("http://host:", "not in 1...65535"),
        ("http://[::1]:8080", "IPv6"),
        ("http://user:pw@host", "credentials"),
        ("http://host/v1?x=1", "queries"),
        ("http://ho st:80", "not a host name"),
        ("http://a:1:2", "more than one ':'"),
    ])
    func rejectsWithAReason(text: String, reason: String) {
        #expect {
            try ServingURL(text)
        } throws: { error in
            guard let error = error as? ServingClientError else { return false }
            return error.code == .invalidURL && error.message.contains(reason) && error.message.contains(text)
        }
    }
}
