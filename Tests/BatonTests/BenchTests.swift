import Baton
@testable import BatonCLI
import Foundation
import Testing

/// `baton bench` itself (small sizes, no timing assertions: the figures' values depend on the
/// machine), and the `builtin:probe` handler it and the peer benchmark's driver share.
@Suite struct BenchTests {
    @Test func benchReportsEveryFigureFromWorkerProcesses() async throws {
        let db = try await TestDatabase.create()
        let bench = try BatonProcess(
            ["bench", "--database-url", db.url, "--sessions", "200", "--workers", "1,2", "--only", "throughput,pickup",
             "--pickup-sessions", "20", "--json"], environment: [:])
        let status = await bench.waitForExit()
        #expect(status == 0, "\(bench.output)")
        // Progress lines (stderr) come first; the report is the last thing printed.
        let output = bench.output
        let start = try #require(output.range(of: "\n{\n") ?? output.range(of: "{\n"), "no JSON report in: \(output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output[start.lowerBound...].utf8)) as? [String: Any])

        #expect(json["database"] as? String == "given")
        #expect(json["settled"] as? Bool == true)
        #expect((json["postgres"] as? [String: String])?["server_version"] != nil)
        let runs = try #require(json["throughput"] as? [[String: Any]])
        #expect(runs.map { $0["workers"] as? Int } == [1, 2])
        for run in runs {
            #expect(run["steps"] as? Int == 600)
            #expect((run["stepsPerSecond"] as? Double ?? 0) > 0 && (run["seconds"] as? Double ?? 0) > 0)
            for key in ["createSeconds", "checkpointsDuring", "autovacuumsDuring", "backlog"] { #expect(run[key] != nil, "\(key)") }
            // The steps were run by the worker processes the bench started, not by the bench.
            let workers = try #require(run["workerProcesses"] as? [[String: Any]])
            #expect(workers.count == run["workers"] as? Int)
            let pids = workers.compactMap { $0["pid"] as? Int }
            #expect(pids.count == workers.count && !pids.contains(Int(bench.pid)) && Set(pids).count == pids.count)
            #expect(workers.map { $0["steps"] as? Int ?? 0 }.reduce(0, +) == 600, "every step by a worker process: \(workers)")
            for worker in workers {
                #expect((worker["rssKiB"] as? Int ?? 0) > 0)
                #expect((worker["cpuSeconds"] as? Double ?? -1) >= 0)
            }
        }
        #expect((json["cpuSecondsPer1000Steps"] as? Double) != nil)
        #expect((json["rssIdleKiB"] as? Int ?? 0) > 0 && (json["rssEndKiB"] as? Int ?? 0) > 0)
        let pickup = try #require(json["pickup"] as? [String: Any])
        #expect(pickup["sessions"] as? Int == 20 && pickup["over1s"] != nil)
        for key in ["pickupMs", "fromCallStartMs"] {
            let figures = try #require(pickup[key] as? [String: Double], "\(key)")
            #expect(Set(figures.keys) == ["p50", "p95", "p99", "min", "max"])
        }
        let lost = try #require(json["lostWakeups"] as? [String: Int])
        #expect(lost["hops"] == 20 && lost["over1s"] != nil)
        #expect(json["chain"] == nil && json["soak"] == nil, "only the sections asked for")
        #expect(try await db.scalar("SELECT count(*) FROM baton.sessions") == "0", "the bench removes its sessions")
    }

    @Test func anUnknownSectionIsAUsageError() async throws {
        let result = try await runBaton(["bench", "--only", "throughput,nope"], environment: [:])
        #expect(result.status == 2)
        #expect(result.output.contains("unknown bench section 'nope' in --only; choose from throughput,steadiness,pickup,chain,scale,soak,watch,stats"))
    }

    /// The probe's datagrams, as the peer benchmark's driver reads them.
    @Test func probeSendsTheDriversDatagrams() async throws {
        let path = NSTemporaryDirectory() + "baton-probe-\(UUID().uuidString.prefix(8)).sock"
        let receiver = try ProbeReceiver(path: path)
        let probe = ProbeHandler(socketPath: path, expected: 3, tickEvery: 2)
        func context(_ step: Step, input: String) -> StepContext {
            StepContext(taskId: 1, sessionId: "s", kind: "k", phase: 1, totalPhases: 1, step: step, attempt: 1,
                        inputJSON: input, previousJSON: "{}")
        }
        for _ in 0..<4 { #expect(try await probe.run(context(.think, input: "{}")) == "{}") }
        _ = try await receiver.wait(ProbeKey(kind: "tick", n: 4), timeoutSeconds: 30)
        #expect(receiver.all(kind: "first").count == 1)
        #expect(receiver.all(kind: "nth").map(\.n) == [3])
        #expect(receiver.all(kind: "tick").compactMap(\.n).sorted() == [2, 4])

        for step in Step.allCases { _ = try await probe.run(context(step, input: #"{"tag": "C-1"}"#)) }
        let integrate = try await receiver.wait(ProbeKey(kind: "start", tag: "C-1", step: 3), timeoutSeconds: 30)
        let think = try await receiver.wait(ProbeKey(kind: "start", tag: "C-1", step: 1), timeoutSeconds: 30)
        let handed = try await receiver.wait(ProbeKey(kind: "enq", tag: "C-1", step: 3), timeoutSeconds: 30)
        #expect(integrate.pid == getpid() && think.tw <= integrate.tw && handed.tw <= integrate.tw)
        #expect(receiver.all(kind: "start").count == 3 && receiver.all(kind: "enq").map(\.step).sorted { ($0 ?? 0) < ($1 ?? 0) } == [2, 3])
        #expect(receiver.all(kind: "nth").count == 1, "tagged steps are not counted")
        await receiver.close()
        #expect(!FileManager.default.fileExists(atPath: path))

        // Without PEERS_SOCK the probe sends nothing and still answers.
        #expect(try await ProbeHandler(socketPath: nil).run(context(.think, input: "{}")) == "{}")
    }
}
