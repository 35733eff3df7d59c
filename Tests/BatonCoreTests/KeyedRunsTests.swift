import BatonCore
import Testing

/// Every sequence of changes, starts and finishes up to a length, from a row that exists and
/// from one that does not: the coalescing rules hold after each event.
@Suite struct KeyedRunsTests {
    /// What a handler last saw of the row, and which changes no started run has seen yet.
    struct Oracle {
        var lastSeen: Bool
        var unseen = 0
    }

    static let events: [KeyedRuns.Event] = [.change(.insert), .change(.update), .change(.delete), .start, .finish]

    @Test(arguments: [false, true])
    func everySequenceKeepsTheRules(rowExists: Bool) {
        var sequences = 0
        func explore(_ runs: KeyedRuns, _ oracle: Oracle, _ path: [KeyedRuns.Event], depth: Int) {
            sequences += 1
            guard depth > 0 else { return }
            for event in Self.events {
                var next = runs
                var seen = oracle
                let effect = next.handle(event)
                let trail = path + [event]
                switch effect {
                case .impossible:
                    continue
                case .queued(let run):
                    #expect(runs.queued == nil && next.queued?.number == run && next.queued?.changes == 1, "\(trail)")
                    seen.unseen += 1
                case .folded(let run):
                    #expect(runs.queued?.number == run && next.queued?.changes == runs.queued!.changes + 1, "\(trail)")
                    seen.unseen += 1
                case .started(let run, let op):
                    #expect(runs.running == nil && runs.queued?.number == run && next.queued == nil, "\(trail)")
                    // The handler acts on the difference between what it saw last and the row now.
                    let expected: ChangeOp = !next.rowExists ? .delete : oracle.lastSeen ? .update : .insert
                    #expect(op == expected, "\(trail): started with \(op), the row went from \(oracle.lastSeen) to \(next.rowExists)")
                    #expect(run == (runs.started.last?.number ?? 0) + 1, "runs start in the order they were queued: \(trail)")
                    seen.lastSeen = next.rowExists
                    seen.unseen = 0
                case .waits(let run):
                    #expect(runs.running != nil && runs.queued?.number == run && next == runs, "\(trail)")
                case .finished(let run):
                    #expect(runs.running?.number == run && next.running == nil, "\(trail)")
                case .nothing:
                    #expect(next == runs, "\(trail)")
                }
                // At most one queued and one running, never the same; every change not yet seen
                // by a started run is in the queued one, which will read the row when it starts.
                #expect(next.queued == nil || next.queued?.number != next.running?.number, "\(trail)")
                #expect(seen.unseen == (next.queued?.changes ?? 0), "\(trail)")
                explore(next, seen, trail, depth: depth - 1)
            }
        }
        explore(KeyedRuns(rowExists: rowExists), Oracle(lastSeen: rowExists), [], depth: 8)
        #expect(sequences > 10_000, "explored \(sequences) sequences")
    }

    /// A burst of changes makes one run; a burst that straddles a start makes two.
    @Test func burstsCoalesce() {
        var runs = KeyedRuns(rowExists: true)
        for _ in 0..<100 { _ = runs.handle(.change(.update)) }
        #expect(runs.queued?.changes == 100)
        #expect(runs.handle(.start) == .started(run: 1, op: .update))
        for _ in 0..<100 { _ = runs.handle(.change(.update)) }
        #expect(runs.handle(.start) == .waits(run: 2), "the follow-up waits for the running one")
        #expect(runs.handle(.finish) == .finished(run: 1))
        #expect(runs.handle(.start) == .started(run: 2, op: .update))
        #expect(runs.started.map(\.changes) == [100, 100])
    }

    @Test func theOpAtTheStart() {
        for first in ChangeOp.allCases {
            #expect(ChangeOp.atStart(firstChange: first, rowExists: false) == .delete)
        }
        #expect(ChangeOp.atStart(firstChange: .insert, rowExists: true) == .insert)
        #expect(ChangeOp.atStart(firstChange: .update, rowExists: true) == .update)
        #expect(ChangeOp.atStart(firstChange: .delete, rowExists: true) == .update, "deleted and inserted again")
    }
}
