/// Exact coalescing of one watched key as a pure value: at most one session queued and one
/// running, every change folded into a session that starts after it, the newest row read at
/// the start. PostgreSQL keeps the same rules for every (kind, key) (sql/functions/record_changes.sql); a
/// test drives both with the same events and compares.
///
/// States: nothing; queued; running; running with one queued behind it.
/// - `change`: folds into the queued session, or queues a new one.
/// - `start`: the queued session starts unless another one runs (then it waits).
/// - `finish`: the running session ends (completed, failed or cancelled: all free the key).
public struct KeyedRuns: Sendable, Hashable {
    /// One session of the key.
    public struct Run: Sendable, Hashable {
        /// 1, 2, … in the order the sessions were created.
        public var number: Int
        /// The op of the change that created it.
        public var firstChange: ChangeOp
        /// Changes folded into it, the first included.
        public var changes: Int
        /// The op its handler acts on, once it started.
        public var op: ChangeOp?
    }

    /// Things that happen to a key.
    public enum Event: Sendable, Hashable {
        /// A committed change of the row.
        case change(ChangeOp)
        /// A worker tries to claim the key's queued session.
        case start
        /// The running session ends.
        case finish
    }

    /// What an event did.
    public enum Effect: Sendable, Hashable {
        /// A new session was queued.
        case queued(run: Int)
        /// The change joined the queued session.
        case folded(into: Int)
        /// The queued session started; its handler acts on `op`.
        case started(run: Int, op: ChangeOp)
        /// The queued session must wait: another session of the key runs.
        case waits(run: Int)
        /// The running session ended.
        case finished(run: Int)
        /// Nothing to start, or nothing running.
        case nothing
        /// The change cannot happen to this row (an INSERT of a row that exists, an UPDATE or
        /// DELETE of one that does not: its key is unique).
        case impossible
    }

    public private(set) var queued: Run?
    public private(set) var running: Run?
    /// Every session that started, in order.
    public private(set) var started: [Run] = []
    /// Whether the row exists now.
    public private(set) var rowExists: Bool
    private var created = 0

    public init(rowExists: Bool = false) {
        self.rowExists = rowExists
    }

    public mutating func handle(_ event: Event) -> Effect {
        switch event {
        case .change(let op):
            switch op {
            case .insert: guard !rowExists else { return .impossible }
            case .update, .delete: guard rowExists else { return .impossible }
            }
            rowExists = op != .delete
            if var run = queued {
                run.changes += 1
                queued = run
                return .folded(into: run.number)
            }
            created += 1
            queued = Run(number: created, firstChange: op, changes: 1)
            return .queued(run: created)
        case .start:
            guard var run = queued else { return .nothing }
            guard running == nil else { return .waits(run: run.number) }
            let op = ChangeOp.atStart(firstChange: run.firstChange, rowExists: rowExists)
            run.op = op
            queued = nil
            running = run
            started.append(run)
            return .started(run: run.number, op: op)
        case .finish:
            guard let run = running else { return .nothing }
            running = nil
            return .finished(run: run.number)
        }
    }
}
