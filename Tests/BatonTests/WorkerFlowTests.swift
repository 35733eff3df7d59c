import Baton
import Foundation
import Testing

/// Sessions through a real worker against a real PostgreSQL.
@Suite struct WorkerFlowTests {
    /// 2 phases: THINK/EXECUTE/INTEGRATE, the gate, `baton advance`, COMPLETED; progress at each
    /// stop. Also with DATABASE_URL through PgBouncer (transaction pooling) and DIRECT_URL straight.
    @Test(arguments: DatabaseRoute.allCases)
    func twoPhasesThroughTheGateToCompletion(route: DatabaseRoute) async throws {
        let db = try await TestDatabase.create(route: route)
        let id = try await db.createSession(phases: 2, input: "{\"topic\": \"gates\"}")
        var progress = try await db.client.progress(id)
        #expect(progress.status == .pending && progress.currentPhase == 1 && progress.currentStep == .think)
        #expect(progress.completedPhases == [] && !progress.canProceed && progress.requiresManualTrigger)

        try await withWorker(db) {
            try await db.awaitStatus(id, .awaitingProceed)
            let progress = try await db.client.progress(id)
            #expect(progress.currentPhase == 2 && progress.currentStep == .think)
            #expect(progress.completedPhases == [1] && progress.totalPhases == 2)
            #expect(progress.canProceed && progress.requiresManualTrigger)
            // Phase 2 has not started: nothing is queued while the session waits.
            #expect(try await db.scalar("SELECT count(*) FROM baton.tasks WHERE session_id = $1 AND phase = 2", [id]) == "0")

            let advanced = try await runBaton(["advance", id, "--json"], environment: db.environment)
            #expect(advanced.status == 0, "\(advanced.output)")
            #expect(advanced.output.contains("\"status\" : \"THINKING\""))

            try await db.awaitStatus(id, .completed)
        }
        progress = try await db.client.progress(id)
        #expect(progress.completedPhases == [1, 2] && progress.currentStep == nil && !progress.canProceed && !progress.requiresManualTrigger)

        let detail = try await db.client.sessionDetail(id)
        #expect(detail.steps.map { "\($0.phase).\($0.step.rawValue)" } ==
                ["1.THINK", "1.EXECUTE", "1.INTEGRATE", "2.THINK", "2.EXECUTE", "2.INTEGRATE"])
        for step in detail.steps {
            #expect(step.status == .completed && step.attempts.count == 1 && step.attempts[0].outcome == "SUCCEEDED")
            #expect(step.result?["echo"]?["topic"] == .string("gates"))
        }
        // The handler saw the earlier results: phase 2's THINK got phase 1's INTEGRATE.
        let input = try #require(detail.steps[3].attempts[0].input)
        #expect(input["previous"]?["1.INTEGRATE"] != nil)
        #expect(input["previous"]?["1.THINK"] == nil)
        #expect(input["idempotencyKey"] == .string("\(id)/2/THINK"))
    }

    /// With a 60 s safety poll, only a notification can wake the idle worker in time.
    @Test func aNotificationWakesTheWorkerNotThePoll() async throws {
        let db = try await TestDatabase.create()
        var configuration = testConfiguration(pollMs: 60_000)
        // The start-up heartbeat comes before the first scan; no other one runs during the test,
        // so the worker connection's last query shows that the scan happened.
        configuration.heartbeatIntervalMs = 600_000
        configuration.rescueAfterMs = 1_200_000
        try await withWorker(db, configuration: configuration) {
            // Wait until the worker listens and has finished its first scan of the (empty) queue:
            // from then on, only a notification can make it claim before the 60 s poll.
            try await db.awaitCondition("the worker to listen and finish its first scan") {
                try await db.scalar("""
                    SELECT count(*) FILTER (WHERE application_name = 'baton-listener'
                                              AND (query LIKE 'LISTEN%' OR query = 'SELECT 1'))  -- the ping comes after LISTEN
                         + count(*) FILTER (WHERE application_name = 'baton-worker' AND state = 'idle'
                                              AND query LIKE '%baton.claim_tasks%')
                    FROM pg_stat_activity WHERE datname = current_database()
                    """) == "2"
            }
            let started = Date()
            let id = try await db.createSession()
            try await db.awaitStatus(id, .completed, timeout: 30)
            #expect(Date().timeIntervalSince(started) < 30, "finished well before the 60 s poll")
        }
    }

    /// WORKER_CONNECTIONS: a batch of 4 over 2 connections runs 4 steps at once, each
    /// connection its share (2) under its own worker id, holding its own session locks; a fifth
    /// session waits for a free slot.
    @Test func severalConnectionsShareTheBatch() async throws {
        let db = try await TestDatabase.create()
        let gated = GatedHandler()
        var configuration = testConfiguration(batchSize: 4)
        configuration.connections = 2
        let id = configuration.workerID
        var created: [String] = []
        for _ in 0..<5 { created.append(try await db.createSession()) }
        let ids = created
        try await withWorker(db, handlers: HandlerRegistry(gated), configuration: configuration) {
            try await awaitValue("4 steps to run at once") {
                ids.filter { gated.isWaiting($0) }.count == 4
            }
            let running = try await db.query("""
                SELECT k.worker_id, count(*), count(DISTINCT l.pid)
                FROM baton.tasks k
                JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                 AND l.classid = baton.lock_class()::oid AND l.objid = hashtext(k.session_id)::oid
                WHERE k.status = 'RUNNING' GROUP BY k.worker_id ORDER BY k.worker_id
                """)
            #expect(running.rows.map { $0.map { $0 ?? "" } } == [["\(id)/1", "2", "1"], ["\(id)/2", "2", "1"]])
            #expect(try await db.scalar("SELECT count(*) FROM baton.tasks WHERE status = 'PENDING'") == "1")
            #expect(try await db.scalar("""
                SELECT count(DISTINCT pid) FROM pg_stat_activity
                WHERE application_name = 'baton-worker' AND datname = current_database()
                """) == "2")
            for session in ids { gated.release(session) }
            for session in ids { try await db.awaitStatus(session, .completed) }
        }
    }

    @Test func stepsAutoAdvanceWhenAsked() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession(phases: 3, autoSteps: true, autoPhases: true)
        try await withWorker(db) { try await db.awaitStatus(id, .completed) }
        #expect(try await db.scalar("SELECT count(*) FROM baton.tasks WHERE session_id = $1 AND status = 'COMPLETED'", [id]) == "9")
    }

    @Test func stepsWaitAfterEachStepWhenAutoStepsIsOff() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession(phases: 1, autoSteps: false)
        try await withWorker(db) {
            for next in [Step.execute, .integrate] {
                try await db.awaitStatus(id, .awaitingProceed)
                let progress = try await db.client.progress(id)
                #expect(progress.currentStep == next && progress.canProceed)
                _ = try await db.client.proceed(id)
            }
            try await db.awaitStatus(id, .completed)
        }
    }

    /// Fails twice, then succeeds: three attempts, spaced by the backoff.
    @Test func retriesWithBackoff() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession(input: "{\"failAttempts\": 2, \"failSteps\": [\"THINK\"]}")
        try await withWorker(db, configuration: testConfiguration(maxRetries: 3, retryDelayMs: 200)) {
            try await db.awaitStatus(id, .completed)
        }
        let think = try #require(try await db.client.sessionDetail(id).steps.first)
        #expect(think.attempts.map(\.outcome) == ["FAILED", "FAILED", "SUCCEEDED"])
        #expect(think.attempts[0].error?.contains("failing attempt 1") == true)
        // The second retry waits at least half of 2 × 200 ms after the second failure.
        let gaps = try await db.query("""
            SELECT extract(epoch FROM (b.started_at - a.finished_at)) * 1000 AS gap_ms
            FROM baton.attempts a JOIN baton.attempts b ON b.task_id = a.task_id AND b.attempt = a.attempt + 1
            WHERE a.session_id = $1 ORDER BY a.attempt
            """, [id])
        let ms = gaps.records.compactMap { $0["gap_ms"].flatMap(Double.init) }
        #expect(ms.count == 2)
        #expect(ms[0] >= 100 && ms[1] >= 200, "backoff gaps \(ms)")
    }

    /// Retries spent → FAILED; `baton retry` resumes at the failed step, earlier results kept.
    @Test func exhaustionFailsTheSessionAndRetryResumesIt() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession(input: "{\"failAttempts\": 3, \"failSteps\": [\"EXECUTE\"]}")
        try await withWorker(db, configuration: testConfiguration(maxRetries: 1, retryDelayMs: 10)) {
            try await db.awaitStatus(id, .failed)
            let failed = try await db.client.sessionDetail(id)
            #expect(failed.session.error?.contains("failing attempt 2") == true)
            #expect(failed.session.step == .execute)
            #expect(failed.steps[1].attempts.map(\.outcome) == ["FAILED", "FAILED"])
            #expect(failed.steps[1].attempts.last?.error?.contains("no retries left") == true)

            let retried = try await runBaton(["retry", id], environment: ["DATABASE_URL": db.url])
            #expect(retried.status == 0, "\(retried.output)")
            try await db.awaitStatus(id, .completed)
        }
        let detail = try await db.client.sessionDetail(id)
        #expect(detail.steps[0].attempts.count == 1, "THINK ran once: its result was kept")
        #expect(detail.steps[1].attempts.map(\.outcome) == ["FAILED", "FAILED", "FAILED", "SUCCEEDED"])
        #expect(detail.steps[1].attempts.map(\.attempt) == [1, 2, 3, 4])
    }

    /// A step still running when its session is cancelled: the worker's next heartbeat learns
    /// of it and stops the handler; the attempt is recorded as discarded, nothing is applied.
    @Test func cancellingWhileAStepRunsStopsItAndRecordsTheAttempt() async throws {
        let db = try await TestDatabase.create()
        let gate = Gate()
        let handler = ClosureHandler { step in
            await gate.arrive()
            await gate.waitForRelease()
            return "{\"late\": true}"
        }
        let id = try await db.createSession()
        try await withWorker(db, handlers: HandlerRegistry(handler)) {
            await gate.waitForArrival()
            _ = try await db.client.cancel(id)
            // The handler is never released: only the worker can end it.
            try await db.awaitCondition("the discarded attempt to be recorded") {
                try await db.scalar("SELECT outcome FROM baton.attempts WHERE session_id = $1", [id]) == "DISCARDED"
            }
            await gate.release()
        }
        #expect(try await db.status(id) == "CANCELLED")
        #expect(try await db.scalar("SELECT status FROM baton.tasks WHERE session_id = $1", [id]) == "CANCELLED")
        let error = try await db.scalar("SELECT error FROM baton.attempts WHERE session_id = $1", [id]) ?? ""
        #expect(error.contains("the worker stopped the step") && error.contains("result discarded: task is CANCELLED"), "\(error)")
        #expect(try await db.scalar("SELECT output::text FROM baton.attempts WHERE session_id = $1", [id]) == nil)
        #expect(try await db.scalar("SELECT count(*) FROM baton.tasks WHERE session_id = $1", [id]) == "1", "nothing was queued after it")
    }

    /// A worker serves only the kinds it is given; BATON_HANDLER maps kinds to handlers.
    @Test func kindsAreRoutedToTheirHandlers() async throws {
        let db = try await TestDatabase.create()
        let registry = try HandlerRegistry.parse("mine=builtin:echo")
        let mine = try await db.createSession(kind: "mine")
        let theirs = try await db.createSession(kind: "theirs")
        try await withWorker(db, handlers: registry) {
            try await db.awaitStatus(mine, .completed)
            #expect(try await db.status(theirs) == "PENDING", "no handler for 'theirs': never claimed")
        }
        let detail = try await db.client.sessionDetail(mine)
        #expect(detail.steps[0].attempts[0].input?["kind"] == .string("mine"))
    }

    @Test func aPermanentFailureSkipsTheRetries() async throws {
        let db = try await TestDatabase.create()
        let handler = ClosureHandler { _ in throw StepFailure("the input can never work", permanent: true) }
        let id = try await db.createSession()
        try await withWorker(db, handlers: HandlerRegistry(handler)) { try await db.awaitStatus(id, .failed) }
        #expect(try await db.scalar("SELECT count(*) FROM baton.attempts WHERE session_id = $1", [id]) == "1")
        #expect(try await db.scalar("SELECT error FROM baton.sessions WHERE id = $1", [id]) == "the input can never work (permanent)")
    }

    @Test func aResultPostgresCannotStoreFailsTheAttemptWithoutLosingOthers() async throws {
        let db = try await TestDatabase.create()
        // \u0000 is valid JSON but jsonb refuses it; the worker must catch it before the commit.
        let handler = ClosureHandler { step in
            step.sessionId.hasPrefix("bad") ? "{\"x\": \"a\\u0000b\"}" : "{\"ok\": true}"
        }
        try await db.query("SELECT baton.create_session(1, '{}', 'bad-1')")
        let good = try await db.createSession()
        try await withWorker(db, handlers: HandlerRegistry(handler), configuration: testConfiguration(maxRetries: 0)) {
            try await db.awaitStatus("bad-1", .failed)
            try await db.awaitStatus(good, .completed)
        }
        #expect(try await db.scalar("SELECT error FROM baton.sessions WHERE id = 'bad-1'")?.contains("not storable JSON") == true)
    }
}

/// A rendezvous between a test and a handler.
actor Gate {
    private var arrived = false
    private var released = false
    private var arrivalWaiters: [CheckedContinuation<Void, Never>] = []
    private var releaseWaiters: [CheckedContinuation<Void, Never>] = []

    func arrive() {
        arrived = true
        arrivalWaiters.forEach { $0.resume() }
        arrivalWaiters.removeAll()
    }

    func waitForArrival() async {
        if arrived { return }
        await withCheckedContinuation { arrivalWaiters.append($0) }
    }

    func release() {
        released = true
        releaseWaiters.forEach { $0.resume() }
        releaseWaiters.removeAll()
    }

    func waitForRelease() async {
        if released { return }
        await withCheckedContinuation { releaseWaiters.append($0) }
    }
}
