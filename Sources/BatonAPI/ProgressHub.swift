import Baton
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Wakes waiting progress requests when their session changes. One LISTEN connection per
/// process (channel `baton_session`) fans out to every waiter, so a thousand waiting clients
/// cost a thousand parked continuations, not a thousand connections or polls.
///
/// A waiter registers before it reads the session and waits after, so a change committed
/// between the read and the wait still wakes it. Notifications are hints: the waiter reads
/// the session again and decides.
///
/// The same notifications also go into a numbered log of changed session ids
/// (`SessionChangeLog`), which `GET /api/events` reads so that a list of sessions can follow
/// every change through one long-poll; its waiters register under `anyChange`.
final class ProgressHub: Service, Sendable {
    /// A registration for one session's next change.
    struct Ticket: Sendable, Hashable {
        fileprivate let id: Int
        fileprivate let sessionID: String
    }

    private struct Waiter {
        var fired = false
        var continuation: CheckedContinuation<Void, Never>?
    }

    private struct State {
        var waiters: [String: [Int: Waiter]] = [:]
        var nextID = 0
        var listening = false
        var closed = false
        var changes = SessionChangeLog(epoch: String(UUID().uuidString.prefix(8)).lowercased())
    }

    /// The key to register under to be woken by a change of any session (no session id is
    /// empty: ids have 1 to 200 characters).
    static let anyChange = ""

    private let state = Mutex(State())
    private let listener: NotificationListener
    private let logger: Logger

    init(direct: ConnectionSettings, logger: Logger) {
        listener = NotificationListener(settings: direct, channels: [NotificationListener.sessionChannel], logger: logger)
        self.logger = logger
    }

    /// True while the LISTEN connection is in place; waiters fall back to re-reading otherwise.
    var isListening: Bool { state.withLock { $0.listening } }

    /// Waiting requests right now (for tests and metrics).
    var waiting: Int { state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } } }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.listener.run(label: "progress-listener") { event in
                switch event {
                case .listening:
                    // Changes made while not listening were missed: let every waiter re-read.
                    self.state.withLock {
                        $0.listening = true
                        $0.changes.recordEverything()
                    }
                    self.fireAll()
                case .lost:
                    self.state.withLock { $0.listening = false }
                case .notification(let note):
                    if note.payload.isEmpty {
                        self.state.withLock { $0.changes.recordEverything() }
                        self.fireAll()  // more than 100 sessions changed at once
                    } else {
                        let sessions = note.payload.split(separator: ",").map(String.init)
                        self.state.withLock { $0.changes.record(sessions) }
                        self.fire(sessions: sessions + [Self.anyChange])
                    }
                }
            }
        }
        // Shutting down: answer everyone now, and anyone who comes later at once.
        let parked = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            state.listening = false
            return Self.takeAll(&state)
        }
        parked.forEach { $0.resume() }
    }

    /// What changed after `cursor` (nil: everything), and the cursor to send next time.
    func changes(after cursor: SessionChangeLog.Cursor?) -> (cursor: String, answer: SessionChangeLog.Answer) {
        state.withLock { ($0.changes.cursor, $0.changes.changes(after: cursor)) }
    }

    /// Registers interest in the next change of `sessionID` (`anyChange`: of any session); call
    /// before reading the session.
    func register(_ sessionID: String) -> Ticket {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.waiters[sessionID, default: [:]][id] = Waiter(fired: state.closed)
            return Ticket(id: id, sessionID: sessionID)
        }
    }

    /// Waits until the ticket's session may have changed, `deadline` passes, the caller is
    /// cancelled, or the process shuts down; then forgets the ticket.
    func wait(_ ticket: Ticket, until deadline: ContinuousClock.Instant) async {
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            self.fire(ticket)
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        guard var waiter = state.waiters[ticket.sessionID]?[ticket.id], !waiter.fired else { return true }
                        waiter.continuation = continuation
                        state.waiters[ticket.sessionID]?[ticket.id] = waiter
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.fire(ticket)
            }
        } onGracefulShutdown: {
            self.fire(ticket)
        }
        timer.cancel()
        cancel(ticket)
    }

    /// Forgets a ticket that will not be waited on.
    func cancel(_ ticket: Ticket) {
        let parked = state.withLock { state -> CheckedContinuation<Void, Never>? in
            let waiter = state.waiters[ticket.sessionID]?.removeValue(forKey: ticket.id)
            if state.waiters[ticket.sessionID]?.isEmpty == true { state.waiters[ticket.sessionID] = nil }
            return waiter?.continuation
        }
        parked?.resume()
    }

    private func fire(_ ticket: Ticket) {
        let parked = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard var waiter = state.waiters[ticket.sessionID]?[ticket.id] else { return nil }
            waiter.fired = true
            let continuation = waiter.continuation
            waiter.continuation = nil
            state.waiters[ticket.sessionID]?[ticket.id] = waiter
            return continuation
        }
        parked?.resume()
    }

    private func fire(sessions: [String]) {
        let parked = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            var parked: [CheckedContinuation<Void, Never>] = []
            for id in sessions {
                guard var waiters = state.waiters[id] else { continue }
                for key in waiters.keys {
                    waiters[key]!.fired = true
                    if let continuation = waiters[key]!.continuation { parked.append(continuation) }
                    waiters[key]!.continuation = nil
                }
                state.waiters[id] = waiters
            }
            return parked
        }
        parked.forEach { $0.resume() }
    }

    private func fireAll() {
        let parked = state.withLock { Self.takeAll(&$0) }
        parked.forEach { $0.resume() }
    }

    /// Marks every waiter fired and returns the parked continuations (resume them outside the lock).
    private static func takeAll(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        var parked: [CheckedContinuation<Void, Never>] = []
        for id in state.waiters.keys {
            for key in state.waiters[id]!.keys {
                state.waiters[id]![key]!.fired = true
                if let continuation = state.waiters[id]![key]!.continuation { parked.append(continuation) }
                state.waiters[id]![key]!.continuation = nil
            }
        }
        return parked
    }
}
