import Logging

/// What the listener reports.
public enum ListenerEvent: Sendable {
    /// LISTEN is in place (after the first connect and after every reconnect): now scan for
    /// work that may have been missed while not listening.
    case listening
    /// A notification arrived.
    case notification(PGNotification)
    /// The connection was lost; the listener reconnects by itself.
    case lost
}

/// The one LISTEN connection of a process, over `DIRECT_URL` (a transaction pooler breaks
/// LISTEN). It connects, LISTENs, reports `.listening`, then waits on the socket; it pings
/// when quiet so a half-open socket is noticed, and reconnects with capped backoff.
public struct NotificationListener: Sendable {
    public static let taskChannel = "baton_task"
    public static let sessionChannel = "baton_session"
    /// A schedule was created, changed, fired or removed (payload: schedule names).
    public static let scheduleChannel = "baton_schedule"

    public var settings: ConnectionSettings
    public var channels: [String]
    /// Quiet time after which the listener sends `SELECT 1`.
    public var pingIntervalMs: Int
    public var logger: Logger

    public init(settings: ConnectionSettings, channels: [String] = [taskChannel, sessionChannel],
                pingIntervalMs: Int = 10_000, logger: Logger) {
        var settings = settings.forLongLivedConnection()
        settings.overrides["application_name"] = "baton-listener"
        self.settings = settings
        self.channels = channels
        self.pingIntervalMs = pingIntervalMs
        self.logger = logger
    }

    /// Runs until the task is cancelled, reporting every event to `onEvent`.
    public func run(label: String = "listener", onEvent: @escaping @Sendable (ListenerEvent) -> Void) async {
        let connection = DatabaseConnection(settings: settings, label: label, preparedStatements: false)
        let wake = WakeSignal()
        var backoff = ReconnectBackoff()
        while !Task.isCancelled {
            do {
                try await connection.connect()
                try await connection.listen(channels)
                backoff.reset()
                logger.debug("listening", metadata: ["channels": "\(channels.joined(separator: ","))"])
                onEvent(.listening)
                while !Task.isCancelled {
                    let notes = try await withTaskCancellationHandler {
                        try await connection.waitForNotifications(timeoutMs: Int32(pingIntervalMs), wake: wake)
                    } onCancel: {
                        wake.signal()
                    }
                    if notes.isEmpty {
                        if !Task.isCancelled { try await connection.query("SELECT 1") }
                    } else {
                        for note in notes { onEvent(.notification(note)) }
                    }
                }
            } catch {
                if Task.isCancelled { break }
                onEvent(.lost)
                let delay = backoff.next()
                logger.warning("listener connection lost; reconnecting", metadata: [
                    "error": "\(error)", "retry_in_ms": "\(delay)",
                ])
                await connection.close()
                try? await Task.sleep(for: .milliseconds(delay))
            }
        }
        await connection.close()
    }
}
