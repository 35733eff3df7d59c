import ArgumentParser
import Baton
import Foundation

/// Reads an option: the flag if given, else the environment variable, else the default.
func setting(_ flag: String?, _ variable: String) -> String? {
    if let flag { return flag }
    if let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty { return value }
    return nil
}

func intSetting(_ flag: Int?, _ variable: String, default fallback: Int) throws -> Int {
    if let flag { return flag }
    guard let text = setting(nil, variable) else { return fallback }
    guard let value = Int(text) else {
        throw CLIError.usage("\(variable) must be a whole number (got '\(text)')")
    }
    return value
}

/// `--retention` or BATON_RETENTION, parsed; the standard fourteen days when neither is set.
func retentionSetting(_ flag: String?) throws -> RetentionPolicy {
    guard let text = setting(flag, "BATON_RETENTION") else { return .standard }
    do {
        return try RetentionPolicy(parsing: text)
    } catch {
        throw CLIError.usage(error.description)
    }
}

/// A boolean environment variable when it is set, nil when not.
func optionalBoolSetting(_ variable: String) throws -> Bool? {
    guard setting(nil, variable) != nil else { return nil }
    return try boolSetting(nil, variable, default: false)
}

func boolSetting(_ flag: Bool?, _ variable: String, default fallback: Bool) throws -> Bool {
    if let flag { return flag }
    guard let text = setting(nil, variable)?.lowercased() else { return fallback }
    switch text {
    case "1", "true", "yes", "on": return true
    case "0", "false", "no", "off": return false
    default: throw CLIError.usage("\(variable) must be true or false (got '\(text)')")
    }
}

/// Where the database is (`DATABASE_URL`, `DIRECT_URL`) and how many connections to use.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL for queries (env DATABASE_URL; may be a pooler).")
    var databaseURL: String?

    @Option(name: .customLong("direct-url"), help: "Direct PostgreSQL URL for LISTEN and advisory locks (env DIRECT_URL; default: the database URL).")
    var directURL: String?

    @Option(name: .customLong("pool-size"), help: "Most connections for queries (env WORKER_DB_POOL_SIZE, default 5).")
    var poolSize: Int?

    func databaseSettings() throws -> ConnectionSettings {
        guard let url = setting(databaseURL, "DATABASE_URL") else {
            throw CLIError.usage("no database given: set DATABASE_URL or pass --database-url (e.g. postgresql://user:password@localhost:5432/app)")
        }
        return try ConnectionSettings(url)
    }

    func directSettings() throws -> ConnectionSettings {
        if let direct = setting(directURL, "DIRECT_URL") { return try ConnectionSettings(direct) }
        return try databaseSettings()
    }

    func makePool() throws -> ConnectionPool {
        ConnectionPool(settings: try databaseSettings(), maxConnections: try intSetting(poolSize, "WORKER_DB_POOL_SIZE", default: 5))
    }

    func makeClient() throws -> BatonClient { BatonClient(pool: try makePool()) }
}

/// `--json` for commands that print data.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false
}

/// How a worker runs (every option also an environment variable).
struct WorkerOptions: ParsableArguments {
    @Option(help: "Handler: builtin:echo, builtin:probe, command:/path/to/program, http(s)://…, or kind=spec,... (env BATON_HANDLER).")
    var handler: String?

    @Option(name: .customLong("api-url"), help: "Base URL of the HTTP step handler, used when no handler is given (env WORKER_API_URL).")
    var apiURL: String?

    @Option(help: "Comma-separated kinds to serve (env BATON_KINDS; default all).")
    var kinds: String?

    @Option(name: .customLong("batch-size"), help: "Steps run at the same time (env WORKER_BATCH_SIZE, default 4).")
    var batchSize: Int?

    @Option(help: "Claim/commit connections sharing the batch, each with its own session locks (env WORKER_CONNECTIONS, default 1; at most the batch size).")
    var connections: Int?

    @Option(help: "Step timeout in ms (env WORKER_TIMEOUT, default 300000).")
    var timeout: Int?

    @Option(name: .customLong("poll-interval"), help: "Safety poll in ms (env WORKER_POLL_INTERVAL, default 30000).")
    var pollInterval: Int?

    @Option(name: .customLong("max-retries"), help: "Retries of a failed step (env MAX_RETRIES, default 3).")
    var maxRetries: Int?

