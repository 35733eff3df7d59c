import AsyncHTTPClient
import Baton
@testable import BatonAPI
import Foundation
import NIOCore
import Prometheus
import ServiceLifecycle
import Testing

/// An HTTP response as a test reads it.
struct HTTPReply: Sendable {
    var status: Int
    var headers: [String: String]
    var body: String

    /// The body parsed as JSON (dictionaries, arrays, NSNumber, NSNull).
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    var errorMessage: String { (object["error"] as? [String: Any])?["message"] as? String ?? "" }
}

/// Talks to a server over real HTTP on loopback.
struct HTTPTestClient: Sendable {
    let base: String
    let client: HTTPClient

    func send(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:],
              timeoutSeconds: Int64 = 60) async throws -> HTTPReply {
        try await send(method, path, bytes: body.map { Array($0.utf8) }, headers: headers, timeoutSeconds: timeoutSeconds)
    }

    func send(_ method: String, _ path: String, bytes body: [UInt8]?, headers: [String: String] = [:],
              timeoutSeconds: Int64 = 60) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: .seconds(timeoutSeconds))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return HTTPReply(status: Int(response.status.code), headers: fields, body: String(buffer: buffer))
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> HTTPReply {
        try await send("GET", path, headers: headers)
    }

    func post(_ path: String, _ body: String? = nil, headers: [String: String] = [:]) async throws -> HTTPReply {
        try await send("POST", path, body: body, headers: headers)
    }
}

/// An HTTP client that allows many connections to one host (for the concurrency tests).
let testHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 400)
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

/// Runs the API in this process on a free loopback port for the length of `body`, then shuts it
/// down gracefully, as SIGTERM would.
func withAPI<T: Sendable>(
    _ db: TestDatabase, configuration: APIConfiguration = APIConfiguration(port: 0),
    pool: ConnectionPool? = nil,
    _ body: @Sendable (HTTPTestClient, APIServer) async throws -> T
) async throws -> T {
    let server = APIServer(configuration: configuration, pool: pool ?? db.pool, direct: db.directSettings,
                           registry: PrometheusCollectorRegistry(), logger: testLogger())
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    let group = ServiceGroup(configuration: .init(
        services: [.init(service: server.application(onListening: { portSink.yield($0) }))], logger: testLogger()))
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the API did not start") }
        let http = HTTPTestClient(base: "http://127.0.0.1:\(port)", client: testHTTPClient)
        do {
            let value = try await body(http, server)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        } catch {
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
            throw error
        }
    }
}

/// The OpenAPI document the server serves, with a validator for its schemas.
func openAPIValidator() throws -> SchemaValidator {
    try SchemaValidator(openAPIJSON: OpenAPIDocument.json)
}

/// Expects `reply` to match the document's schema for (method, path template, status).
func expectMatchesSchema(_ reply: HTTPReply, _ method: String, _ template: String,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
    let validator = try openAPIValidator()
    let contentType = reply.headers["content-type"]?.split(separator: ";").first.map(String.init) ?? "application/json"
    guard let schema = validator.responseSchema(path: template, method: method.lowercased(), status: reply.status,
                                                contentType: contentType) else {
        Issue.record("the OpenAPI document has no \(reply.status) \(contentType) response for \(method) \(template)",
                     sourceLocation: sourceLocation)
        return
    }
    let value = try #require(reply.json, "\(method) \(template) answered JSON", sourceLocation: sourceLocation)
    let problems = validator.problems(value, against: schema)
    #expect(problems.isEmpty, "\(method) \(template) \(reply.status): \(problems) in \(reply.body.prefix(400))",
            sourceLocation: sourceLocation)
}
