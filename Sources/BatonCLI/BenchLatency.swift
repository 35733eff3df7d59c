import Baton
import Foundation

/// Latency on an idle, listening worker process, one session at a time (the peer benchmark's
/// protocol): after each session COMPLETED, a pause of `gapMs` before the next, so every
/// sample meets a worker that waits on its socket.
struct LatencyBench {
    let context: BenchContext
    let gapMs: Int
    /// Distinguishes this bench's tags from an earlier run's.
    let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)

    struct Pickup {
        var report: PickupReport
        var rssIdleKiB: Int
    }

    /// `count` sessions: `create_session` returned → THINK started (the probe's start datagram).
    func pickup(_ count: Int) async throws -> Pickup {
        var samples: [Double] = [], fromCall: [Double] = []
        let rss = try await withIdleWorker { client, worker in
            for i in 0..<count {
                let (before, after, id) = try await create(client, tag: "P\(run)-\(i)")
                let start = try await waitStart("P\(run)-\(i)", step: 1, worker: worker)
                samples.append((start.tw - after) * 1000)
                fromCall.append((start.tw - before) * 1000)
                try await awaitDone(client, id: id, tag: "P\(run)-\(i)", worker: worker)
            }
        }
        return Pickup(
            report: PickupReport(sessions: count, pickupMs: Percentiles(samples), fromCallStartMs: Percentiles(fromCall),
                                 over1s: samples.filter { $0 > 1000 }.count),
            rssIdleKiB: rss)
    }

    /// `count` one-phase sessions: create → INTEGRATE started, and the hops between.
    func chain(_ count: Int) async throws -> ChainReport {
        var totals: [Double] = [], hops: [[Double]] = [[], [], []]
        _ = try await withIdleWorker { client, worker in
            for i in 0..<count {
                let tag = "C\(run)-\(i)"
                let (_, after, id) = try await create(client, tag: tag)
                let think = try await waitStart(tag, step: 1, worker: worker)
                let integrate = try await waitStart(tag, step: 3, worker: worker)
                let execute = try await context.probe.wait(ProbeKey(kind: "start", tag: tag, step: 2), timeoutSeconds: 1)
                let handedToExecute = try await context.probe.wait(ProbeKey(kind: "enq", tag: tag, step: 2), timeoutSeconds: 1)
                let handedToIntegrate = try await context.probe.wait(ProbeKey(kind: "enq", tag: tag, step: 3), timeoutSeconds: 1)
                hops[0].append((think.tw - after) * 1000)
                hops[1].append((execute.tw - handedToExecute.tw) * 1000)
                hops[2].append((integrate.tw - handedToIntegrate.tw) * 1000)
                totals.append((integrate.tw - after) * 1000)
                try await awaitDone(client, id: id, tag: tag, worker: worker)
            }
        }
        let all = hops.flatMap { $0 }
        return ChainReport(
            sessions: count, totalMs: Percentiles(totals), hopMs: Percentiles(all),
            hop1Ms: Percentiles(hops[0]), hop2Ms: Percentiles(hops[1]), hop3Ms: Percentiles(hops[2]),
            hopsOver1s: all.filter { $0 > 1000 }.count)
    }

    /// Starts one worker process, warms it up with five sessions (the first also shows that it
    /// listens), runs `body`, stops it. Returns the worker's RSS when idle after the warm-up.
    private func withIdleWorker(_ body: (DatabaseConnection, WorkerProcess) async throws -> Void) async throws -> Int {
        try await context.deleteBenchSessions()
        try await context.settle()
        context.probe.reset()
        let worker = try await context.startWorkers(1, kinds: [BenchContext.kind])[0]
        let client = DatabaseConnection(settings: context.direct, label: "bench-client", preparedStatements: true)
        do {
            for i in 0..<5 {
                let tag = "W\(run)-\(i)"
                let (_, _, id) = try await create(client, tag: tag)
                _ = try await context.probe.wait(ProbeKey(kind: "start", tag: tag, step: 1), timeoutSeconds: i == 0 ? 120 : 30)
                try await awaitDone(client, id: id, tag: tag, worker: worker)
            }
            let rss = worker.residentKiB() ?? 0
            try await body(client, worker)
            await client.close()
            await worker.stop()
            return rss
        } catch {
            await client.close()
            await worker.stop(graceSeconds: 5)
            throw error
        }
    }

    private static let createStatement = Statement(
        "bench_create", "SELECT id FROM baton.create_session(1, jsonb_build_object('tag', $1::text), NULL, $2)")
    private static let statusStatement = Statement("bench_status", "SELECT status FROM baton.sessions WHERE id = $1")

    /// Creates a tagged session; the wall clock before the call and after it returned (the
    /// commit lies between), and the session's id.
    private func create(_ client: DatabaseConnection, tag: String) async throws -> (Double, Double, String) {
        let before = Date().timeIntervalSince1970
        let id = try await client.execute(Self.createStatement, [tag, BenchContext.kind]).first?.string("id") ?? ""
        return (before, Date().timeIntervalSince1970, id)
    }

    private func waitStart(_ tag: String, step: Int, worker: WorkerProcess) async throws -> ProbeMessage {
        do {
            return try await context.probe.wait(ProbeKey(kind: "start", tag: tag, step: step), timeoutSeconds: 60)
        } catch {
            try context.requireRunning([worker])
            throw error
        }
    }

    /// Waits for the INTEGRATE step's start, then for the session's COMPLETED in the database
    /// (its commit follows within milliseconds), then pauses `gapMs`.
    private func awaitDone(_ client: DatabaseConnection, id: String, tag: String, worker: WorkerProcess) async throws {
        _ = try await waitStart(tag, step: 3, worker: worker)
        let deadline = ContinuousClock.now + .seconds(30)
        while try await client.execute(Self.statusStatement, [id]).first?["status"] != "COMPLETED" {
            guard ContinuousClock.now < deadline else { throw CLIError.usage("session \(id) did not complete within 30 s; see \(worker.logPath)") }
            try await Task.sleep(for: .milliseconds(2))  // allowed: the commit after the last step announces nothing to the bench
        }
        try await Task.sleep(for: .milliseconds(gapMs))  // allowed: the pause is the measurement's design (an idle worker)
    }
}