    @Option(name: .customLong("retry-delay"), help: "First retry delay in ms, doubled per attempt (env RETRY_DELAY, default 1000).")
    var retryDelay: Int?

    @Option(name: .customLong("rescue-interval"), help: "How often to look for steps of dead workers, ms (env BATON_RESCUE_INTERVAL, default 1000).")
    var rescueInterval: Int?

    @Option(name: .customLong("heartbeat-interval"), help: "How often the worker says it is alive, ms (env WORKER_HEARTBEAT_INTERVAL, default 1000).")
    var heartbeatInterval: Int?

    @Option(name: .customLong("rescue-after"), help: "Silence after which a step whose session lock is free is rescued, ms (env BATON_RESCUE_AFTER, default 5000).")
    var rescueAfter: Int?

    @Option(name: .customLong("stale-after"), help: "Silence after which a worker is presumed dead even with its lock held, ms (env BATON_WORKER_STALE_AFTER, default 60000).")
    var staleAfter: Int?

    @Option(name: .customLong("shutdown-grace"), help: "Time running steps get to finish on shutdown, ms (env BATON_SHUTDOWN_GRACE, default 30000).")
    var shutdownGrace: Int?

    @Option(help: "How long finished sessions are kept: 14d, 36h, 90m or off, then kind=duration rules (env BATON_RETENTION, default 14d).")
    var retention: String?

    @Option(name: .customLong("prune-interval"), help: "How often to delete sessions past their retention, ms (env BATON_PRUNE_INTERVAL, default 60000).")
    var pruneInterval: Int?

    @Option(name: .customLong("max-output"), help: "Largest handler output in bytes (env BATON_HANDLER_MAX_OUTPUT, default 1048576).")
    var maxOutput: Int?

    func configuration() throws -> WorkerConfiguration {
        let kindList = setting(kinds, "BATON_KINDS")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return WorkerConfiguration(
            kinds: kindList?.isEmpty == false ? kindList : nil,
            batchSize: try intSetting(batchSize, "WORKER_BATCH_SIZE", default: 4),
            connections: try intSetting(connections, "WORKER_CONNECTIONS", default: 1),
            stepTimeoutMs: try intSetting(timeout, "WORKER_TIMEOUT", default: 300_000),
            pollIntervalMs: try intSetting(pollInterval, "WORKER_POLL_INTERVAL", default: 30_000),
            rescueIntervalMs: try intSetting(rescueInterval, "BATON_RESCUE_INTERVAL", default: 1_000),
            heartbeatIntervalMs: try intSetting(heartbeatInterval, "WORKER_HEARTBEAT_INTERVAL", default: 1_000),
            rescueAfterMs: try intSetting(rescueAfter, "BATON_RESCUE_AFTER", default: 5_000),
            staleAfterMs: try intSetting(staleAfter, "BATON_WORKER_STALE_AFTER", default: 60_000),
            shutdownGraceMs: try intSetting(shutdownGrace, "BATON_SHUTDOWN_GRACE", default: 30_000),
            retry: RetryPolicy(
                maxRetries: try intSetting(maxRetries, "MAX_RETRIES", default: 3),
                baseDelayMs: try intSetting(retryDelay, "RETRY_DELAY", default: 1000)),
            retention: try retentionSetting(retention),
            pruneIntervalMs: try intSetting(pruneInterval, "BATON_PRUNE_INTERVAL", default: 60_000))
    }

    func handlers(default fallback: String? = nil) throws -> HandlerRegistry {
        guard let spec = setting(handler, "BATON_HANDLER") ?? setting(apiURL, "WORKER_API_URL") ?? fallback else {
            throw CLIError.usage("no step handler: set BATON_HANDLER (builtin:echo, command:/path/to/program, http(s)://…, or kind=spec,...) or WORKER_API_URL")
        }
        do {
            return try HandlerRegistry.parse(
                spec, maxOutputBytes: try intSetting(maxOutput, "BATON_HANDLER_MAX_OUTPUT", default: 1 << 20),
                timeoutMs: try intSetting(timeout, "WORKER_TIMEOUT", default: 300_000))
        } catch let error as HandlerRegistry.InvalidSpec {
            throw CLIError.usage(error.description)
        }
    }
}
