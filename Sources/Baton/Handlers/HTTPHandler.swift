import AsyncHTTPClient
import BatonCore
import Foundation
import NIOCore
import NIOHTTP1
import Tracing

/// `http(s)://…`: POSTs the handler document to a URL.
///
/// - 2xx with a JSON body: success, the body is the step's result (an empty 200/204 body is `null`).
/// - 202: the step continues elsewhere (`StepDeferred`); it is finished later through
///   `baton.complete_task` / `baton.fail_task` or `POST /api/tasks/{id}/complete|fail`.
/// - 4xx: a permanent failure (the request itself is wrong), except 408 and 429, which are retried.
/// - 5xx, other statuses, connection errors and time-outs: retried by the policy.
///
/// Every request carries `Idempotency-Key` (the same on every attempt of a step), `Baton-Task-Id`
/// (what a 202 handler needs to finish the step) and `Baton-Attempt`. With a tracer bootstrapped,
/// the request is a `client` span inside the step's `baton.step` span, and the tracer's
/// propagation headers (W3C `traceparent` with swift-otel) go with it, so the step's trace
/// continues in the service it calls.
public struct HTTPHandler: StepHandler {
    public let url: String
    public let timeoutMs: Int
    public let maxOutputBytes: Int
    let client: HTTPClient

    /// - Parameters:
    ///   - timeoutMs: the whole exchange's deadline (`WORKER_TIMEOUT`).
    ///   - maxOutputBytes: the largest response body accepted (`BATON_HANDLER_MAX_OUTPUT`).
    ///   - client: give a client whose `configuration.tracing.tracer` is nil: the handler makes
    ///     the request's span and headers itself (without the URL's query, which may hold a secret).
    public init(url: String, timeoutMs: Int = 300_000, maxOutputBytes: Int = 1 << 20,
                client: HTTPClient = HTTPHandler.sharedClient) throws {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", parsed.host?.isEmpty == false else {
            throw HandlerRegistry.InvalidSpec(description: "handler URL '\(Self.redacted(url))' is not an http(s):// URL with a host")
        }
        self.url = url
        self.timeoutMs = timeoutMs
        self.maxOutputBytes = maxOutputBytes
        self.client = client
    }

    /// One client for every HTTP handler of the process. A refused or failed connection fails
    /// the attempt at once (the retry policy decides what happens next) instead of being retried
    /// inside the client until the step's deadline. Lives as long as the process, like `.shared`.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        configuration.tracing.tracer = nil  // the handler traces the request itself (see `run`)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public func run(_ step: StepContext) async throws -> String {
        try await withSpan("POST", ofKind: .client) { span in
            if span.isRecording {
                span.attributes["http.request.method"] = "POST"
                span.attributes["url.full"] = Self.redacted(url)
                span.attributes[BatonSpans.Attribute.taskID] = step.taskId
                span.attributes[BatonSpans.Attribute.attempt] = step.attempt
            }
            return try await post(step, span: span)
        }
    }

    private func post(_ step: StepContext, span: any Span) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: step.idempotencyKey)
        request.headers.add(name: "Baton-Task-Id", value: String(step.taskId))
        request.headers.add(name: "Baton-Attempt", value: String(step.attempt))
        request.body = .bytes(ByteBuffer(string: step.documentJSON))
        InstrumentationSystem.instrument.inject(span.context, into: &request.headers, using: HeadersInjector())

        let target = Self.redacted(url)
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .milliseconds(Int64(timeoutMs)))
            body = try await response.body.collect(upTo: maxOutputBytes)
        } catch is NIOTooManyBytesError {
            throw StepFailure("\(target) answered with a body over \(maxOutputBytes) bytes (limit BATON_HANDLER_MAX_OUTPUT)")
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw StepFailure("POST \(target) failed: \(Self.describe(error))")
        }
        let text = String(buffer: body)
        let status = Int(response.status.code)
        span.attributes["http.response.status_code"] = status
        if status >= 400 { span.setStatus(SpanStatus(code: .error)) }
        let excerpt = Self.excerpt(text)
        switch status {
        case 202:
            throw StepDeferred("202 Accepted from \(target)")
        case 200..<300:
            if text.allSatisfy(\.isWhitespace) { return "null" }
            do {
                try JSONText.validate(text)
            } catch {
                throw StepFailure("\(target) answered \(status) with a body that is not JSON (\(error)): \(excerpt)")
            }
            return text
        case 408, 429:
            throw StepFailure("\(target) answered \(status) (\(response.status.reasonPhrase)); will retry: \(excerpt)")
        case 400..<500:
            throw StepFailure("\(target) answered \(status) (\(response.status.reasonPhrase)): \(excerpt)", permanent: true)
        default:
            throw StepFailure("\(target) answered \(status) (\(response.status.reasonPhrase)): \(excerpt)")
        }
    }

    /// Writes propagation headers, replacing any of the same name.
    private struct HeadersInjector: Injector {
        func inject(_ value: String, forKey key: String, into headers: inout HTTPHeaders) {
            headers.replaceOrAdd(name: key, value: value)
        }
    }

    /// The URL without user information, for messages and logs.
    static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url) else { return "the handler URL" }
        parts.user = nil
        parts.password = nil
        parts.query = nil
        return parts.string ?? "the handler URL"
    }

    static func excerpt(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return "(empty body)" }
        return trimmed.count > 300 ? String(trimmed.prefix(300)).debugDescription + "…" : trimmed.debugDescription
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}
