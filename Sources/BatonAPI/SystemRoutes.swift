import Baton
import BatonCore
import Hummingbird
import Prometheus

/// `/healthz`, `/metrics`, `/api/stats`, `/openapi.json` and the dashboard at `/`.
struct SystemRoutes: Sendable {
    let client: BatonClient
    let registry: PrometheusCollectorRegistry
    let hub: ProgressHub

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
        JSONBody.response(.ok, OpenAPIDocument.json)
    }

    func dashboard(_ request: Request, _ context: some RequestContext) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Dashboard.html)))
    }
}
