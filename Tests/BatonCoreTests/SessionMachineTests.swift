import BatonCore
import Testing

/// Transcripts: feed events, expect positions and actions.
@Suite struct SessionMachineTests {
    typealias P = SessionMachine.Position

    func run(_ machine: inout SessionMachine, _ event: SessionMachine.Event,
             expect status: SessionStatus, phase: Int, step: Step?, action: SessionMachine.Action) throws {
        let got = try machine.handle(event)
        #expect(machine.position == P(status: status, phase: phase, step: step), "after \(event)")
        #expect(got == action, "action after \(event)")
    }

    @Test func twoPhasesWithTheDefaultGate() throws {
        var m = SessionMachine.new(totalPhases: 2)
        try run(&m, .claim, expect: .thinking, phase: 1, step: .think, action: .none)
        try run(&m, .succeed, expect: .executing, phase: 1, step: .execute, action: .enqueue)
        try run(&m, .succeed, expect: .integrating, phase: 1, step: .integrate, action: .enqueue)
        try run(&m, .succeed, expect: .awaitingProceed, phase: 2, step: .think, action: .await)
        try run(&m, .proceed, expect: .thinking, phase: 2, step: .think, action: .enqueue)
        try run(&m, .claim, expect: .thinking, phase: 2, step: .think, action: .none)
        try run(&m, .succeed, expect: .executing, phase: 2, step: .execute, action: .enqueue)
        try run(&m, .succeed, expect: .integrating, phase: 2, step: .integrate, action: .enqueue)
        try run(&m, .succeed, expect: .completed, phase: 2, step: nil, action: .complete)
    }

    @Test func phasesThatAdvanceByThemselves() throws {
        var m = SessionMachine.new(totalPhases: 2, autoSteps: true, autoPhases: true)
        try run(&m, .claim, expect: .thinking, phase: 1, step: .think, action: .none)
        try run(&m, .succeed, expect: .executing, phase: 1, step: .execute, action: .enqueue)
        try run(&m, .succeed, expect: .integrating, phase: 1, step: .integrate, action: .enqueue)
        try run(&m, .succeed, expect: .thinking, phase: 2, step: .think, action: .enqueue)
    }

    @Test func stepsThatWaitAfterEveryStep() throws {
        var m = SessionMachine.new(totalPhases: 1, autoSteps: false, autoPhases: true)
        try run(&m, .claim, expect: .thinking, phase: 1, step: .think, action: .none)
        try run(&m, .succeed, expect: .awaitingProceed, phase: 1, step: .execute, action: .await)
        try run(&m, .proceed, expect: .executing, phase: 1, step: .execute, action: .enqueue)
        try run(&m, .succeed, expect: .awaitingProceed, phase: 1, step: .integrate, action: .await)
        try run(&m, .proceed, expect: .integrating, phase: 1, step: .integrate, action: .enqueue)
        // The very last step has nothing to wait for.
        try run(&m, .succeed, expect: .completed, phase: 1, step: nil, action: .complete)
    }

    @Test func failThenRetryResumesAtTheFailedStep() throws {
        var m = SessionMachine.new(totalPhases: 3)
        m.position = P(status: .executing, phase: 2, step: .execute)
        try run(&m, .fail, expect: .failed, phase: 2, step: .execute, action: .fail)
        try run(&m, .retry, expect: .executing, phase: 2, step: .execute, action: .enqueue)
    }

    @Test func cancelWorksEverywhereButTheEnd() throws {
        for status in SessionStatus.allCases {
            var m = SessionMachine.new(totalPhases: 1)
            m.position = P(status: status, phase: 1, step: status == .completed ? nil : .think)
            if status.isTerminal {
                #expect(throws: SessionMachine.Rejection.self) { try m.handle(.cancel) }
            } else {
                #expect(try m.handle(.cancel) == .cancel)
                #expect(m.position.status == .cancelled)
            }
        }
    }

    @Test func rejectionsSayWhereTheEventIsAllowed() {
        var m = SessionMachine.new(totalPhases: 1)
        m.position = P(status: .executing, phase: 1, step: .execute)
        do {
            _ = try m.handle(.proceed)
            Issue.record("proceed must be rejected while EXECUTING")
        } catch {
            #expect(error.description == "session is EXECUTING; proceed is allowed only in AWAITING_PROCEED")
        }
        #expect(m.position == P(status: .executing, phase: 1, step: .execute), "a rejected event changes nothing")
    }

    @Test func aRunningStatusMustNameItsStep() {
        // THINKING at step EXECUTE is not a real position: nothing may succeed from it.
        let bogus = P(status: .thinking, phase: 1, step: .execute)
        #expect(SessionMachine.decide(bogus, event: .succeed, totalPhases: 1, autoSteps: true, autoPhases: true) == nil)
    }

    /// The diagram of docs/design.md, written out pair by pair.
    @Test func allowedTransitionsAreTheDesignDiagram() {
        let expected: [(SessionStatus, SessionStatus)] = [
            (.pending, .thinking), (.thinking, .executing), (.executing, .integrating),
            (.integrating, .awaitingProceed), (.integrating, .thinking), (.integrating, .completed),
            (.awaitingProceed, .thinking), (.awaitingProceed, .executing), (.awaitingProceed, .integrating),
            (.thinking, .awaitingProceed), (.executing, .awaitingProceed),
            (.thinking, .failed), (.executing, .failed), (.integrating, .failed),
            (.failed, .thinking), (.failed, .executing), (.failed, .integrating),
            (.pending, .cancelled), (.thinking, .cancelled), (.executing, .cancelled),
            (.integrating, .cancelled), (.awaitingProceed, .cancelled), (.failed, .cancelled),
        ]
        let want = Set(expected.map { Transition(from: $0.0, to: $0.1) })
        #expect(SessionMachine.allowedTransitions == want,
                "extra: \(SessionMachine.allowedTransitions.subtracting(want).sorted()), missing: \(want.subtracting(SessionMachine.allowedTransitions).sorted())")
    }

    /// Exhaustive: every decision stays inside the table, keeps phases in range, and never
    /// leaves a terminal state.
    @Test func everyDecisionIsConsistent() {
        var decisions = 0
        // Only positions the schema allows (a step exactly when not COMPLETED).
        let valid = SessionMachine.reachablePositions(maxPhases: 3).filter { ($0.step == nil) == ($0.status == .completed) }
        for position in valid {
            for total in position.phase...3 {
                for autoSteps in [false, true] {
                    for autoPhases in [false, true] {
                        for event in SessionMachine.Event.allCases {
                            guard let (next, action) = SessionMachine.decide(
                                position, event: event, totalPhases: total, autoSteps: autoSteps, autoPhases: autoPhases)
                            else { continue }
                            decisions += 1
                            #expect(!position.status.isTerminal, "\(position) must not move on \(event)")
                            if next.status != position.status {
                                #expect(SessionMachine.allowedTransitions.contains(Transition(from: position.status, to: next.status)))
                            }
                            #expect((1...total).contains(next.phase))
                            #expect((next.step == nil) == (next.status == .completed))
                            #expect((action == .enqueue) == (next.status.runningStep != nil && event != .claim))
                            if let running = next.status.runningStep { #expect(running == next.step) }
                        }
                    }
                }
            }
        }
        #expect(decisions > 500)
    }
}
