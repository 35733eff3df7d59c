import AsyncHTTPClient
import Baton
import Foundation
import NIOCore

/// GET `<base>/healthz`: returns when it answers 200; a 503 means the server runs but its
/// database does not answer (exit 6); no answer at all is a plain failure.
func checkHealth(of base: String) async throws {
    let url = base.hasSuffix("/") ? base + "healthz" : base + "/healthz"
    let response: HTTPClientResponse
    let body: ByteBuffer
    do {
        response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        body = try await response.body.collect(upTo: 64 * 1024)
    } catch {
        throw HealthFailure(message: "no Baton API answers at \(url) (\(error)); is `baton api` or `baton start` running?",
                            databaseDown: false)
    }
    switch response.status.code {
    case 200: return
    case 503:
        throw HealthFailure(message: "the server at \(base) runs, but its database does not answer: \(String(buffer: body))",
                            databaseDown: true)
    default:
        throw HealthFailure(message: "\(url) answered \(response.status.code): \(String(buffer: body).prefix(300))",
                            databaseDown: false)
    }
}

struct HealthFailure: Error, CustomStringConvertible {
    var message: String
    var databaseDown: Bool
    var description: String { message }
}
