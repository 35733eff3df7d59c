import Baton
import Foundation
import Testing

/// Schedules against a real PostgreSQL with real workers: exactly one session per due time, the
/// catch-up and skip policies, run-now, and clear errors.
@Suite struct ScheduleTests {
    static func runs(_ db: TestDatabase, _ name: String) async throws -> [QueryResult.Record] {
        try await db.query("""
            SELECT r.due_at, r.outcome, r.slots, r.session_id, r.note FROM baton.schedule_runs r
            WHERE r.schedule = $1 ORDER BY r.due_at
            """, [name]).records
    }

    /// Three workers (three schedulers) and a schedule every second: one session per slot.
    @Test func threeWorkersFireEachDueTimeExactlyOnce() async throws {
        let db = try await TestDatabase.create()
        _ = try await db.client.schedule(name: "tick", .every("1 second"), kind: "tick")
        try await withWorker(db) {
            try await withWorker(db) {
                try await withWorker(db) {
                    try await db.awaitCondition("four slots to have fired") {
                        let started = try await db.scalar("SELECT count(*) FROM baton.schedule_runs WHERE outcome = 'started'")
                        return (started.flatMap(Int.init) ?? 0) >= 4
                    }
                }
            }
        }
        let runs = try await Self.runs(db, "tick")
        let started = runs.filter { $0["outcome"] == "started" }
        #expect(started.count >= 4)
        #expect(Set(runs.compactMap { $0["due_at"] }).count == runs.count, "one row per due time")
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions WHERE origin ? 'schedule'") == String(started.count),
                "one session per started run")
        // Every slot is accounted for once: by its own run, or by a catch-up run that says how many
        // it covers (a scheduler more than a second late on a busy machine makes one).
        let gaps = try await db.query("""
            SELECT extract(epoch FROM lead(due_at) OVER (ORDER BY due_at) - due_at) AS gap, slots FROM baton.schedule_runs
            """).records.compactMap { row in row["gap"].flatMap(Double.init).map { ($0, Double(row["slots"] ?? "") ?? 0) } }
        #expect(gaps.allSatisfy { $0.0 == $0.1 }, "no slot twice, none lost: (gap s, slots) \(gaps)")
    }

    /// Concurrent schedulers race for one slot: exactly one creates the session, the others are
    /// told it is stale; a repeat (a restarted process) is stale too.
    @Test func aSlotFiresOnceWhoeverAsks() async throws {
        let db = try await TestDatabase.create()
        _ = try await db.client.schedule(name: "race", .every("1 hour"), kind: "race")
        try await db.query("UPDATE baton.schedules SET next_due = '2026-01-01T00:00:00Z'")
        let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let connection = DatabaseConnection(settings: db.directSettings, label: "racer-\(i)", preparedStatements: false)
                    defer { Task { await connection.close() } }
                    return try await connection.query("""
                        SELECT outcome FROM baton.fire_schedule('race', '2026-01-01T00:00:00Z', 1, NULL, '2026-01-01T01:00:00Z')
                        """).first?["outcome"] ?? "?"
                }
            }
            var all: [String] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.filter { $0 == "started" }.count == 1, "\(outcomes)")
        #expect(outcomes.filter { $0 == "stale" }.count == 7, "\(outcomes)")
        let again = try await db.scalar("""
            SELECT outcome FROM baton.fire_schedule('race', '2026-01-01T00:00:00Z', 1, NULL, '2026-01-01T01:00:00Z')
            """)
        #expect(again == "stale")
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions") == "1")
    }

    /// No worker ran for an hour: one catch-up run that says how many slots it covers, then the
    /// schedule goes on from the next slot after now.
    @Test func missedSlotsMakeOneCatchUpRun() async throws {
        let db = try await TestDatabase.create()
        _ = try await db.client.schedule(name: "minutely", .cron("* * * * *", timeZone: nil), kind: "minutely")
        try await db.query("UPDATE baton.schedules SET next_due = date_trunc('minute', now()) - interval '60 minutes'")
        try await withWorker(db) {
            try await db.awaitCondition("the catch-up run") {
                let done = try await db.scalar("SELECT count(*) FROM baton.sessions WHERE status = 'COMPLETED'")
                return (done.flatMap(Int.init) ?? 0) >= 1
            }
        }
        // The first run is the catch-up. On a slow machine the next minute's slot may come due
        // before the test ends: any later run stands for one slot after it, and is skipped when
        // the catch-up session still ran at that minute.
        let runs = try await Self.runs(db, "minutely")
        let slots = try #require(runs.first?["slots"].flatMap(Int.init))
        #expect((61...62).contains(slots), "the first missed slot, every one after it up to now: \(slots)")
        #expect(runs.dropFirst().allSatisfy { $0["slots"] == "1" && ($0["outcome"] == "started" || $0["outcome"] == "skipped") },
                "\(runs.map { ($0["slots"], $0["outcome"]) })")
        #expect(runs.count <= 2, "one catch-up run, not one per missed slot: \(runs.count) runs")
        let origin = try await db.scalar("SELECT origin::text FROM baton.sessions WHERE id = $1", [runs.first?["session_id"]])
        #expect(origin?.contains("\"slots\": \(slots)") == true, "the handler sees it: \(origin ?? "")")
        // The worker may stop just after a minute turned, before it fires that slot: so compare
        // with the runs, not with the clock at the end of the test.
        let next = try await db.scalar("""
            SELECT s.next_due = max(coalesce(r.last_slot, r.due_at)) + interval '1 minute'
               AND s.next_due > min(r.created_at)
            FROM baton.schedules s JOIN baton.schedule_runs r ON r.schedule = s.name
            GROUP BY s.next_due
            """)
        #expect(next == "t", "then the minute after the last run, not the missed ones")
    }

    /// A slot that comes due while the previous run still goes is skipped and recorded.
    @Test func aSlotDueWhileThePreviousRunGoesIsSkippedAndRecorded() async throws {
        let db = try await TestDatabase.create()
        _ = try await db.client.schedule(name: "slow", .every("1 second"), kind: "slow")
        let gate = GatedHandler()
        try await withWorker(db, handlers: HandlerRegistry(gate)) {
            try await db.awaitCondition("two slots skipped behind the held run") {
                let skipped = try await db.scalar("SELECT count(*) FROM baton.schedule_runs WHERE outcome = 'skipped'")
                return (skipped.flatMap(Int.init) ?? 0) >= 2
            }
            let held = try #require(try await db.scalar("SELECT session_id FROM baton.schedule_runs WHERE outcome = 'started'"))
            gate.release(held)
            try await db.awaitCondition("the next slot to start a new run after the held one ended") {
                let started = try await db.scalar("SELECT count(*) FROM baton.schedule_runs WHERE outcome = 'started'")
                return (started.flatMap(Int.init) ?? 0) >= 2
            }
            let second = try #require(try await db.scalar("""
                SELECT session_id FROM baton.schedule_runs WHERE outcome = 'started' ORDER BY due_at DESC LIMIT 1
                """))
            gate.release(second)
        }
        let runs = try await Self.runs(db, "slow")
        let skipped = runs.filter { $0["outcome"] == "skipped" }
        #expect(skipped.count >= 2)
        // A skipped slot made no session; its note names a run of this schedule that was still going.
        let started = runs.filter { $0["outcome"] == "started" }.compactMap { $0["session_id"] }
        for run in skipped {
            let note = run["note"] ?? ""
            let named = started.first { note.contains("session \($0) of this schedule was still ") }
            #expect(named != nil && run["session_id"] == nil, "\(note)")
            #expect(["THINKING", "EXECUTING", "INTEGRATING", "PENDING"].contains { note.hasSuffix("still \($0)") }, "\(note)")
        }
        #expect(skipped.filter { $0["note"]?.contains(started[0]) == true }.count >= 2, "the held run blocked the slots after it")
        // The CLI tells the same story.
        let listed = try await runBaton(["schedule", "runs", "slow"], environment: db.environment)
        #expect(listed.status == 0 && listed.output.contains("skipped") && listed.output.contains("started"), "\(listed.output)")
    }

    @Test func runNowStartsASessionAtOnceWhateverTheSchedule() async throws {
        let db = try await TestDatabase.create()
        _ = try await db.client.schedule(name: "yearly", .cron("@yearly", timeZone: "Europe/Berlin"), kind: "yearly",
                                         inputJSON: "{\"report\": \"annual\"}")
        let ran = try await runBaton(["schedule", "run-now", "yearly"], environment: db.environment)
        #expect(ran.status == 0, "\(ran.output)")
        let id = ran.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let session = try await db.client.session(id)
        #expect(session.kind == "yearly" && session.input["report"] == .string("annual"))
        #expect(session.origin?["schedule"]?["manual"] == .bool(true))
        try await withWorker(db) { try await db.awaitStatus(id, .completed) }
        #expect(try await Self.runs(db, "yearly").map { $0["outcome"] } == ["manual"])
        let unknown = try await runBaton(["schedule", "run-now", "nope"], environment: db.environment)
        #expect(unknown.status == 3 && unknown.output.contains("unknown schedule 'nope'"), "\(unknown.output)")
    }

    /// The first due time a worker plans is the rule's, in the schedule's time zone.
    @Test func aCronScheduleIsPlannedInItsTimeZone() async throws {
        let db = try await TestDatabase.create()
        let made = try await runBaton(["schedule", "add", "nightly", "--cron", "30 2 * * *", "--time-zone", "Europe/Berlin",
                                       "--kind", "nightly"], environment: db.environment)
        #expect(made.status == 0, "\(made.output)")
        try await withWorker(db) {
            try await db.awaitCondition("the first due time to be planned") {
                try await db.scalar("SELECT next_due IS NOT NULL FROM baton.schedules") == "t"
            }
        }
        let planned = try #require(try await db.scalar("SELECT extract(epoch FROM next_due) FROM baton.schedules").flatMap(Double.init))
        let created = try #require(try await db.scalar("SELECT extract(epoch FROM updated_at) FROM baton.schedules").flatMap(Double.init))
        let rule = ScheduleRule.cron(try CronExpression("30 2 * * *"), timeZone: try #require(TimeZone(identifier: "Europe/Berlin")))
        let expected = try #require(rule.nextSlot(after: Date(timeIntervalSince1970: created)))
        #expect(abs(planned - expected.timeIntervalSince1970) < 120, "planned \(planned), rule says \(expected)")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let local = calendar.dateComponents([.hour, .minute], from: Date(timeIntervalSince1970: planned))
        #expect(local.hour == 2 && local.minute == 30 || local.hour == 3 && local.minute == 0, "02:30 Berlin time (03:00 on a spring-forward day)")
    }

    @Test func badSchedulesGetClearErrors() async throws {
        let db = try await TestDatabase.create()
        let cases: [([String], String)] = [
            (["--cron", "61 * * * *"], "the minute field '61' is out of range"),
            (["--cron", "* * 32 * *"], "the day-of-month field"),
            (["--cron", "5"], "expected 5 fields"),
            (["--every", "1 month"], "months and years vary in length"),
            (["--every", "soon"], "interval"),
            (["--every", "500 milliseconds"], "at least 1 second"),
            (["--cron", "* * * * *", "--time-zone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
            (["--cron", "* * * * *", "--input", "{nope"], "not valid JSON"),
        ]
        for (options, expected) in cases {
            let result = try await runBaton(["schedule", "add", "bad"] + options + ["--kind", "k"], environment: db.environment)
            #expect(result.status == 5, "\(options): \(result.output)")
            #expect(result.output.contains(expected), "\(options): \(result.output)")
        }
        let both = try await runBaton(["schedule", "add", "bad", "--kind", "k"], environment: db.environment)
        #expect(both.status == 2 && both.output.contains("exactly one of --every"), "\(both.output)")
        #expect(try await db.scalar("SELECT count(*) FROM baton.schedules") == "0", "nothing was created")
        // The text form of baton.schedule also reads a period.
        try await db.query("SELECT baton.schedule('text-period', '90 seconds', 'k')")
        #expect(try await db.scalar("SELECT every_ms FROM baton.schedules WHERE name = 'text-period'") == "90000")
    }

    @Test func removingAScheduleKeepsItsSessions() async throws {
        let db = try await TestDatabase.create()
        _ = try await db.client.schedule(name: "gone", .every("1 hour"), kind: "gone")
        let session = try await db.client.runSchedule("gone")
        let removed = try await runBaton(["schedule", "remove", "gone"], environment: db.environment)
        #expect(removed.status == 0, "\(removed.output)")
        #expect(try await db.scalar("SELECT count(*) FROM baton.schedules") == "0")
        #expect(try await db.status(session.id) == "PENDING", "its session runs on")
        let again = try await runBaton(["schedule", "remove", "gone"], environment: db.environment)
        #expect(again.status == 3, "\(again.output)")
    }
}

/// Schedules, watches and statistics over HTTP; every answer matches the OpenAPI document.
@Suite struct ScheduleAPITests {
    @Test func schedulesWatchesAndStatsOverHTTP() async throws {
        let db = try await TestDatabase.create()
        try await db.query("CREATE TABLE docs (id int PRIMARY KEY, body text)")
        try await db.query("SELECT baton.watch('docs', 'doc-sync', columns => ARRAY['body'])")
        try await withAPI(db) { http, _ in
            let made = try await http.post("/api/schedules", #"{"name": "nightly", "cron": "30 2 * * *", "timeZone": "Europe/Berlin", "kind": "report", "input": {"n": 1}, "phases": 2}"#)
            #expect(made.status == 201 && made.headers["location"] == "/api/schedules/nightly", "\(made.body)")
            #expect(made.object["cron"] as? String == "30 2 * * *" && made.object["timeZone"] as? String == "Europe/Berlin")
            try expectMatchesSchema(made, "POST", "/api/schedules")
            let every = try await http.post("/api/schedules", #"{"name": "often", "every": "5 minutes", "kind": "sync"}"#)
            #expect(every.status == 201 && every.object["everySeconds"] as? Double == 300, "\(every.body)")

            for (body, expected) in [
                (#"{"name": "x", "cron": "* * * * 8", "kind": "k"}"#, "the day-of-week field '8'"),
                (#"{"name": "x", "kind": "k"}"#, "exactly one of 'every'"),
                (#"{"name": "x", "every": "5 minutes", "cron": "* * * * *", "kind": "k"}"#, "exactly one of 'every'"),
                (#"{"name": "x", "every": "5 minutes", "timeZone": "UTC", "kind": "k"}"#, "applies to 'cron' only"),
                (#"{"name": "bad name", "every": "5 minutes", "kind": "k"}"#, "schedule name must be"),
                (#"{"name": "x", "every": "1 year", "kind": "k"}"#, "months and years"),
                (#"{"name": "x", "every": "5 minutes", "kind": "k", "extra": 1}"#, "unknown field 'extra'"),
            ] {
                let refused = try await http.post("/api/schedules", body)
                #expect(refused.status == 400 && refused.body.contains(expected), "\(body): \(refused.status) \(refused.body)")
                try expectMatchesSchema(refused, "POST", "/api/schedules")
            }

            let list = try await http.get("/api/schedules")
            #expect((list.object["schedules"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["nightly", "often"])
            try expectMatchesSchema(list, "GET", "/api/schedules")

            let ran = try await http.post("/api/schedules/nightly/run-now")
            #expect(ran.status == 201 && ran.object["kind"] as? String == "report" && ran.object["totalPhases"] as? Int == 2, "\(ran.body)")
            #expect((ran.object["origin"] as? [String: Any])?["schedule"] != nil, "\(ran.body)")
            try expectMatchesSchema(ran, "POST", "/api/schedules/{name}/run-now")

            let detail = try await http.get("/api/schedules/nightly")
            #expect((detail.object["runs"] as? [[String: Any]])?.first?["outcome"] as? String == "manual", "\(detail.body)")
            try expectMatchesSchema(detail, "GET", "/api/schedules/{name}")
            let missing = try await http.get("/api/schedules/nope")
            #expect(missing.status == 404)
            try expectMatchesSchema(missing, "GET", "/api/schedules/{name}")

            let removed = try await http.send("DELETE", "/api/schedules/often")
            #expect(removed.status == 200 && removed.object["name"] as? String == "often", "\(removed.body)")
            try expectMatchesSchema(removed, "DELETE", "/api/schedules/{name}")
            #expect(try await http.send("DELETE", "/api/schedules/often").status == 404)

            let watches = try await http.get("/api/watches")
            let watch = (watches.object["watches"] as? [[String: Any]])?.first
            #expect(watch?["table"] as? String == "public.docs" && watch?["columns"] as? [String] == ["body"], "\(watches.body)")
            try expectMatchesSchema(watches, "GET", "/api/watches")

            try await db.query("INSERT INTO docs VALUES (1, 'a'), (2, 'b')")
            let stats = try await http.get("/api/stats")
            try expectMatchesSchema(stats, "GET", "/api/stats")
            let kinds = stats.object["kinds"] as? [[String: Any]] ?? []
            let sync = kinds.first { $0["kind"] as? String == "doc-sync" }
            #expect((sync?["sessions"] as? [String: Any])?["PENDING"] as? Int == 2, "\(stats.body)")
            #expect(sync?["readySteps"] as? Int == 2)
            #expect((stats.object["watches"] as? [[String: Any]])?.first?["queued"] as? Int == 2)
            #expect((stats.object["schedules"] as? [[String: Any]])?.first?["lastRun"] as? String == "manual")
        }
    }
}
