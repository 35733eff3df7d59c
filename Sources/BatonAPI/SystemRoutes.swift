import Baton
import BatonCore
import Hummingbird
import Prometheus

/// `/healthz`, `/metrics`, `/api/stats`, `/openapi.json` and the dashboard at `/`.
struct SystemRoutes: Sendable {
    let client: BatonClient
    let registry: PrometheusCollectorRegistry
    let hub: ProgressHub
    /// The API document as this server applies it (see `document(tokenRequired:)`).
    let openAPIJSON: String

    init(client: BatonClient, registry: PrometheusCollectorRegistry, hub: ProgressHub, tokenRequired: Bool) {
        self.client = client
        self.registry = registry
        self.hub = hub
        self.openAPIJSON = Self.document(tokenRequired: tokenRequired)
    }

    /// `Resources/openapi.json` states the rules of a server with BATON_API_TOKEN set: every
    /// operation under /api needs a bearer token. A server without a token needs none, and its
    /// document says so (`"security": []`), so that a client or a test tool driven by the served
    /// document sees the rules of the server it talks to.
    static func document(tokenRequired: Bool) -> String {
        guard !tokenRequired else { return OpenAPIDocument.json }
        return OpenAPIDocument.json.replacingOccurrences(of: #""security": [{"bearer": []}]"#, with: #""security": []"#)
    }

    struct Health: Encodable {
        var status = "ok"
        var database = "ok"
    }

    /// 200 only when the database answers `SELECT 1`.
    func health(_ request: Request, _ context: some RequestContext) async throws -> Response {
        do {
            try await client.ping()
        } catch {
            context.logger.warning("health check: the database does not answer", metadata: ["error": "\(error)"])
            throw APIError(.serviceUnavailable, "database_unavailable", "the database does not answer SELECT 1")
        }
        return try JSONBody.response(.ok, Health())
    }

    func stats(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try JSONBody.response(.ok, try await client.statistics())
    }

    /// Prometheus text. Queue depth and sessions at the gate are read from the database at
    /// scrape time; when it does not answer, `baton_database_up` is 0 and the rest still shows.
    func metrics(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let up = gauge("database_up", "1 when the last scrape could read the database")
        gauge("api_waiting_requests", "Progress requests held open, waiting for a change").set(to: Double(hub.waiting))
        do {
            let depth = try await client.queueDepth()
            for status in ["PENDING", "RUNNING"] {
                gauge("tasks", "Active tasks by status (queue depth)", [("status", status)])
                    .set(to: Double(depth.tasksByStatus[status] ?? 0))
            }
            gauge("tasks_ready", "PENDING tasks whose time has come")
                .set(to: Double(depth.readyTasks))
            for status in SessionStatus.allCases {
                gauge("sessions", "Sessions by status", [("status", status.rawValue)])
                    .set(to: Double(depth.sessionsByStatus[status.rawValue] ?? 0))
            }
            gauge("sessions_awaiting_proceed", "Sessions waiting at the gate for a person")
                .set(to: Double(depth.awaitingProceed))
            up.set(to: 1)
        } catch {
            up.set(to: 0)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "baton", metricName: name, unitName: "", helpText: help),
            labels: labels)
    }

    func openAPI(_ request: Request, _ context: some RequestContext) -> Response {
        JSONBody.response(.ok, openAPIJSON)
    }

    /// The dashboard's list of sessions; its other pages are `Dashboard.routes`.
    func dashboard(_ request: Request, _ context: some RequestContext) -> Response {
        Dashboard.sessionsPage(request)
    }
}
