import Baton
@testable import BatonTesting
import Foundation
import Synchronization
import Testing

/// The BatonTesting kit, every public piece against the real PostgreSQL of scripts/test:
/// test databases, the LISTEN-driven wait and its failure messages, one handler run without a
/// worker, and the expectations on what was queued.
@Suite struct BatonTestingTests {
    // MARK: Test databases

    @Test func anAdminURLNamesTheThrowawayDatabaseKeepingEverythingElse() {
        #expect(DatabaseURL.replacingDatabase(in: "postgresql://u:p%2Fw@h:5/postgres?sslmode=disable", with: "t_1")
                == "postgresql://u:p%2Fw@h:5/t_1?sslmode=disable")
        #expect(DatabaseURL.replacingDatabase(in: "postgres://h", with: "t_1") == "postgres://h/t_1")
        #expect(DatabaseURL.replacingDatabase(in: "postgresql://h:5?application_name=x", with: "t_1") == "postgresql://h:5/t_1?application_name=x")
        #expect(DatabaseURL.replacingDatabase(in: "host=h dbname=postgres", with: "t_1") == "host=h dbname=postgres dbname=t_1")
        #expect(DatabaseURL.isPlainPrefix("baton_test") && DatabaseURL.isPlainPrefix("_x1"))
        #expect(!DatabaseURL.isPlainPrefix("Upper") && !DatabaseURL.isPlainPrefix("1x") && !DatabaseURL.isPlainPrefix("a-b")
                && !DatabaseURL.isPlainPrefix("") && !DatabaseURL.isPlainPrefix(String(repeating: "a", count: 41)))
    }

    @Test func aThrowawayDatabaseIsMigratedAndDroppedAtTheEnd() async throws {
        let adminURL = try TestEnvironment.adminURL
        let name = try await BatonTestDatabase.withThrowaway(adminURL: adminURL, namePrefix: "kit") { db in
            #expect(db.isThrowaway && db.name.hasPrefix("kit_"))
            #expect(try await Migrator.appliedVersion(db.pool) == Migration.all.last?.version)
            let session = try await db.client.createSession(phases: 1)
            #expect(session.status == .pending)
            return db.name
        }
        #expect(try await Self.databaseExists(name) == false, "withThrowaway dropped \(name)")

        // Also when the body throws; and a connection the test left open does not keep it alive.
        let kept = Kept()
        let failed = await #expect(throws: TestFailure.self) {
            try await BatonTestDatabase.withThrowaway(adminURL: adminURL) { db in
                let leftOpen = DatabaseConnection(settings: db.directSettings, label: "left-open", preparedStatements: false)
                try await leftOpen.query("SELECT 1")
                await kept.keep(leftOpen)
                throw TestFailure(db.name)
            }
        }
        let dropped = try #require(failed?.description)
        #expect(dropped.hasPrefix("baton_test_"))
        #expect(try await Self.databaseExists(dropped) == false)
        await kept.connection?.close()
    }

    @Test func aGivenDatabaseIsMigratedAndNeverDropped() async throws {
        let empty = try await TestDatabase.create(migrated: false)
        let db = try await BatonTestDatabase.given(url: empty.url)
        #expect(!db.isThrowaway)
        #expect(try await Migrator.appliedVersion(db.pool) == Migration.all.last?.version)
        let again = try await db.migrate()
        #expect(again.applied.isEmpty && again.functionsApplied.isEmpty, "migrating twice changes nothing")
        try await db.drop()
        #expect(try await Self.databaseExists(empty.name) == true)
        #expect(db.environment["DIRECT_URL"] == empty.url)
    }

    @Test func badSetUpIsReportedWithoutTheURL() async throws {
        let badPrefix = await #expect(throws: BatonTestingError.self) {
            try await BatonTestDatabase.throwaway(adminURL: try TestEnvironment.adminURL, namePrefix: "Bad-Name")
        }
        #expect(badPrefix?.description.contains("name prefix 'Bad-Name' is not usable") == true)

        let unreachable = await #expect(throws: BatonTestingError.self) {
            try await BatonTestDatabase.throwaway(adminURL: "postgresql://postgres:hunter2secret@127.0.0.1:1/postgres")
        }
        let message = unreachable?.description ?? ""
        #expect(message.contains("could not create a test database on postgres@127.0.0.1:1/postgres"), "\(message)")
        #expect(message.contains("CREATEDB"))
        #expect(!message.contains("hunter2secret"))
    }

    // MARK: Waiting for a status

    @Test func waitForStatusReturnsWhenAWorkerGetsThere() async throws {
        try await BatonTestDatabase.withThrowaway(adminURL: try TestEnvironment.adminURL) { db in
            let created = try await db.client.createSession(phases: 2, inputJSON: #"{"topic": "kit"}"#)
            let session = try await db.withWorker(HandlerRegistry(EchoHandler())) {
                try await db.waitForStatus(created.id, .awaitingProceed)
            }
            #expect(session.status == .awaitingProceed && session.phase == 2)
        }
    }

    @Test func aWaitThatTimesOutNamesTheStatusItSawAndTheSteps() async throws {
        let db = try await TestDatabase.create()
        // No worker: the session stays PENDING, so the wait can only time out.
        let id = try await db.createSession()
        let failure = await #expect(throws: StatusWaitFailure.self) {
            try await StatusWaiter(settings: db.directSettings).waitForStatus(id, .completed, timeout: .milliseconds(200))
        }
        let error = try #require(failure)
        #expect(error.reason == .timedOut(.milliseconds(200)) && error.lastSeen == .pending && error.wanted == .completed)
        #expect(error.description.hasPrefix("session '\(id)' did not become COMPLETED within 0.2 seconds: it is PENDING"),
                "\(error.description)")
        #expect(error.description.contains("steps: 1.THINK PENDING (0 attempts)"), "\(error.description)")

        let missing = await #expect(throws: StatusWaitFailure.self) {
            try await StatusWaiter(settings: db.directSettings).waitForStatus("no-such-id", .completed, timeout: .milliseconds(100))
        }
        #expect(missing?.lastSeen == nil && missing?.description.contains("there is no such session") == true)
    }

    @Test func aWaitEndsAtOnceWhenTheSessionSettlesElsewhereWithItsError() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession()
        let failing = ClosureHandler { _ in throw StepFailure("the upstream said no", permanent: true) }
        let failure = try await withWorker(db, handlers: HandlerRegistry(failing)) {
            // A long timeout: the wait must end because the session FAILED, not by the clock.
            await #expect(throws: StatusWaitFailure.self) {
                try await StatusWaiter(settings: db.directSettings).waitForStatus(id, .completed, timeout: .seconds(600))
            }
        }
        let error = try #require(failure)
        #expect(error.reason == .settled && error.lastSeen == .failed)
        #expect(error.description.hasPrefix("session '\(id)' became FAILED while waiting for COMPLETED (error: "), "\(error.description)")
        #expect(error.description.contains("1.THINK FAILED (1 attempt): the upstream said no (permanent)"), "\(error.description)")

        // Waiting for FAILED itself succeeds; stopAt can be narrowed.
        try await StatusWaiter(settings: db.directSettings).waitForStatus(id, .failed)
        let cancelled = try await db.createSession()
        _ = try await db.client.cancel(cancelled)
        await #expect(throws: StatusWaitFailure.self) {
            try await StatusWaiter(settings: db.directSettings).waitForStatus(cancelled, .completed, timeout: .milliseconds(100), stopAt: [])
        }
    }

    /// The wait is woken by the notification of the change it waits for: here a session that
    /// does not exist yet when the wait starts, created afterwards by another connection.
    @Test func aNotificationWakesTheWait() async throws {
        let db = try await TestDatabase.create()
        let waiter = Task { try await StatusWaiter(settings: db.directSettings).waitForStatus("later", .cancelled, timeout: .seconds(120)) }
        try await awaitWaitingListener(db)
        _ = try await db.client.createSession(phases: 1, id: "later")
        _ = try await db.client.cancel("later")
        try await waiter.value
    }

    @Test func cancellingTheWaitingTaskEndsTheWait() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession()
        let waiter = Task { try await StatusWaiter(settings: db.directSettings).waitForStatus(id, .completed, timeout: .seconds(600)) }
        try await awaitWaitingListener(db)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }

    @Test func notificationPayloadsThatConcernTheSession() {
        #expect(StatusWaiter.mentions("a,b", "b") && StatusWaiter.mentions("", "x") && StatusWaiter.mentions("x", "x"))
        #expect(!StatusWaiter.mentions("ab,c", "a") && !StatusWaiter.mentions("a,b", "a,b"))
        #expect(StatusWaiter.milliseconds(.nanoseconds(1)) == 1 && StatusWaiter.milliseconds(.milliseconds(1500)) == 1500)
        #expect(StatusWaiter.milliseconds(.seconds(1_000_000_000)) == Int32.max)
    }

    // MARK: One handler, no worker

    @Test func runStepClassifiesWhatTheHandlerDidAsAWorkerWould() async throws {
        let context = try StepContext.forTest(kind: "report", inputJSON: #"{"topic": "q3"}"#, step: .execute, attempt: 2)
        let echoed = await runStep(EchoHandler(), context)
        #expect(echoed.resultValue?["echo"]?["topic"] == .string("q3"))
        #expect(echoed.resultValue?["step"] == .string("EXECUTE") && echoed.resultValue?["attempt"] == .number(2))
        #expect(try echoed.result().hasPrefix("{\"echo\":"))

        let permanent = await runStep(ClosureHandler { _ in throw StepFailure("no such report", permanent: true) }, context)
        #expect(permanent == .failed(message: "no such report", permanent: true))
        #expect(try permanent.failureMessage() == "no such report")
        let notSuccess = #expect(throws: BatonTestingError.self) { try permanent.result() }
        #expect(notSuccess?.description == "expected the handler to succeed, but it failed permanently: no such report")

        let thrown = await runStep(ClosureHandler { _ in throw TestFailure("disk full") }, context)
        #expect(thrown == .failed(message: "the handler threw: disk full", permanent: false))
        let garbage = await runStep(ClosureHandler { _ in "not json" }, context)
        #expect(try garbage.failureMessage().hasPrefix("the handler returned text that is not storable JSON"))
        let deferred = await runStep(ClosureHandler { _ in throw StepDeferred("202 from the renderer") }, context)
        #expect(deferred == .deferred(reason: "202 from the renderer"))
        #expect(#expect(throws: BatonTestingError.self) { try deferred.failureMessage() }?.description
                == "expected the handler to fail, but it deferred the step: 202 from the renderer")
    }

    /// A handler that ignores cancellation still gives way to the timeout.
    @Test func runStepStopsAHandlerAtItsTimeout() async throws {
        let held = HeldHandler()
        let outcome = await runStep(held, try StepContext.forTest(), timeout: .milliseconds(50))
        #expect(outcome == .timedOut(.milliseconds(50)))
        #expect(outcome.description == "it did not finish within 0.05 seconds and was cancelled")
        held.release()
    }

    @Test func runStepReadsARealHandlerDocument() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession(phases: 2, input: #"{"topic": "replay", "n": 12345678901234567890}"#, autoPhases: true)
        try await withWorker(db) { try await db.awaitStatus(id, .completed) }
        // Phase 2's THINK as the worker gave it to the handler, with phase 1's results in it.
        let row = try #require(try await db.query("""
            SELECT a.input::text AS document, a.output::text AS output FROM baton.attempts a
            JOIN baton.tasks t ON t.id = a.task_id WHERE t.session_id = $1 AND t.phase = 2 AND t.step = 'THINK'
            """, [id]).first)
        let document = try #require(row["document"])
        let context = try StepContext(document: document)
        #expect(context.sessionId == id && context.phase == 2 && context.totalPhases == 2 && context.step == .think)
        #expect(context.previousJSON.contains("1.INTEGRATE"))
        let replayed = await runStep(EchoHandler(), context)
        #expect(replayed.resultValue != nil && replayed.resultValue == JSONValue.decode(row["output"]))
        #expect(try await runStep(EchoHandler(), document: document) == replayed)
    }

    @Test func aDocumentRoundTripsWithItsOrigin() throws {
        let origin = #"{"change":{"table":"items","key":"7","op":"update","changes":3}}"#
        let context = try StepContext.forTest(kind: "items", inputJSON: "[1,2]", step: .integrate, phase: 3, totalPhases: 4,
                                              attempt: 5, previousJSON: #"{"3.THINK":{"a":"\u00e9"}}"#, originJSON: origin,
                                              sessionID: "s\"1", taskID: 0)
        let read = try StepContext(document: context.documentJSON)
        #expect(read == context, "\(context.documentJSON)")
    }

    @Test func badDocumentsAndContextsAreExplained() throws {
        func message(_ document: String) -> String {
            #expect(throws: BatonTestingError.self) { try StepContext(document: document) }?.description ?? ""
        }
        #expect(message("{").hasPrefix("the handler document is not valid JSON ("))
        #expect(message("[1]").hasPrefix("the handler document is not a JSON object;"))
        #expect(message(#"{"step": "THINK"}"#).hasPrefix(#"the handler document has no "session" object;"#))
        #expect(message(#"{"session": {"id": "a", "kind": "k", "phase": 1}, "step": "LATER"}"#)
            .hasPrefix("the handler document names the step 'LATER', which is none of THINK, EXECUTE, INTEGRATE"))
        #expect(message(#"{"session": {"id": 5, "kind": "k", "phase": 1}, "step": "THINK"}"#)
            .hasPrefix("the handler document has no string session.id"))
        #expect(message(#"{"session": {"id": "a", "kind": "k", "phase": 0}, "step": "THINK"}"#)
            .hasPrefix("the handler document has no positive whole number session.phase"))
        #expect(message("not json").contains(#"it must look like {"session": {"id": "s-1""#))

        let badInput = #expect(throws: BatonTestingError.self) { try StepContext.forTest(inputJSON: "{oops}") }
        #expect(badInput?.description.hasPrefix("inputJSON is not valid JSON (") == true)
        let badPrevious = #expect(throws: BatonTestingError.self) { try StepContext.forTest(previousJSON: "[]") }
        #expect(badPrevious?.description == "previousJSON must be a JSON object, got []")
    }

    // MARK: What was queued

    @Test func expectQueuedFindsSessionsSinceTheMarkAndExplainsMisses() async throws {
        try await BatonTestDatabase.withThrowaway(adminURL: try TestEnvironment.adminURL) { db in
            _ = try await db.client.createSession(phases: 1, inputJSON: #"{"id": 1}"#, id: "before", kind: "ingest")
            let mark = try await db.mark()
            _ = try await db.client.createSession(phases: 1, inputJSON: #"{"id": 2, "name": "b"}"#, id: "after-2", kind: "ingest")
            _ = try await db.client.createSession(phases: 1, inputJSON: #"{"id": 3}"#, id: "after-3", kind: "ingest")
            _ = try await db.client.createSession(phases: 1, inputJSON: #"{"id": 2}"#, id: "other", kind: "report")

            let found = try await db.expectQueued(SessionMatch(kind: "ingest", inputContains: #"{"id": 2}"#), since: mark)
            #expect(found.map(\.id) == ["after-2"] && found.first?.input["name"] == .string("b"))
            #expect(try await db.expectQueued(SessionMatch(kind: "ingest"), since: mark, count: 2).map(\.id) == ["after-2", "after-3"])
            #expect(try await db.queuedSessions(SessionMatch(kind: "ingest")).map(\.id) == ["before", "after-2", "after-3"])
            #expect(try await db.queuedSessions(SessionMatch(status: .pending), since: mark).count == 3)

            let missing = await #expect(throws: BatonTestingError.self) {
                try await db.expectQueued(SessionMatch(kind: "ingest", inputContains: #"{"id": 1}"#), since: mark)
            }
            let text = missing?.description ?? ""
            #expect(text.hasPrefix(#"expected a session with kind 'ingest', input containing {"id": 1} created since the mark ("#), "\(text)")
            #expect(text.contains("), found 0. Sessions created since the mark ("), "\(text)")
            #expect(text.contains(#"(3): after-2 [kind ingest, PENDING, input {"id": 2, "name": "b"}]; after-3 [kind ingest"#), "\(text)")
            #expect(!text.contains("before ["), "sessions before the mark are not listed")

            let tooMany = await #expect(throws: BatonTestingError.self) {
                try await db.expectQueued(SessionMatch(kind: "ingest"), since: mark, count: 1)
            }
            #expect(tooMany?.description.contains("expected exactly 1 session with kind 'ingest' created since the mark") == true)
            #expect(tooMany?.description.contains("found 2 (after-2, after-3)") == true)

            try await db.expectNotQueued(SessionMatch(kind: "nothing"), since: mark)
            let unexpected = await #expect(throws: BatonTestingError.self) {
                try await db.expectNotQueued(SessionMatch(kind: "report"), since: mark)
            }
            #expect(unexpected?.description.hasSuffix("found 1: other [kind report, PENDING]") == true, "\(unexpected?.description ?? "")")

            let badFilter = await #expect(throws: BatonTestingError.self) {
                try await db.expectQueued(SessionMatch(inputContains: "{id: 1}"))
            }
            #expect(badFilter?.description.hasPrefix("inputContains is not valid JSON (") == true)

            let nothingSince = try await db.mark()
            let none = await #expect(throws: BatonTestingError.self) { try await db.expectQueued(SessionMatch(), since: nothingSince) }
            #expect(none?.description.hasSuffix("No session was created since the mark (\(nothingSince.at!)).") == true)
        }
    }

    /// A flow that creates sessions from data: a watched table's insert queues a session with
    /// the row's key and the change in its origin.
    @Test func expectQueuedMatchesWhatAWatchQueued() async throws {
        let db = try await TestDatabase.create()
        let queue = QueueCheck(pool: db.pool)
        try await db.query("CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL)")
        try await db.query("SELECT baton.watch('orders', 'order-sync')")
        let mark = try await queue.mark()
        try await db.query("INSERT INTO orders VALUES (7, 100)")
        let queued = try await queue.expectQueued(
            SessionMatch(kind: "order-sync", key: "7", originContains: #"{"change": {"op": "insert", "table": "public.orders"}}"#),
            since: mark, count: 1)
        #expect(queued.first?.origin?["change"]?["key"] == .string("7"))
        try await queue.expectNotQueued(SessionMatch(kind: "order-sync", key: "8"), since: mark)
    }

    // MARK: Other languages

    /// docs/testing.md's Python helper, run as written: a wait that succeeds, one that times out
    /// with its message, and one that a notification wakes (the session is created after the
    /// helper LISTENs and read that it does not exist).
    @Test func theDocumentedPythonHelperWaitsAndExplains() async throws {
        let db = try await TestDatabase.create()
        let done = try await db.createSession()
        _ = try await db.client.cancel(done)
        let pending = try await db.createSession()
        let text = try String(contentsOfFile: TestEnvironment.repository + "/docs/testing.md", encoding: .utf8)
        let marker = try #require(text.range(of: "<!-- BatonTestingTests runs the next python block -->"))
        let block = try #require(text[marker.upperBound...].range(of: "```python\n"))
        let end = try #require(text[block.upperBound...].range(of: "\n```"))
        let driver = """

            import sys
            url, done, pending = sys.argv[1:4]
            wait_for_status(url, done, "CANCELLED", timeout=30)
            try:
                wait_for_status(url, pending, "COMPLETED", timeout=0.3)
                sys.exit("the wait for a PENDING session did not time out")
            except StatusWaitError as e:
                print("FAILURE:", e, flush=True)
            wait_for_status(url + "?application_name=pywait", "py-later", "CANCELLED", timeout=120)
            print("WOKEN")
            """
        let script = NSTemporaryDirectory() + "baton-wait-\(UUID().uuidString).py"
        try (String(text[block.upperBound..<end.lowerBound]) + "\n" + driver).write(toFile: script, atomically: true, encoding: .utf8)
        let process = try BatonProcess(program: try TestEnvironment.python, [script, db.directURL, done, pending])
        defer { process.kill() }
        try await db.awaitCondition("the Python helper to LISTEN and find no session py-later") {
            guard process.isRunning else { throw TestFailure("the Python helper exited early: \(process.output)") }
            return try await db.scalar("""
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pywait'
                  AND state = 'idle' AND query LIKE 'SELECT status, error FROM baton.sessions%'
                """) == "1"
        }
        _ = try await db.client.createSession(phases: 1, id: "py-later")
        _ = try await db.client.cancel("py-later")
        #expect(await process.waitForExit() == 0, "\(process.output)")
        let output = process.output
        #expect(output.contains("FAILURE: session '\(pending)' did not become COMPLETED within 0.3 s: it is PENDING; "
                                + "statuses seen: PENDING; steps: 1.THINK PENDING (0 attempts)"), "\(output)")
        #expect(output.hasSuffix("WOKEN\n"), "\(output)")
    }

    // MARK: Helpers

    static func databaseExists(_ name: String) async throws -> Bool {
        let admin = DatabaseConnection(settings: try ConnectionSettings(try TestEnvironment.adminURL), label: "kit-check",
                                       preparedStatements: false)
        defer { Task { await admin.close() } }
        return try await admin.query("SELECT count(*) AS n FROM pg_database WHERE datname = $1", [name]).first?["n"] == "1"
    }

    /// Until a wait's connection (application "baton-test") has LISTENed, read the status and
    /// sits idle waiting on its socket.
    func awaitWaitingListener(_ db: TestDatabase) async throws {
        try await db.awaitCondition("the wait to LISTEN and read the status") {
            try await db.scalar("""
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle'
                  AND application_name = 'baton-test' AND query = $1
                """, [TestingQueries.sessionState]) == "1"
        }
    }
}

/// Holds a connection open past the closure that made it.
private actor Kept {
    var connection: DatabaseConnection?
    func keep(_ connection: DatabaseConnection) { self.connection = connection }
}

/// A handler that waits until released and ignores cancellation.
private final class HeldHandler: StepHandler {
    private let waiter = Mutex<(released: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, nil))

    func run(_ step: StepContext) async throws -> String {
        await withCheckedContinuation { continuation in
            let resumeNow = waiter.withLock { state in
                if state.released { return true }
                state.continuation = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        return "{}"
    }

    func release() {
        let continuation = waiter.withLock { state in
            state.released = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}

extension JSONValue {
    static func decode(_ text: String?) -> JSONValue? {
        text.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }
}
