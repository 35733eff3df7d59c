import Baton
@testable import BatonAPI
import Foundation
import Testing

/// The dashboard: its pages and files (open, no inline script, data never in the HTML), the
/// list's change feed (`GET /api/events`), and the whole thing driven in headless Chromium
/// against the real API and database (Tests/browser/dashboard_test.py).
@Suite(.serialized) struct DashboardBrowserTests {
    @Test("pages and files are open with a token set, carry no data, escape the id, allow no inline script")
    func pages() async throws {
        let db = try await TestDatabase.create()
        try await withAPI(db, configuration: APIConfiguration(port: 0, token: "dash-token")) { http, _ in
            for (path, type, marker) in [
                ("/", "text/html", #"data-page="sessions""#), ("/?status=FAILED&kind=a%22b", "text/html", #"value="a&quot;b""#),
                ("/sessions/s-1", "text/html", #"data-session-id="s-1""#), ("/statistics", "text/html", "<h1>Statistics</h1>"),
                ("/schedules", "text/html", "<h1>Schedules and watches</h1>"),
                ("/dashboard/dashboard.js", "text/javascript", "followChanges"), ("/dashboard/dashboard.css", "text/css", ".badge"),
            ] {
                let reply = try await http.get(path)
                #expect(reply.status == 200, "\(path): \(reply.status) \(reply.body.prefix(300))")
                #expect(reply.headers["content-type"]?.hasPrefix(type) == true, "\(path): \(reply.headers)")
                #expect(reply.body.contains(marker), "\(path) lacks \(marker)")
                let policy = reply.headers["content-security-policy"] ?? ""
                #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "\(path): \(policy)")
                #expect(reply.headers["x-content-type-options"] == "nosniff")
                if type == "text/html" {
                    // No inline script: every <script> loads the one file.
                    #expect(reply.body.components(separatedBy: "<script").count == 2 && reply.body.contains(#"<script src="/dashboard/dashboard.js" defer></script>"#))
                    #expect(!reply.body.contains("dash-token"))
                }
            }
            #expect(try await http.get("/?status=FAILED").body.contains(#"<option value="FAILED" selected>"#))
            let hostile = try await http.get("/sessions/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            #expect(hostile.status == 200 && hostile.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !hostile.body.contains("<script>alert"))
            // Not a page of the dashboard: behind the token like any other path.
            #expect(try await http.get("/sessions/a/b").status == 401)
            #expect(try await http.get("/sessions/a/b", headers: ["Authorization": "Bearer dash-token"]).status == 404)
            // The data behind them is not open.
            #expect(try await http.get("/api/events").status == 401)
            #expect(try await http.get("/api/events", headers: ["Authorization": "Bearer dash-token"]).status == 200)
        }
    }

    @Test("GET /api/events: everything at first, then the sessions that changed after the cursor, held until one does")
    func events() async throws {
        let db = try await TestDatabase.create()
        try await withAPI(db) { http, server in
            try await awaitValue("the LISTEN connection") { server.hub.isListening }
            let start = try await http.get("/api/events")
            #expect(start.status == 200 && start.object["all"] as? Bool == true, "\(start.body)")
            try expectMatchesSchema(start, "GET", "/api/events")
            let cursor = try #require(start.object["cursor"] as? String)
            let quiet = try await http.get("/api/events?wait=0.2&since=\(cursor)")
            #expect(quiet.object["all"] as? Bool == false && (quiet.object["sessions"] as? [String]) == [] && quiet.object["cursor"] as? String == cursor)

            async let waited = http.get("/api/events?wait=120&since=\(cursor)")
            try await awaitValue("the request to wait") { server.hub.waiting == 1 }
            let id = try await db.createSession(phases: 1)
            let reply = try await waited
            #expect(reply.object["all"] as? Bool == false && (reply.object["sessions"] as? [String]) == [id], "\(reply.body)")
            let next = try #require(reply.object["cursor"] as? String)
            #expect(next != cursor)
            // A cursor behind the latest answers at once, with every session since.
            let behind = try await http.get("/api/events?wait=60&since=\(cursor)")
            #expect((behind.object["sessions"] as? [String]) == [id], "\(behind.body)")
            // A cursor of another process (a restart) means: read everything again.
            let other = try await http.get("/api/events?wait=60&since=other.1")
            #expect(other.object["all"] as? Bool == true)
            let bad = try await http.get("/api/events?since=nonsense")
            #expect(bad.status == 400 && bad.errorMessage.contains("since must be the cursor"), "\(bad.body)")
            #expect(try await http.get("/api/events?wait=-1").status == 400)
        }
    }

    @Test("the change log: numbered, each session once, everything when it cannot say exactly")
    func changeLog() throws {
        var log = SessionChangeLog(epoch: "e", capacity: 4)
        let start = try #require(SessionChangeLog.Cursor(text: log.cursor))
        #expect(log.changes(after: nil) == .everything && log.changes(after: start) == .unchanged)
        log.record(["a", "b"])
        log.record(["a"])
        #expect(log.changes(after: start) == .sessions(["a", "b"]))
        let second = try #require(SessionChangeLog.Cursor(text: log.cursor))
        #expect(log.changes(after: second) == .unchanged)
        log.record(["c", "d", "e"])  // 6 entries > 4: the oldest are forgotten
        #expect(log.changes(after: start) == .everything)
        #expect(log.changes(after: second) == .sessions(["c", "d", "e"]))
        log.recordEverything()
        #expect(log.changes(after: second) == .everything)
        #expect(log.changes(after: SessionChangeLog.Cursor(text: log.cursor)) == .unchanged)
        #expect(log.changes(after: SessionChangeLog.Cursor(text: "f.\(log.sequence)")) == .everything)
        #expect(log.changes(after: SessionChangeLog.Cursor(text: "e.99")) == .everything)
        for text in ["", ".", "e.", ".3", "e.x", "e.-1"] { #expect(SessionChangeLog.Cursor(text: text) == nil, "\(text)") }
        #expect(SessionChangeLog.Cursor(text: "a.b.7") == SessionChangeLog.Cursor(text: "a.b.7") && SessionChangeLog.Cursor(text: "a.b.7")?.epoch == "a.b")
    }

    @Test("in headless Chromium: the list from SQL, the token, Proceed, Retry, live updates without a reload")
    func browser() async throws {
        let db = try await TestDatabase.create()
        let token = "browser-\(UUID().uuidString.prefix(8))"
        try await withAPI(db, configuration: APIConfiguration(port: 0, token: token)) { http, _ in
            let script = TestEnvironment.repository + "/Tests/browser/dashboard_test.py"
            let run = try BatonProcess(program: try TestEnvironment.python,
                                       [script, "--base", http.base, "--database", db.url, "--token", token])
            let status = await run.waitForExit()
            #expect(status == 0, "Tests/browser/dashboard_test.py exited with \(status):\n\(run.output.suffix(6000))")
        }
    }
}
