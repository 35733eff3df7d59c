import Foundation
import Hummingbird
import Logging

/// Turns every error into `{"error": {"code", "message"}}`. Errors the API does not know
/// become a 500 with a generic message; the details go to the log, never to the client.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The routes, to tell "no such path" (404) from "wrong method" (405).
    let routes: [APIServer.Route]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if var mapped = APIError.from(error) {
                if mapped.status == .notFound, mapped.code == "not_found", (error as? HTTPError) != nil {
                    let allowed = routes.filter { $0.matches(request.uri.path) }.map(\.method)
                    if !allowed.isEmpty {
                        mapped = APIError(.methodNotAllowed, "method_not_allowed",
                                          "\(request.method.rawValue) is not allowed on \(request.uri.path); use \(allowed.joined(separator: " or "))")
                        mapped.headers[.allow] = allowed.joined(separator: ", ")
                    }
                }
                if mapped.status.code >= 500 {
                    context.logger.warning("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
                }
                return try mapped.response(from: request, context: context)
            }
            context.logger.error("request failed unexpectedly", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return JSONBody.response(.internalServerError, APIError.body(
                code: "internal", message: "the server failed to handle this request; the error is in its log"))
        }
    }
}

/// When a token is configured, every mutating call must carry `Authorization: Bearer <token>`.
/// Reads stay open. The comparison takes the same time wherever the tokens differ.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .get || request.method == .head || request.method == .options {
            return try await next(request, context)
        }
        let header = request.headers[.authorization] ?? ""
        let prefix = "bearer "
        guard header.lowercased().hasPrefix(prefix), Self.equal(Array(header.utf8.dropFirst(prefix.count)), token) else {
            var error = APIError(.unauthorized, "unauthorized",
                                 header.isEmpty ? "this call needs Authorization: Bearer <token> (the server has BATON_API_TOKEN set)"
                                                : "the bearer token is not the one the server expects (BATON_API_TOKEN)")
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        return try await next(request, context)
    }

    /// Constant time in the content: every byte is compared, whatever differs first.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        if a.count != b.count { difference |= 1 }
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
