/// The recent changes of sessions, as the process's LISTEN connection heard them, numbered so
/// that a client that has seen change N can ask what came after it (`GET /api/events`). Pure:
/// `ProgressHub` records into it, `EventRoutes` reads from it.
///
/// A client is told "everything may have changed" when the log cannot say exactly: its cursor is
/// older than what the log keeps, the cursor comes from an earlier process (another epoch), or
/// the listener could not name the sessions (a burst of more than 100, or a reconnect that may
/// have missed notifications).
struct SessionChangeLog: Sendable {
    enum Answer: Equatable, Sendable {
        /// Nothing changed after the cursor.
        case unchanged
        /// These sessions changed (each once, in the order of their first change).
        case sessions([String])
        /// Anything may have changed: read everything again.
        case everything
    }

    /// Names this process's numbering, so a cursor from before a restart is recognised.
    let epoch: String
    /// How many (change, session) entries to keep.
    let capacity: Int
    /// The number of the last change recorded.
    private(set) var sequence: Int64 = 0
    private var entries: [(sequence: Int64, session: String)] = []
    /// Changes numbered at or below this are not all in `entries`.
    private var forgotten: Int64 = 0

    init(epoch: String, capacity: Int = 2000) {
        self.epoch = epoch
        self.capacity = max(1, capacity)
    }

    /// The cursor a client sends back to learn what changed after now.
    var cursor: String { "\(epoch).\(sequence)" }

    mutating func record(_ sessions: [String]) {
        guard !sessions.isEmpty else { return recordEverything() }
        sequence += 1
        for session in sessions { entries.append((sequence, session)) }
        if entries.count > capacity {
            let drop = entries.count - capacity
            forgotten = entries[drop - 1].sequence
            entries.removeFirst(drop)
        }
    }

    /// Anything may have changed (the sessions were not named, or notifications were missed).
    mutating func recordEverything() {
        sequence += 1
        entries.removeAll()
        forgotten = sequence
    }

    /// What changed after `cursor` (nil: the client has seen nothing yet).
    func changes(after cursor: Cursor?) -> Answer {
        guard let cursor, cursor.epoch == epoch, cursor.sequence <= sequence, cursor.sequence >= forgotten else {
            return .everything
        }
        if cursor.sequence == sequence { return .unchanged }
        var seen = Set<String>()
        var changed: [String] = []
        for entry in entries where entry.sequence > cursor.sequence && seen.insert(entry.session).inserted {
            changed.append(entry.session)
        }
        return .sessions(changed)
    }

    /// A cursor as a client sends it: `<epoch>.<sequence>`.
    struct Cursor: Equatable, Sendable {
        var epoch: String
        var sequence: Int64

        /// Nil when `text` is not of the form `<epoch>.<number>`.
        init?(text: String) {
            guard let dot = text.lastIndex(of: "."), dot != text.startIndex,
                  let sequence = Int64(text[text.index(after: dot)...]), sequence >= 0 else { return nil }
            self.epoch = String(text[..<dot])
            self.sequence = sequence
        }
    }
}
