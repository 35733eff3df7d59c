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

/// Applies `AccessPolicy` to every request: 401 without a token or with a wrong one, 403 for
/// the read-only token on a call that changes something.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let reads = request.method == .get || request.method == .head || request.method == .options
        let decision = policy.decide(reads: reads, path: request.uri.path, authorization: request.headers[.authorization])
        let variables = policy.readToken == nil ? "BATON_API_TOKEN" : "BATON_API_TOKEN or BATON_API_READ_TOKEN"
        var error: APIError
        switch decision {
        case .allow:
            return try await next(request, context)
        case .missing:
            error = APIError(.unauthorized, "unauthorized", "this call needs Authorization: Bearer <token> (the server has \(variables) set)")
        case .wrong:
            error = APIError(.unauthorized, "unauthorized", "the bearer token is not one the server accepts (\(variables))")
        case .readOnly:
            error = APIError(.forbidden, "forbidden", "this token may only read (BATON_API_READ_TOKEN); calls that change something need BATON_API_TOKEN")
        }
        error.headers[.wwwAuthenticate] = "Bearer"
        throw error
    }
}
