import Baton
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// Baton's HTTP API (see docs/design.md "HTTP API" and `GET /openapi.json`): a Hummingbird
/// application with its progress listener, ready to run as a `Service`.
public struct APIServer: Sendable {
    /// One registered route.
    public struct Route: Sendable, Hashable, CustomStringConvertible {
        public var method: String
        /// The path template, `{id}` for the parameter (as in the OpenAPI document).
        public var path: String
        public var description: String { "\(method) \(path)" }

        func matches(_ requestPath: String) -> Bool {
            let want = path.split(separator: "/", omittingEmptySubsequences: true)
            let have = requestPath.split(separator: "/", omittingEmptySubsequences: true)
            guard want.count == have.count else { return false }
            return zip(want, have).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
    }

    public let configuration: APIConfiguration
    let client: BatonClient
    let direct: ConnectionSettings
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    /// The process's one progress listener.
    let hub: ProgressHub

    /// - Parameters:
    ///   - pool: connections for queries (`DATABASE_URL`, may be a pooler).
    ///   - direct: `DIRECT_URL`, for the one LISTEN connection that drives live progress.
    ///   - registry: what `/metrics` shows (the process's worker metrics go there too).
    public init(configuration: APIConfiguration, pool: ConnectionPool, direct: ConnectionSettings,
                registry: PrometheusCollectorRegistry, logger: Logger = Logger(label: "baton.api")) {
        self.configuration = configuration
        self.client = BatonClient(pool: pool)
        self.direct = direct
        self.registry = registry
        self.logger = logger
        self.hub = ProgressHub(direct: direct, logger: logger)
    }

    /// Every route the server registers.
    public var routes: [Route] { buildRouter().routes }

    /// The application, to run once; `onListening` gets the bound port (useful with port 0).
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some Service {
        let (router, _) = buildRouter()
        let logger = self.logger
        let host = configuration.host
        var app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "baton"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("API listening", metadata: ["url": "http://\(host):\(port)"])
                await onListening(port)
            },
            logger: logger)
        app.addServices(hub)
        return app
    }

    private func buildRouter() -> (router: Router<BasicRequestContext>, routes: [Route]) {
        let router = Router(context: BasicRequestContext.self)
        var routes: [Route] = []
        let sessions = SessionRoutes(client: client, hub: hub, configuration: configuration)
        let tasks = TaskRoutes(client: client, configuration: configuration)
        let access = AccessPolicy(fullToken: configuration.token, readToken: configuration.readToken)
        let system = SystemRoutes(client: client, registry: registry, hub: hub, tokenRequired: !access.isOpen)
        let schedules = ScheduleRoutes(client: client, configuration: configuration)
        let watches = WatchRoutes(client: client)
        let events = EventRoutes(hub: hub, configuration: configuration)

        // Every route is declared here once: the table below is what the OpenAPI test checks.
        let table: [(HTTPRequest.Method, String, @Sendable (Request, BasicRequestContext) async throws -> Response)] = [
            (.post, "/api/sessions", sessions.create),
            (.get, "/api/sessions", sessions.list),
            (.get, "/api/sessions/{id}", sessions.show),
            (.get, "/api/sessions/{id}/progress", sessions.progress),
            (.post, "/api/sessions/{id}/proceed-next-phase", sessions.proceed),
            (.post, "/api/sessions/{id}/retry", sessions.retry),
            (.post, "/api/sessions/{id}/cancel", sessions.cancel),
            (.post, "/api/tasks/{id}/complete", tasks.complete),
            (.post, "/api/tasks/{id}/fail", tasks.fail),
            (.get, "/api/schedules", schedules.list),
            (.post, "/api/schedules", schedules.create),
            (.get, "/api/schedules/{name}", schedules.show),
            (.delete, "/api/schedules/{name}", schedules.remove),
            (.post, "/api/schedules/{name}/run-now", schedules.runNow),
            (.get, "/api/watches", watches.list),
            (.get, "/api/events", events.changes),
            (.get, "/api/stats", system.stats),
            (.get, "/healthz", system.health),
            (.get, "/metrics", system.metrics),
            (.get, "/openapi.json", { request, context in system.openAPI(request, context) }),
            (.get, "/", { request, context in system.dashboard(request, context) }),
        ]
        for (method, path, _) in table { routes.append(Route(method: method.rawValue, path: path)) }

        // Outermost first: the request's span (continuing the caller's trace from its headers)
        // and the metrics see the final status that the error middleware produced.
        router.add(middleware: TracingMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware(routes: routes))
        if !access.isOpen {
            router.add(middleware: AuthMiddleware(policy: access))
        }
        router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes))
        for (method, path, handler) in table {
            let template = path.replacingOccurrences(of: "{id}", with: ":id").replacingOccurrences(of: "{name}", with: ":name")
            router.on(RouterPath(template), method: method, use: handler)
        }
        // The dashboard's other pages and its script and style: for browsers, not API operations.
        for (path, handler) in Dashboard.routes { router.on(RouterPath(path), method: .get, use: handler) }
        return (router, routes)
    }
}

/// Refuses a declared body over the limit before any route reads it (413, not a stalled read).
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw JSONBody.tooLarge(limit)
        }
        return try await next(request, context)
    }
}
