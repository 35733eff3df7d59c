import BatonCore
import Foundation
import Testing

@Suite struct SessionProgressTests {
    func progress(_ status: SessionStatus, phase: Int, step: Step?, total: Int = 3,
                  autoSteps: Bool = true, autoPhases: Bool = false) -> SessionProgress {
        SessionProgress(.init(sessionId: "s", status: status, phase: phase, step: step, totalPhases: total,
                              autoSteps: autoSteps, autoPhases: autoPhases, version: 1, updatedAt: "t"))
    }

    @Test func phasesCountAsCompletedOnceTheirIntegrateIsDone() {
        #expect(progress(.pending, phase: 1, step: .think).completedPhases == [])
        #expect(progress(.integrating, phase: 1, step: .integrate).completedPhases == [])
        #expect(progress(.awaitingProceed, phase: 2, step: .think).completedPhases == [1])
        #expect(progress(.executing, phase: 3, step: .execute).completedPhases == [1, 2])
        #expect(progress(.completed, phase: 3, step: nil).completedPhases == [1, 2, 3])
        #expect(progress(.completed, phase: 1, step: nil, total: 1).completedPhases == [1])
        #expect(progress(.failed, phase: 2, step: .execute).completedPhases == [1])
        #expect(progress(.cancelled, phase: 1, step: .think).completedPhases == [])
    }

    /// The wire format that front ends poll: the list of finished phase numbers, not a count.
    @Test func completedPhasesIsAListOfPhaseNumbersInJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json(_ p: SessionProgress) throws -> String { String(decoding: try encoder.encode(p), as: UTF8.self) }
        #expect(try json(progress(.pending, phase: 1, step: .think)).contains(#""completedPhases":[]"#))
        #expect(try json(progress(.awaitingProceed, phase: 2, step: .think, total: 2)).contains(#""completedPhases":[1]"#))
        let done = progress(.completed, phase: 2, step: nil, total: 2)
        #expect(try json(done).contains(#""completedPhases":[1,2]"#))
        #expect(try JSONDecoder().decode(SessionProgress.self, from: encoder.encode(done)) == done)
    }

    @Test func onlyTheGateCanProceed() {
        for status in SessionStatus.allCases {
            let p = progress(status, phase: 2, step: status == .completed ? nil : .think)
            #expect(p.canProceed == (status == .awaitingProceed))
        }
    }

    @Test func manualTriggerIsRequiredWhenAGateLiesAhead() {
        // Default settings: a gate between phases, none after the last.
        #expect(progress(.thinking, phase: 1, step: .think).requiresManualTrigger)
        #expect(!progress(.thinking, phase: 3, step: .think).requiresManualTrigger)
        #expect(progress(.awaitingProceed, phase: 3, step: .think).requiresManualTrigger)
        // Phases that advance by themselves: nothing ahead needs a person.
        #expect(!progress(.executing, phase: 1, step: .execute, autoPhases: true).requiresManualTrigger)
        // Steps that wait: every step but the last stops.
        #expect(progress(.integrating, phase: 2, step: .integrate, autoSteps: false, autoPhases: true).requiresManualTrigger)
        #expect(!progress(.integrating, phase: 3, step: .integrate, autoSteps: false).requiresManualTrigger)
        #expect(!progress(.completed, phase: 3, step: nil).requiresManualTrigger)
        #expect(!progress(.cancelled, phase: 1, step: .think).requiresManualTrigger)
    }

    @Test func positionIsReportedAsStored() {
        let p = progress(.executing, phase: 2, step: .execute)
        #expect(p.currentPhase == 2 && p.currentStep == .execute && p.totalPhases == 3 && p.status == .executing)
    }
}
