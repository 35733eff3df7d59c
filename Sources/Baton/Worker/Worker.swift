import Foundation
import Logging
import ServiceLifecycle

/// A Baton worker: a `Service` that LISTENs for work, claims ready steps in batches with their
/// session locks, runs them through the handlers, and commits finished steps in batches, each
/// batch in one transaction. See docs/design.md "Durability rules" for the guarantees.
///
/// Its decisions are `WorkerMachine` (a value: events in, actions out); `WorkerLoop` carries
/// them out on the claim connection. Around the loop run the listener (LISTEN first, and only
/// then may the loop scan; again after every reconnect), the safety poll, the heartbeat
/// ticks, the scheduler and the rescuer.
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

    /// One claim/commit connection with its own loop, inbox and session locks.
    private struct Lane {
        let inbox: WorkerInbox
        let database: PostgresWorkerDatabase
        let loop: WorkerLoop
    }

    public func run() async throws {
        var settings = direct.forLongLivedConnection()
        settings.overrides["application_name"] = "baton-worker"
        let config = configuration
        let kinds = claimKinds
        let lanes = config.lanes.map { lane in
            var logger = logger
            if config.connections > 1 { logger[metadataKey: "worker"] = "\(lane.workerID)" }
            let database = PostgresWorkerDatabase(
                connection: DatabaseConnection(settings: settings, label: "worker", preparedStatements: true),
                pool: pool, workerID: lane.workerID, kinds: kinds, policy: lane.retry,
                handOffTimeoutMs: lane.stepTimeoutMs)
            return Lane(
                inbox: WorkerInbox(), database: database,
                loop: WorkerLoop(
                    configuration: lane,
                    runner: StepRunner(handlers: handlers, timeoutMs: lane.stepTimeoutMs, policy: lane.retry),
                    database: database, metrics: metrics, logger: logger))
        }
        // Every lane hears every wake-up: a lane with no free slot ignores it, and the claims
        // of the others skip each other's rows.
        let post: @Sendable (WorkerMachine.Event) -> Void = { event in
            for lane in lanes { lane.inbox.post(event) }
        }
        let listener = NotificationListener(
            settings: direct, channels: [NotificationListener.taskChannel, NotificationListener.scheduleChannel],
            pingIntervalMs: config.listenerPingMs, logger: logger)
        // The scheduler beside the worker (as the rescuer is) wakes on schedule changes.
        let scheduleAlarm = Alarm()
        logger.info("worker starting", metadata: [
            "database": "\(direct.safeDescription)", "batch_size": "\(config.batchSize)",
            "connections": "\(lanes.count)",
            "kinds": "\(kinds?.joined(separator: ",") ?? "all")",
        ])

        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await listener.run(label: "listener") { event in
                        switch event {
                        case .listening:
                            post(.listening)
                            scheduleAlarm.ring()
                        case .notification(let note) where note.channel == NotificationListener.scheduleChannel:
                            scheduleAlarm.ring()
                        case .notification(let note) where note.channel == NotificationListener.taskChannel:
                            post(.taskNotification(note.payload))
                        case .notification, .lost:
                            break
                        }
                    }
                }
                group.addTask {
                    // The safety poll: covers anything notifications missed.
                    while (try? await Task.sleep(for: .milliseconds(config.pollIntervalMs))) != nil {
                        post(.pollTick)
                    }
                }
                group.addTask {
                    // Liveness: the rescuer tells a dead worker from one that is reconnecting by this.
                    repeat {
                        post(.heartbeatTick)
                    } while (try? await Task.sleep(for: .milliseconds(config.heartbeatIntervalMs))) != nil
                }
                group.addTask { [pool, logger] in
                    await Scheduler(pool: pool, alarm: scheduleAlarm, pollIntervalMs: config.pollIntervalMs, logger: logger).run()
                }
                group.addTask { [pool, logger] in
                    await Pruner(pool: pool, policy: config.retention, intervalMs: config.pruneIntervalMs,
                                 batchSize: config.pruneBatchSize, logger: logger).run()
                }
                group.addTask { [pool, logger, metrics] in
                    await Rescuer(pool: pool, intervalMs: config.rescueIntervalMs, rescueAfterMs: config.rescueAfterMs,
                                  staleAfterMs: config.staleAfterMs, metrics: metrics, logger: logger).run()
                }
                await withDiscardingTaskGroup { running in
                    for lane in lanes {
                        running.addTask { await lane.loop.run(lane.inbox) }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            post(.shutdownRequested)
        }
        for lane in lanes {
            await lane.database.close()
            await lane.database.stopped()
        }
        logger.info("worker stopped")
    }
}
