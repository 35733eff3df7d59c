import Foundation
import Logging
import ServiceLifecycle

/// A Baton worker: a `Service` that LISTENs for work, claims ready steps in batches with their
/// session locks, runs them through the handlers, and commits finished steps in batches, each
/// batch in one transaction. See docs/design.md "Durability rules" for the guarantees.
///
/// Its loop: take all news → commit finished steps → claim while slots are free. On start and
/// after every reconnect the listener LISTENs first and only then lets the loop scan.
public final class Worker: Service {
    public let configuration: WorkerConfiguration
    let handlers: HandlerRegistry
    let direct: ConnectionSettings
    let pool: ConnectionPool
    let metrics: WorkerMetrics
    let logger: Logger

    /// - Parameters:
    ///   - direct: `DIRECT_URL`: LISTEN, the claim/commit connection that holds session locks,
    ///     and prepared statements.
    ///   - pool: `DATABASE_URL` connections for everything else (the rescuer).
    ///   - metrics: where steps, durations and pickup latency are counted.
    public init(configuration: WorkerConfiguration, handlers: HandlerRegistry, direct: ConnectionSettings,
                pool: ConnectionPool, metrics: WorkerMetrics = WorkerMetrics(),
                logger: Logger = Logger(label: "baton.worker")) {
        self.configuration = configuration
        self.handlers = handlers
        self.direct = direct
        self.pool = pool
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "worker"] = "\(configuration.workerID)"
        self.logger = logger
    }

    /// The kinds this worker claims: the configured ones, else those its handlers cover.
    var claimKinds: [String]? { configuration.kinds ?? handlers.servedKinds }

    public func run() async throws {
        let inbox = WorkerInbox()
        var settings = direct.forLongLivedConnection()
        settings.overrides["application_name"] = "baton-worker"
        let connection = DatabaseConnection(settings: settings, label: "worker", preparedStatements: true)
        let listener = NotificationListener(
            settings: direct, channels: [NotificationListener.taskChannel, NotificationListener.scheduleChannel],
            pingIntervalMs: configuration.listenerPingMs, logger: logger)
        let config = configuration
        // The scheduler beside the worker (as the rescuer is) wakes on schedule changes.
        let scheduleAlarm = Alarm()
        logger.info("worker starting", metadata: [
            "database": "\(direct.safeDescription)", "batch_size": "\(config.batchSize)",
            "kinds": "\(claimKinds?.joined(separator: ",") ?? "all")",
        ])

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    await listener.run(label: "listener") { event in
                        switch event {
                        case .listening:
                            inbox.post { $0.listening = true; $0.scan = true }
                            scheduleAlarm.ring()
                        case .notification(let note) where note.channel == NotificationListener.scheduleChannel:
                            scheduleAlarm.ring()
                        case .notification(let note) where note.channel == NotificationListener.taskChannel:
                            if note.payload.hasPrefix("at:") {
                                // A step queued for later: scan when it becomes ready.
                                let epochMs = Int64(note.payload.dropFirst(3)) ?? 0
                                inbox.post { $0.readyAt.append(epochMs) }
                                return
                            }
                            let now = ContinuousClock.now
                            inbox.post { news in
                                news.scan = true
                                for id in note.payload.split(separator: ",") {
                                    if let id = Int64(id) { news.notified[id] = now }
                                }
                            }
                        case .notification, .lost: break
                        }
                    }
                }
                group.addTask {
                    // The safety poll: covers anything notifications missed.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(config.pollIntervalMs))
                        inbox.post { $0.scan = true }
                    }
                }
                group.addTask {
                    // Liveness: the rescuer tells a dead worker from one that is reconnecting by this.
                    while !Task.isCancelled {
                        inbox.post { $0.heartbeat = true }
                        try? await Task.sleep(for: .milliseconds(config.heartbeatIntervalMs))
                    }
                }
                group.addTask { [pool, logger] in
                    await Scheduler(pool: pool, alarm: scheduleAlarm, pollIntervalMs: config.pollIntervalMs, logger: logger).run()
                }
                group.addTask { [pool, logger, metrics] in
                    await Rescuer(pool: pool, intervalMs: config.rescueIntervalMs, rescueAfterMs: config.rescueAfterMs,
                                  staleAfterMs: config.staleAfterMs, metrics: metrics, logger: logger).run()
                }
                try await self.loop(inbox: inbox, connection: connection, group: &group)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            inbox.post { $0.shutdown = true }
        }
        await connection.close()
        // Best effort: a worker that is gone from the table is never waited for.
        _ = try? await pool.query(WorkerQueries.stopped, [config.workerID])
        logger.info("worker stopped")
    }

    // The loop owns all mutable worker state; nothing else touches it.
    private func loop(inbox: WorkerInbox, connection: DatabaseConnection,
                      group: inout ThrowingDiscardingTaskGroup<any Error>) async throws {
        let config = configuration
        let runner = StepRunner(handlers: handlers, timeoutMs: config.stepTimeoutMs, policy: config.retry)
        var running: [Int64: RunningStep] = [:]
        var unflushed: [StepOutcome] = []
        var listening = false
        var wantScan = false
        var shuttingDown = false
        var backoff = ReconnectBackoff()
        var databaseDown = false
        // When a notification named each task, for the notify→start latency metric.
        var notifiedAt: [Int64: ContinuousClock.Instant] = [:]

        func schedule(afterMs delay: Int, _ update: @escaping @Sendable (inout WorkerInbox.News) -> Void) {
            group.addTask {
                try? await Task.sleep(for: .milliseconds(delay))
                inbox.post(update)
            }
        }

        /// Runs what a claim returned and decides whether to look for more.
        func start(_ claimed: Claimed, wanted: Int) {
            let now = ContinuousClock.now
            for step in claimed.steps {
                if let notified = notifiedAt.removeValue(forKey: step.context.taskId) {
                    metrics.notifiedStepStarted(afterNanoseconds: (now - notified).nanoseconds)
                }
                let handle = Task { await runner.run(step) }
                running[step.context.taskId] = RunningStep(step: step, handle: handle)
                group.addTask {
                    let outcome = await withTaskCancellationHandler { await handle.value } onCancel: { handle.cancel() }
                    inbox.post { $0.finished.append(outcome) }
                }
            }
            // A full batch means more may be waiting; a short one means the queue is empty.
            wantScan = claimed.steps.count == wanted
            if claimed.lockBusy > 0 {
                // Another connection still holds a session lock (a commit in flight).
                schedule(afterMs: 20) { $0.scan = true }
            }
            if wantScan && running.count < config.batchSize { inbox.wake() }
        }

        for await _ in inbox.doorbell {
            let news = inbox.take()
            notifiedAt.merge(news.notified) { old, _ in old }
            // Ids of tasks another worker took never come back here; bound what is kept.
            if notifiedAt.count > 10_000 { notifiedAt.removeAll(keepingCapacity: true) }
            // Only the attempt still running here counts: a stopped one may finish late.
            for outcome in news.finished where running[outcome.taskId]?.step.context.attempt == outcome.attempt {
                running[outcome.taskId] = nil
                unflushed.append(outcome)
            }
            if news.listening { listening = true }
            if let earliest = news.readyAt.min() {
                let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
                schedule(afterMs: Int(max(0, min(earliest - nowMs, Int64(config.pollIntervalMs)))) + 1) { $0.scan = true }
            }
            if news.scan { wantScan = true }
            if news.heartbeat {
                do {
                    let lost = try await connection.heartbeat(worker: config.workerID, running: running.values.map(\.step))
                    for id in lost {
                        // Rescued while this worker could not reach the database, cancelled, or
                        // finished from outside: another attempt owns it now. Its outcome still
                        // comes back and is committed, where the fence records it as discarded.
                        guard let entry = running[id], !entry.stopping else { continue }
                        running[id]?.stopping = true
                        entry.handle.cancel()
                        logger.warning("stopping a step that is no longer this worker's attempt", metadata: [
                            "task": "\(id)", "session": "\(entry.step.context.sessionId)",
                            "attempt": "\(entry.step.context.attempt)",
                        ])
                    }
                } catch {
                    logger.debug("heartbeat failed; the next one tries again", metadata: ["error": "\(error)"])
                }
            }
            if news.shutdown && !shuttingDown {
                shuttingDown = true
                logger.info("shutting down: no new steps; waiting for running ones",
                            metadata: ["running": "\(running.count)", "grace_ms": "\(config.shutdownGraceMs)"])
                schedule(afterMs: config.shutdownGraceMs) { $0.graceOver = true }
            }

            if !unflushed.isEmpty {
                // With free slots, the commit also claims the next steps (one round trip).
                let free = !shuttingDown && listening ? config.batchSize - running.count : 0
                do {
                    let (outcomes, claimed) = try await commit(unflushed, claimUpTo: free, on: connection)
                    for (taskID, outcome) in outcomes where outcome == "RETRY" {
                        if let retry = unflushed.first(where: { $0.taskId == taskID }),
                           case .failed(_, let delay?) = retry.result {
                            schedule(afterMs: delay + 1) { $0.scan = true }
                        }
                    }
                    unflushed.removeAll(keepingCapacity: true)
                    databaseDown = false
                    backoff.reset()
                    if let claimed {
                        start(claimed, wanted: free)
                    } else {
                        wantScan = true
                    }
                } catch {
                    databaseDown = true
                    let delay = backoff.next()
                    logger.warning("cannot commit finished steps; keeping them and trying again",
                                   metadata: ["steps": "\(unflushed.count)", "error": "\(error)", "retry_in_ms": "\(delay)"])
                    schedule(afterMs: delay) { $0.scan = true }
                }
            }

            if shuttingDown {
                if news.graceOver && !running.isEmpty {
                    await giveBack(running.values.map(\.step), on: connection)
                    running.removeAll()
                }
                if running.isEmpty && (unflushed.isEmpty || news.graceOver) { break }
                continue
            }

            guard listening, wantScan, !databaseDown || news.scan, running.count < config.batchSize else { continue }
            let want = config.batchSize - running.count
            do {
                let claimed = try await connection.claimSteps(
                    worker: config.workerID, limit: want, kinds: claimKinds, policy: config.retry)
                databaseDown = false
                backoff.reset()
                start(claimed, wanted: want)
            } catch {
                databaseDown = true
                let delay = backoff.next()
                logger.warning("cannot claim steps; trying again", metadata: ["error": "\(error)", "retry_in_ms": "\(delay)"])
                schedule(afterMs: delay) { $0.scan = true }
            }
        }
    }

    /// A step this worker runs: its handler task, so a step that is no longer this worker's can
    /// be stopped (`stopping`: asked once; its outcome still comes back and is committed).
    private struct RunningStep {
        var step: ClaimedStep
        var handle: Task<StepOutcome, Never>
        var stopping = false
    }

    /// Commits a batch, claiming up to `limit` next steps in the same transaction (nil: no claim
    /// was made). If the server refuses the batch as a whole (not a lost connection), commits
    /// each step alone so one bad result cannot hold back the others.
    private func commit(_ all: [StepOutcome], claimUpTo limit: Int,
                        on connection: DatabaseConnection) async throws -> ([Int64: String], Claimed?) {
        var deferredResults: [Int64: String] = [:]
        let deferred = all.filter(\.result.isDeferred)
        if !deferred.isEmpty {
            deferredResults = try await connection.deferSteps(
                worker: configuration.workerID, deferred, timeoutMs: configuration.stepTimeoutMs)
            record(deferredResults, deferred)
        }
        let outcomes = deferred.isEmpty ? all : all.filter { !$0.result.isDeferred }
        if outcomes.isEmpty { return (deferredResults, nil) }
        let (results, claimed) = try await commitFinished(outcomes, claimUpTo: limit, on: connection)
        return (results.merging(deferredResults) { new, _ in new }, claimed)
    }

    private func commitFinished(_ outcomes: [StepOutcome], claimUpTo limit: Int,
                                on connection: DatabaseConnection) async throws -> ([Int64: String], Claimed?) {
        let refusal: DatabaseError
        do {
            if limit > 0 {
                let (result, claimed) = try await connection.finishAndClaim(
                    worker: configuration.workerID, outcomes, limit: limit, kinds: claimKinds, policy: configuration.retry)
                record(result, outcomes)
                return (result, claimed)
            }
            let result = try await connection.finishSteps(worker: configuration.workerID, outcomes)
            record(result, outcomes)
            return (result, nil)
        } catch {
            if error.isConnectionLoss { throw error }
            refusal = error
        }
        logger.warning("a batch commit was refused; committing its steps one by one", metadata: ["error": "\(refusal)"])
        var merged: [Int64: String] = [:]
        for outcome in outcomes {
            merged.merge(try await commitAlone(outcome, on: connection)) { _, new in new }
        }
        record(merged, outcomes)
        return (merged, nil)
    }

    /// One step; a result the database refuses becomes a failed attempt that says why.
    private func commitAlone(_ outcome: StepOutcome, on connection: DatabaseConnection) async throws -> [Int64: String] {
        var outcome = outcome
        do {
            return try await connection.finishSteps(worker: configuration.workerID, [outcome])
        } catch {
            if error.isConnectionLoss { throw error }
            outcome.result = .failed(message: "the database refused the step's result: \(error)", retryDelayMs: nil)
        }
        logger.error("step result refused by the database", metadata: ["task": "\(outcome.taskId)"])
        return try await connection.finishSteps(worker: configuration.workerID, [outcome])
    }

    /// Counts committed outcomes and logs the discarded ones.
    private func record(_ result: [Int64: String], _ outcomes: [StepOutcome]) {
        for outcome in outcomes {
            guard let verdict = result[outcome.taskId] else { continue }
            metrics.stepFinished(kind: outcome.kind, step: outcome.step.rawValue, outcome: verdict,
                                 durationNanoseconds: outcome.durationNanoseconds)
            if verdict == "DISCARDED" {
                logger.notice("step result discarded: the session was cancelled or the step was handed on",
                              metadata: ["task": "\(outcome.taskId)", "session": "\(outcome.sessionId)", "attempt": "\(outcome.attempt)"])
            } else if verdict == "DEFERRED" {
                logger.debug("step handed off; it stays RUNNING until completed or failed from outside",
                             metadata: ["task": "\(outcome.taskId)", "session": "\(outcome.sessionId)"])
            }
        }
    }

    private func giveBack(_ steps: [ClaimedStep], on connection: DatabaseConnection) async {
        do {
            let released = try await connection.releaseSteps(worker: configuration.workerID, steps)
            logger.info("gave back unfinished steps", metadata: ["steps": "\(released)"])
        } catch {
            logger.warning("could not give back unfinished steps; the rescuer will", metadata: ["error": "\(error)"])
        }
    }
}
