import Baton
import Foundation
import Testing

/// The state machine inside PostgreSQL is the Swift one, and the SQL API fails clearly.
@Suite struct SQLContractTests {
    @Test func theTransitionTablesAreTheSame() async throws {
        let db = try await TestDatabase.create()
        let rows = try await db.query("SELECT from_status, to_status FROM baton.transitions")
        var sql = Set<Transition>()
        for row in rows.records {
            let from = try #require(SessionStatus(rawValue: try row.string("from_status")))
            let to = try #require(SessionStatus(rawValue: try row.string("to_status")))
            sql.insert(Transition(from: from, to: to))
        }
        #expect(rows.count == sql.count, "no duplicate rows")
        #expect(sql == SessionMachine.allowedTransitions,
                "only in SQL: \(sql.subtracting(SessionMachine.allowedTransitions).sorted()); only in Swift: \(SessionMachine.allowedTransitions.subtracting(sql).sorted())")
    }

    /// The guard trigger's check (`baton.is_allowed_transition`) allows exactly the changes the
    /// state machine allows, for every pair of statuses.
    @Test func theGuardAllowsExactlyTheTransitions() async throws {
        let db = try await TestDatabase.create()
        let statuses: [String?] = SessionStatus.allCases.map(\.rawValue)
        let rows = try await db.query("""
            SELECT f, t, baton.is_allowed_transition(f, t) AS allowed
            FROM unnest($1::text[]) f, unnest($1::text[]) t
            """, [PGText.array(statuses)])
        #expect(rows.count == statuses.count * statuses.count)
        for row in rows.records {
            let from = try #require(SessionStatus(rawValue: try row.string("f")))
            let to = try #require(SessionStatus(rawValue: try row.string("t")))
            #expect(row.bool("allowed") == SessionMachine.allowedTransitions.contains(Transition(from: from, to: to)),
                    "\(from.rawValue) -> \(to.rawValue)")
        }
    }

    /// A text array built by `PGText.array` reads back in PostgreSQL as exactly the strings put in.
    @Test func textArraysRoundTrip() async throws {
        let db = try await TestDatabase.create()
        let values: [String?] = ["plain", "", "say \"hi\"", #"back\slash"#, "a,b", "{braces}", "NULL", nil, "ünïcödé", "🎼 baton", "tab\tnew\nline"]
        let rows = try await db.query("SELECT v, v IS NULL AS missing FROM unnest($1::text[]) WITH ORDINALITY u(v, i) ORDER BY i",
                                      [PGText.array(values)])
        #expect(rows.count == values.count)
        for (row, value) in zip(rows.records, values) {
            #expect(row.bool("missing") == (value == nil))
            if let value { #expect(row["v"] == value) }
        }
    }

    /// Every (position, event, settings) decided by `baton.decide` and by `SessionMachine.decide`.
    @Test func everyDecisionIsTheSameInSQLAndSwift() async throws {
        let db = try await TestDatabase.create()
        let rows = try await db.query("""
            SELECT st, ph, sp, tot, a, b, ev, d.next_status, d.next_phase, d.next_step, d.action
            FROM unnest($1::text[]) st, generate_series(1, 3) ph,
                 unnest(ARRAY['THINK', 'EXECUTE', 'INTEGRATE', NULL]) sp, generate_series(1, 3) tot,
                 unnest(ARRAY[false, true]) a, unnest(ARRAY[false, true]) b, unnest($2::text[]) ev,
                 LATERAL baton.decide(st, ph, sp, tot, a, b, ev) d
            WHERE tot >= ph
            """, [PGText.array(SessionStatus.allCases.map { Optional($0.rawValue) }),
                  PGText.array(SessionMachine.Event.allCases.map { Optional($0.rawValue) })])
        // 8 statuses × 4 steps × 6 (phase, total) pairs × 4 settings × 6 events
        #expect(rows.count == 8 * 4 * 6 * 4 * 6, "all combinations came back")
        var compared = 0
        for row in rows.records {
            let position = SessionMachine.Position(
                status: try #require(SessionStatus(rawValue: try row.string("st"))),
                phase: try row.int("ph"), step: row["sp"].flatMap(Step.init(rawValue:)))
            let event = try #require(SessionMachine.Event(rawValue: try row.string("ev")))
            let swift = SessionMachine.decide(position, event: event, totalPhases: try row.int("tot"),
                                              autoSteps: row.bool("a"), autoPhases: row.bool("b"))
            let context = "\(position) \(event) total \(row["tot"]!) autoSteps \(row["a"]!) autoPhases \(row["b"]!)"
            if let (next, action) = swift {
                #expect(row["next_status"] == next.status.rawValue, "\(context)")
                #expect(row["next_phase"] == String(next.phase), "\(context)")
                #expect(row["next_step"] == next.step?.rawValue, "\(context)")
                #expect(row["action"] == action.rawValue, "\(context)")
            } else {
                #expect(row["next_status"] == nil, "SQL allows what Swift rejects: \(context)")
            }
            compared += 1
        }
        #expect(compared == 4608)
    }

    @Test("baton.progress derives the same progress as SessionProgress on every position, and names an unknown session")
    func progressIsTheSameInSQLAndSwift() async throws {
        let db = try await TestDatabase.create()
        let rows = try await db.query("""
            SELECT st, ph, sp, tot, a, b, baton.session_progress(jsonb_populate_record(NULL::baton.sessions, jsonb_build_object(
                       'id', 'p', 'status', st, 'phase', ph, 'step', sp, 'total_phases', tot, 'auto_steps', a,
                       'auto_phases', b, 'version', 7, 'updated_at', '2026-12-03 08:00:01.5+00')))::text AS progress
            FROM unnest($1::text[]) st, generate_series(1, 3) ph,
                 unnest(ARRAY['THINK', 'EXECUTE', 'INTEGRATE', NULL]) sp, generate_series(1, 3) tot,
                 unnest(ARRAY[false, true]) a, unnest(ARRAY[false, true]) b
            WHERE tot >= ph
            """, [PGText.array(SessionStatus.allCases.map { Optional($0.rawValue) })])
        #expect(rows.count == 8 * 4 * 6 * 4)
        for row in rows.records {
            let swift = SessionProgress(.init(
                sessionId: "p", status: try #require(SessionStatus(rawValue: try row.string("st"))), phase: try row.int("ph"),
                step: row["sp"].flatMap(Step.init(rawValue:)), totalPhases: try row.int("tot"), autoSteps: row.bool("a"),
                autoPhases: row.bool("b"), version: 7, updatedAt: "2026-12-03T08:00:01.500000Z"))
            let sql = try JSONDecoder().decode(SessionProgress.self, from: Data(try row.string("progress").utf8))
            #expect(sql == swift, "\(row["st"]!) phase \(row["ph"]!) \(row["sp"] ?? "-") of \(row["tot"]!) a \(row["a"]!) b \(row["b"]!)")
        }
        await #expect { try await db.query("SELECT baton.progress($1)", ["no-such-session"]) } throws: { error in
            (error as? DatabaseError)?.sqlState == "BT404" && "\(error)".contains("no-such-session")
        }
        let id = try await db.createSession(phases: 2)
        let live = try await db.query("SELECT baton.progress($1)::text AS p", [id])
        let decoded = try JSONDecoder().decode(SessionProgress.self, from: Data(try live.records[0].string("p").utf8))
        #expect(decoded == (try await db.client.progress(id)))
    }

    @Test func theRetryDelayIsTheSameInSQLAndSwift() async throws {
        let db = try await TestDatabase.create()
        for attempt in [1, 2, 3, 7, 30] {
            for jitter in [0.0, 0.25, 0.5, 0.999] {
                let sql = try await db.scalar("SELECT baton.retry_delay_ms($1::int, 1000, 300000, $2::float8)", [String(attempt), String(jitter)])
                #expect(sql == String(RetryPolicy.delayMs(attempt: attempt, baseMs: 1000, capMs: 300_000, jitter: jitter)),
                        "attempt \(attempt) jitter \(jitter)")
            }
        }
    }

    /// A statement that touches many sessions with long ids, or one whose id holds a comma,
    /// announces '' ("look again") instead of failing on PostgreSQL's 8000-byte payload limit or
    /// sending a list that cannot be split.
    @Test func sessionNotificationsStayWithinThePayloadLimit() async throws {
        let db = try await TestDatabase.create()
        let listener = DatabaseConnection(settings: db.directSettings, label: "listener", preparedStatements: false)
        defer { Task { await listener.close() } }
        try await listener.listen([NotificationListener.sessionChannel])
        let long = (0..<60).map { i in String(repeating: "x", count: 195) + String(format: "%05d", i) }
        for id in long { try await db.query("SELECT baton.create_session(1, '{}', $1)", [id]) }
        try await db.query("SELECT baton.create_session(1, '{}', 'a,b')")
        let wake = WakeSignal()
        while try await !listener.waitForNotifications(timeoutMs: 200, wake: wake).isEmpty {}  // the creations' own
        try await db.query("UPDATE baton.sessions SET status = 'CANCELLED' WHERE length(id) = 200")
        try await db.query("UPDATE baton.sessions SET status = 'CANCELLED' WHERE id = 'a,b'")
        var payloads: [String] = []
        while payloads.count < 2 {
            let notes = try await listener.waitForNotifications(timeoutMs: 10_000, wake: wake)
            guard !notes.isEmpty else { break }
            payloads += notes.filter { $0.channel == NotificationListener.sessionChannel }.map(\.payload)
        }
        #expect(payloads == ["", ""], "\(payloads.map { $0.prefix(40) })")
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions WHERE status = 'CANCELLED'") == "61")
    }

    @Test func aRawUpdateCannotBreakTheStateMachine() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession()
        await #expect {
            try await db.query("UPDATE baton.sessions SET status = 'COMPLETED' WHERE id = $1", [id])
        } throws: { error in
            guard let error = error as? DatabaseError, case .server(let state, let message, _, _) = error else { return false }
            return state == "BT422" && message == "invalid status change for session \(id): PENDING -> COMPLETED"
        }
        #expect(try await db.status(id) == "PENDING", "nothing changed")
        // An allowed change goes through (and bumps the version).
        try await db.query("UPDATE baton.sessions SET status = 'CANCELLED' WHERE id = $1", [id])
        #expect(try await db.scalar("SELECT version FROM baton.sessions WHERE id = $1", [id]) == "2")
        await #expect(throws: DatabaseError.self) {
            try await db.query("INSERT INTO baton.sessions (id, total_phases, status) VALUES ('x', 1, 'COMPLETED')")
        }
    }

    @Test func functionsFailWithDistinctSQLStates() async throws {
        let db = try await TestDatabase.create()
        func state(_ sql: String, _ parameters: [String?] = []) async -> String? {
            do {
                try await db.query(sql, parameters)
                return nil
            } catch {
                return (error as? DatabaseError)?.sqlState
            }
        }
        let id = try await db.createSession()
        #expect(await state("SELECT baton.proceed($1)", ["no-such-session"]) == "BT404")
        #expect(await state("SELECT baton.retry($1)", ["no-such-session"]) == "BT404")
        #expect(await state("SELECT baton.cancel($1)", ["no-such-session"]) == "BT404")
        #expect(await state("SELECT baton.complete_task(999999, '{}')") == "BT404")
        #expect(await state("SELECT baton.proceed($1)", [id]) == "BT409")
        #expect(await state("SELECT baton.retry($1)", [id]) == "BT409")
        #expect(await state("SELECT baton.fail_task((SELECT id FROM baton.tasks LIMIT 1), 'x')") == "BT409")
        #expect(await state("SELECT baton.create_session(0, '{}')") == "BT400")
        #expect(await state("SELECT baton.create_session(1, '{}', NULL, 'bad kind!')") == "BT400")
        #expect(await state("SELECT baton.create_session(1, '{}', $1)", [id]) == "BT409")
        try await db.query("SELECT baton.cancel($1)", [id])
        #expect(await state("SELECT baton.cancel($1)", [id]) == "BT409")
        // The client maps them to errors people can act on.
        await #expect {
            _ = try await db.client.proceed(id)
        } throws: { error in
            "\(error)" == "session '\(id)' is CANCELLED; proceed is allowed only in AWAITING_PROCEED"
        }
    }

    @Test func notificationsCarryIdsOnly() async throws {
        let db = try await TestDatabase.create()
        let listener = DatabaseConnection(settings: db.directSettings, label: "t", preparedStatements: false)
        try await listener.listen([NotificationListener.taskChannel, NotificationListener.sessionChannel])
        let id = try await db.createSession(input: "{\"big\": \"\(String(repeating: "x", count: 10_000))\"}")
        let taskID = try #require(try await db.scalar("SELECT id FROM baton.tasks WHERE session_id = $1", [id]))
        var received: [PGNotification] = []
        let wake = WakeSignal()
        while received.count < 2 {
            let notes = try await listener.waitForNotifications(timeoutMs: 5000, wake: wake)
            #expect(!notes.isEmpty, "notifications arrive after commit")
            if notes.isEmpty { break }
            received += notes
        }
        #expect(received.contains { $0.channel == "baton_task" && $0.payload == taskID })
        #expect(received.contains { $0.channel == "baton_session" && $0.payload == id })
        // 150 sessions created by one statement notify once per channel, with no id list.
        let created = try await db.query("SELECT * FROM baton.create_sessions(1, (SELECT array_agg(jsonb_build_object('n', g)) FROM generate_series(1, 150) g))")
        #expect(created.count == 150)
        var batch: [PGNotification] = []
        while batch.count < 2 {
            let notes = try await listener.waitForNotifications(timeoutMs: 5000, wake: wake)
            if notes.isEmpty { break }
            batch += notes
        }
        #expect(batch.filter { $0.channel == "baton_task" }.count == 1)
        #expect(batch.filter { $0.channel == "baton_session" }.count == 1)
        #expect(batch.allSatisfy { $0.payload.isEmpty })
        await listener.close()
    }
}
