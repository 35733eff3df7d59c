import Baton

/// Waits for a session to reach a status, woken by the `baton_session` notifications that
/// Baton's triggers send on every change of a session (docs/design.md, "Notification
/// channels"): no polling loop. It LISTENs before it reads the status, so a change committed
/// between the read and the wait still wakes it, and it re-reads the row only when a
/// notification names the session (or is the empty "look again" payload).
public struct StatusWaiter: Sendable {
    /// COMPLETED, FAILED and CANCELLED: a session there does not move without someone acting
    /// (a retry, for FAILED), so a wait for another status ends at once.
    public static let settled: Set<SessionStatus> = [.completed, .failed, .cancelled]

    /// A connection straight to PostgreSQL: LISTEN does not work through a transaction pooler.
    public var settings: ConnectionSettings

    public init(settings: ConnectionSettings) {
        self.settings = settings
    }

    /// Returns once session `sessionID` has `status`. Throws `StatusWaitFailure` when `timeout`
    /// passes first or the session reaches a status in `stopAt` (other than `status`); the
    /// failure names the status it saw last, every status it saw while waiting and the
    /// session's steps. Cancelling the calling task ends the wait at once.
    public func waitForStatus(_ sessionID: String, _ status: SessionStatus, timeout: Duration = .seconds(60),
                              stopAt: Set<SessionStatus> = settled) async throws {
        let connection = DatabaseConnection(settings: settings.forLongLivedConnection(), label: "testing-wait",
                                            preparedStatements: false)
        do {
            try await wait(on: connection, sessionID, status, timeout: timeout, stopAt: stopAt)
            await connection.close()
        } catch let error as DatabaseError {
            await connection.close()
            throw BatonTestingError("waiting for session '\(sessionID)' to be \(status.rawValue) failed: \(error)")
        } catch {
            await connection.close()
            throw error
        }
    }

    private func wait(on connection: DatabaseConnection, _ sessionID: String, _ status: SessionStatus,
                      timeout: Duration, stopAt: Set<SessionStatus>) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let wake = WakeSignal()
        var seen = SeenStatuses()
        try await connection.listen([NotificationListener.sessionChannel])
        var listening = await connection.generation
        while true {
            let row = try await connection.query(TestingQueries.sessionState, [sessionID]).first
            if await connection.generation != listening {
                // The read reconnected, so LISTEN is gone: LISTEN again, then read again.
                try await connection.listen([NotificationListener.sessionChannel])
                listening = await connection.generation
                continue
            }
            let current = row.flatMap { $0["status"] }.flatMap(SessionStatus.init(rawValue:))
            seen.record(current)
            if current == status { return }
            if let current, stopAt.contains(current) {
                throw await failure(.settled, sessionID, status, seen, row?["error"], connection)
            }
            // Sleep on the socket until a notification about this session (or the deadline).
            while true {
                let remaining = deadline - clock.now
                guard remaining > .zero else {
                    throw await failure(.timedOut(timeout), sessionID, status, seen, row?["error"], connection)
                }
                let notes: [PGNotification]
                do {
                    notes = try await withTaskCancellationHandler {
                        try await connection.waitForNotifications(timeoutMs: Self.milliseconds(remaining), wake: wake)
                    } onCancel: {
                        wake.signal()
                    }
                } catch let error as DatabaseError where error.isConnectionLoss {
                    // The read above reconnects and LISTENs again; what was missed, it sees.
                    break
                }
                try Task.checkCancellation()
                if notes.contains(where: { Self.mentions($0.payload, sessionID) }) { break }
            }
        }
    }

    /// Whether a `baton_session` payload may concern `sessionID`: it lists it, or it is the
    /// empty payload ("look again") that stands for a statement touching many sessions.
    static func mentions(_ payload: String, _ sessionID: String) -> Bool {
        payload.isEmpty || payload.split(separator: ",", omittingEmptySubsequences: false).contains { $0 == sessionID }
    }

    /// poll(2) takes an Int32 of milliseconds; rounded up so that a wait never ends early.
    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(ms, 1))
    }

    private func failure(_ reason: StatusWaitFailure.Reason, _ sessionID: String, _ wanted: SessionStatus,
                         _ seen: SeenStatuses, _ error: String?, _ connection: DatabaseConnection) async -> StatusWaitFailure {
        // The steps make the message useful; a failure to read them must not hide the wait's.
        let steps = (try? await connection.query(TestingQueries.sessionSteps, [sessionID]).records.map(StepLine.init)) ?? []
        return StatusWaitFailure(sessionID: sessionID, wanted: wanted, reason: reason, lastSeen: seen.statuses.last ?? nil,
                                 seen: seen.statuses, sessionError: error, steps: steps.map(\.text))
    }
}

/// The statuses a wait read, each change once (nil: the session did not exist).
struct SeenStatuses {
    private(set) var statuses: [SessionStatus?] = []

    mutating func record(_ status: SessionStatus?) {
        if statuses.isEmpty || statuses.last! != status { statuses.append(status) }
    }
}

/// One step of the session, for a failure message: "1.EXECUTE FAILED after 3 attempts: boom".
private struct StepLine {
    var text: String

    init(_ row: QueryResult.Record) {
        let attempts = Int(row["attempt"] ?? "") ?? 0
        var text = "\(row["phase"] ?? "?").\(row["step"] ?? "?") \(row["status"] ?? "?")"
        text += attempts == 1 ? " (1 attempt)" : " (\(attempts) attempts)"
        if let error = row["error"], !error.isEmpty { text += ": " + error }
        self.text = text
    }
}

/// A wait for a status that ended without it. `description` is the message for a test
/// report: the status wanted, the status seen last, every status seen during the wait and
/// the session's steps with their errors.
public struct StatusWaitFailure: Error, Sendable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The time ran out.
        case timedOut(Duration)
        /// The session reached a status the wait stops at (see `StatusWaiter.settled`).
        case settled
    }

    public var sessionID: String
    public var wanted: SessionStatus
    public var reason: Reason
    /// The status read last; nil when the session did not exist.
    public var lastSeen: SessionStatus?
    /// Every status read during the wait, in order, each change once (nil: no such session).
    /// A status held only between two reads is not among them.
    public var seen: [SessionStatus?]
    /// The session's error column (why it FAILED, for instance).
    public var sessionError: String?
    /// The session's steps, "phase.STEP STATUS (n attempts): error".
    public var steps: [String]

    public var description: String {
        var text: String
        switch reason {
        case .timedOut(let timeout):
            text = "session '\(sessionID)' did not become \(wanted.rawValue) within \(timeout): "
            text += lastSeen == nil ? "there is no such session" : "it is \(Self.name(lastSeen))"
        case .settled:
            text = "session '\(sessionID)' became \(Self.name(lastSeen)) while waiting for \(wanted.rawValue)"
        }
        if let sessionError, !sessionError.isEmpty { text += " (error: \(sessionError))" }
        if seen.count > 1 { text += "; statuses seen: " + seen.map(Self.name).joined(separator: " → ") }
        if !steps.isEmpty { text += "; steps: " + steps.joined(separator: "; ") }
        return text
    }

    static func name(_ status: SessionStatus?) -> String { status?.rawValue ?? "no such session" }
}
