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

    public func run() async throws {
        let inbox = WorkerInbox()
        var settings = direct.forLongLivedConnection()
        settings.overrides["application_name"] = "baton-worker"
        let config = configuration
        let database = PostgresWorkerDatabase(
            connection: DatabaseConnection(settings: settings, label: "worker", preparedStatements: true),
            pool: pool, workerID: config.workerID, kinds: claimKinds, policy: config.retry,
            handOffTimeoutMs: config.stepTimeoutMs)
        let loop = WorkerLoop(
            configuration: config, runner: StepRunner(handlers: handlers, timeoutMs: config.stepTimeoutMs, policy: config.retry),
            database: database, metrics: metrics, logger: logger)
        let listener = NotificationListener(
            settings: direct, channels: [NotificationListener.taskChannel, NotificationListener.scheduleChannel],
            pingIntervalMs: config.listenerPingMs, logger: logger)
        // The scheduler beside the worker (as the rescuer is) wakes on schedule changes.
        let scheduleAlarm = Alarm()
        logger.info("worker starting", metadata: [
            "database": "\(direct.safeDescription)", "batch_size": "\(config.batchSize)",
            "kinds": "\(claimKinds?.joined(separator: ",") ?? "all")",
        ])

        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await listener.run(label: "listener") { event in
                        switch event {
                        case .listening:
                            inbox.post(.listening)
                            scheduleAlarm.ring()
                        case .notification(let note) where note.channel == NotificationListener.scheduleChannel:
                            scheduleAlarm.ring()
                        case .notification(let note) where note.channel == NotificationListener.taskChannel:
                            inbox.post(.taskNotification(note.payload))
                        case .notification, .lost:
                            break
                        }
                    }
                }
                group.addTask {
                    // The safety poll: covers anything notifications missed.
                    while (try? await Task.sleep(for: .milliseconds(config.pollIntervalMs))) != nil {
                        inbox.post(.pollTick)
                    }
                }
                group.addTask {
                    // Liveness: the rescuer tells a dead worker from one that is reconnecting by this.
                    repeat {
                        inbox.post(.heartbeatTick)
                    } while (try? await Task.sleep(for: .milliseconds(config.heartbeatIntervalMs))) != nil
                }
                group.addTask { [pool, logger] in
                    await Scheduler(pool: pool, alarm: scheduleAlarm, pollIntervalMs: config.pollIntervalMs, logger: logger).run()
                }
                group.addTask { [pool, logger, metrics] in
                    await Rescuer(pool: pool, intervalMs: config.rescueIntervalMs, rescueAfterMs: config.rescueAfterMs,
                                  staleAfterMs: config.staleAfterMs, metrics: metrics, logger: logger).run()
                }
                await loop.run(inbox)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            inbox.post(.shutdownRequested)
        }
        await database.close()
        await database.stopped()
        logger.info("worker stopped")
    }
}
