/// How the HTTP API runs. Every field has an environment variable and a CLI option.
public struct APIConfiguration: Sendable {
    /// Address to bind (`--host`, `BATON_API_HOST`); loopback by default.
    public var host: String
    /// Port (`--port`, `BATON_API_PORT`); 0 picks a free one.
    public var port: Int
    /// Largest request body accepted, in bytes (`BATON_API_MAX_BODY`, default 1 MiB).
    public var maxBodyBytes: Int
    /// When set, every call under /api needs `Authorization: Bearer <token>` (`BATON_API_TOKEN`).
    public var token: String?
    /// A token that may only read (`BATON_API_READ_TOKEN`), for front ends that poll progress.
    /// Needs `token` set too, or calls that change something would stay open.
    public var readToken: String?
    /// The longest `?wait=` a progress request may hold, in seconds.
    public var maxWaitSeconds: Double
    /// Settings for sessions created through the API (`AUTO_PROGRESS_STEPS`, `AUTO_PROGRESS_PHASES`).
    public var autoSteps: Bool
    public var autoPhases: Bool

    public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 1 << 20, token: String? = nil,
                readToken: String? = nil, maxWaitSeconds: Double = 300, autoSteps: Bool = true, autoPhases: Bool = false) {
        self.host = host
        self.port = port
        self.maxBodyBytes = max(1024, maxBodyBytes)
        self.token = token?.isEmpty == true ? nil : token
        self.readToken = readToken?.isEmpty == true ? nil : readToken
        self.maxWaitSeconds = maxWaitSeconds
        self.autoSteps = autoSteps
        self.autoPhases = autoPhases
    }
}
