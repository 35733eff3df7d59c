import Baton
import Foundation
import Hummingbird
import NIOCore

/// An error as the API answers it: `{"error": {"code", "message"}}` with its HTTP status.
/// Messages say what was wrong and what to do; they never carry a connection URL or a trace.
struct APIError: Error, HTTPResponseError, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func badJSON(_ message: String) -> APIError { APIError(.badRequest, "bad_json", message) }
    static func badParameter(_ message: String) -> APIError { APIError(.badRequest, "bad_parameter", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONBody.response(status, Self.body(code: code, message: message))
        response.headers.append(contentsOf: headers)
        return response
    }

    static func body(code: String, message: String) -> String {
        "{\"error\":{\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))}}"
    }

    /// Maps whatever a route threw to what the client sees.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as BatonError:
            switch error {
            case .unknownSession, .unknown: return APIError(.notFound, "not_found", error.description)
            case .wrongState: return APIError(.conflict, "wrong_state", error.description)
            case .badInput: return APIError(.badRequest, "bad_parameter", error.description)
            case .invalidTransition: return APIError(.conflict, "wrong_state", error.description)
            }
        case let error as DatabaseError:
            if case .poolTimeout = error {
                return APIError(.serviceUnavailable, "database_unavailable",
                                "no database connection became free in time (WORKER_DB_POOL_SIZE); try again shortly")
            }
            // 53300: the server's own connection limit; 57P03: it is starting or shutting down.
            if error.isConnectionLoss || error.sqlState == "53300" {
                return APIError(.serviceUnavailable, "database_unavailable",
                                "the database cannot be reached right now; try again shortly")
            }
            if case .server(let state, _, _, _) = error, state == "23505" {
                return APIError(.conflict, "conflict", "a session with that id already exists; choose another id")
            }
            return nil
        case let error as HTTPError:
            return APIError(error.status, code(for: error.status), error.body ?? defaultMessage(for: error.status))
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, "body_too_large", "the request body is too large")
        default:
            return nil
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .contentTooLarge: "body_too_large"
        case .unauthorized: "unauthorized"
        case .serviceUnavailable: "database_unavailable"
        case .badRequest: "bad_parameter"
        default: status.code >= 500 ? "internal" : "bad_request"
        }
    }

    static func defaultMessage(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "no such route; see GET /openapi.json for the API"
        case .methodNotAllowed: "this route does not take that method; see GET /openapi.json"
        default: status.reasonPhrase
        }
    }
}
