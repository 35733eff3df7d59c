import Logging
import Tracing

/// Carries out what `WorkerMachine` decides, all in this one place: runs the handlers and the
/// timers as child tasks, makes the database calls one at a time through `WorkerDatabase`, and
/// feeds back what happened, with the time it happened. Logs and metrics are written here.
struct WorkerLoop: Sendable {
    var configuration: WorkerConfiguration
    var runner: StepRunner
    var database: any WorkerDatabase
    var metrics: WorkerMetrics
    var logger: Logger
    /// Where the database calls' spans go; nil: no tracer, no spans.
    var tracer: (any Tracer)? = BatonSpans.activeTracer()

    /// One attempt of one task: a task may run again under a newer attempt while an older,
    /// stopped one has not returned yet.
    private struct Attempt: Hashable {
        var taskID: Int64
        var attempt: Int
    }

    /// Runs until the machine is done after a shutdown, or until the task is cancelled. The
    /// handlers still running then are cancelled.
    func run(_ inbox: WorkerInbox) async {
        await withDiscardingTaskGroup { group in
            var machine = WorkerMachine(configuration: configuration)
            var handlers: [Attempt: Task<StepOutcome, Never>] = [:]
            var lastError: DatabaseError?

            func perform(_ actions: [WorkerMachine.Action]) {
                for action in actions {
                    switch action {
                    case .start(let step, let notifiedAgo):
                        if let notifiedAgo { metrics.notifiedStepStarted(afterNanoseconds: notifiedAgo.nanoseconds) }
                        let handle = Task { await runner.run(step) }
                        handlers[Attempt(taskID: step.context.taskId, attempt: step.context.attempt)] = handle
                        group.addTask {
                            let outcome = await withTaskCancellationHandler { await handle.value } onCancel: { handle.cancel() }
                            inbox.post(.stepFinished(outcome))
                        }
                    case .stop(let step):
                        handlers[Attempt(taskID: step.context.taskId, attempt: step.context.attempt)]?.cancel()
                        logger.warning("stopping a step that is no longer this worker's attempt", metadata: [
                            "task": "\(step.context.taskId)", "session": "\(step.context.sessionId)",
                            "attempt": "\(step.context.attempt)",
                        ])
                    case .wakeAfter(let ms, let wake):
                        group.addTask {
                            guard (try? await Task.sleep(for: .milliseconds(ms))) != nil else { return }
                            inbox.post(.woke(wake))
                        }
                    case .note(let note):
                        log(note, error: lastError)
                    }
                }
            }

            events: for await _ in inbox.doorbell {
                while !Task.isCancelled {
                    for (event, now) in inbox.take() {
                        if case .stepFinished(let outcome) = event {
                            handlers[Attempt(taskID: outcome.taskId, attempt: outcome.attempt)] = nil
                        }
                        perform(machine.handle(event, now: now))
                    }
                    switch machine.next() {
                    case .wait:
                        continue events
                    case .exit:
                        break events
                    case .call(let call):
                        let (answer, error) = await self.call(call)
                        lastError = error
                        perform(machine.handle(answer, now: inbox.clock.now()))
                    }
                }
            }
            group.cancelAll()  // handlers still running (their tasks stop them) and timers
        }
    }

    /// Makes one database call, inside its span (see `BatonSpans`; none for heartbeats, which
    /// would be a trace every few seconds saying nothing); its answer (or failure) is the next event.
    private func call(_ call: WorkerMachine.Call) async -> (WorkerMachine.Event, DatabaseError?) {
        let name: String
        switch call {
        case .claim: name = BatonSpans.claim
        case .finish, .handOff: name = BatonSpans.commit
        case .giveBack: name = BatonSpans.giveBack
        case .heartbeat: return await perform(call)
        }
        guard let tracer else { return await perform(call) }
        return await traced(tracer, name, call)
    }

    private func traced<T: Tracer>(_ tracer: T, _ name: String, _ call: WorkerMachine.Call) async
        -> (WorkerMachine.Event, DatabaseError?) {
        await tracer.withSpan(name, ofKind: .client) { span in
            span.setCallAttributes(call)
            let (event, error) = await perform(call)
            span.record(event, error)
            return (event, error)
        }
    }

    private func perform(_ call: WorkerMachine.Call) async -> (WorkerMachine.Event, DatabaseError?) {
        do throws(DatabaseError) {
            switch call {
            case .claim(let limit):
                return (.claimed(try await database.claim(limit: limit)), nil)
            case .finish(let outcomes, let limit) where limit > 0:
                let (verdicts, claimed) = try await database.finishAndClaim(outcomes, limit: limit)
                record(verdicts, outcomes)
                return (.finished(verdicts: verdicts, claimed: claimed), nil)
            case .finish(let outcomes, _):
                let verdicts = try await database.finish(outcomes)
                record(verdicts, outcomes)
                return (.finished(verdicts: verdicts, claimed: Claimed()), nil)
            case .handOff(let outcomes):
                let verdicts = try await database.handOff(outcomes)
                record(verdicts, outcomes)
                return (.handedOff(verdicts: verdicts), nil)
            case .heartbeat(let running):
                return (.heartbeatAnswered(lost: try await database.heartbeat(running: running)), nil)
            case .giveBack(let steps):
                let released = try await database.release(steps)
                logger.info("gave back unfinished steps", metadata: ["steps": "\(released)"])
                return (.gaveBack, nil)
            }
        } catch {
            switch call {
            case .heartbeat:
                logger.debug("heartbeat failed; the next one tries again", metadata: ["error": "\(error)"])
            case .giveBack:
                logger.warning("could not give back unfinished steps; the rescuer will", metadata: ["error": "\(error)"])
            default:
                break  // the machine's note says what happens next
            }
            return (.callFailed(error.isConnectionLoss ? .connectionLost : .refused("\(error)")), error)
        }
    }

    /// Counts committed outcomes and logs the discarded ones.
    private func record(_ verdicts: [Int64: StepVerdict], _ outcomes: [StepOutcome]) {
        for outcome in outcomes {
            guard let verdict = verdicts[outcome.taskId] else { continue }
            metrics.stepFinished(kind: outcome.kind, step: outcome.step.rawValue, verdict: verdict,
                                 durationNanoseconds: outcome.durationNanoseconds)
            switch verdict {
            case .discarded:
                logger.notice("step result discarded: the session was cancelled or the step was handed on",
                              metadata: ["task": "\(outcome.taskId)", "session": "\(outcome.sessionId)", "attempt": "\(outcome.attempt)"])
            case .deferred:
                logger.debug("step handed off; it stays RUNNING until completed or failed from outside",
                             metadata: ["task": "\(outcome.taskId)", "session": "\(outcome.sessionId)"])
            case .succeeded, .retry, .failed:
                break
            }
        }
    }

    private func log(_ note: WorkerMachine.Note, error: DatabaseError?) {
        let error: Logger.MetadataValue = "\(error.map { "\($0)" } ?? "-")"
        switch note {
        case .shuttingDown(let running, let graceMs):
            logger.info("shutting down: no new steps; waiting for running ones",
                        metadata: ["running": "\(running)", "grace_ms": "\(graceMs)"])
        case .cannotCommit(let steps, let retryInMs):
            logger.warning("cannot commit finished steps; keeping them and trying again",
                           metadata: ["steps": "\(steps)", "error": error, "retry_in_ms": "\(retryInMs)"])
        case .cannotClaim(let retryInMs):
            logger.warning("cannot claim steps; trying again", metadata: ["error": error, "retry_in_ms": "\(retryInMs)"])
        case .batchRefused(let steps):
            logger.warning("a batch commit was refused; committing its steps one by one",
                           metadata: ["steps": "\(steps)", "error": error])
        case .resultRefused(let taskID):
            logger.error("step result refused by the database; committing a failed attempt that says why",
                         metadata: ["task": "\(taskID)", "error": error])
        case .droppedUncommitted(let steps):
            logger.warning("shutdown grace over and finished steps cannot be committed; the rescuer will take them",
                           metadata: ["steps": "\(steps)", "error": error])
        }
    }
}

extension Span {
    fileprivate func setCallAttributes(_ call: WorkerMachine.Call) {
        guard isRecording else { return }
        attributes[BatonSpans.Attribute.databaseSystem] = "postgresql"
        switch call {
        case .claim(let limit):
            attributes[BatonSpans.Attribute.claimLimit] = limit
        case .finish(let outcomes, let limit):
            setCommitAttributes(outcomes)
            attributes[BatonSpans.Attribute.claimLimit] = limit
        case .handOff(let outcomes):
            setCommitAttributes(outcomes)
        case .giveBack(let steps):
            attributes[BatonSpans.Attribute.steps] = steps.count
            attributes[BatonSpans.Attribute.taskIDs] = SpanAttribute.int64Array(steps.map(\.context.taskId))
        case .heartbeat:
            break
        }
    }

    private func setCommitAttributes(_ outcomes: [StepOutcome]) {
        attributes[BatonSpans.Attribute.steps] = outcomes.count
        attributes[BatonSpans.Attribute.taskIDs] = SpanAttribute.int64Array(outcomes.map(\.taskId))
        if outcomes.count == 1, let only = outcomes.first {
            attributes[BatonSpans.Attribute.sessionID] = only.sessionId
        }
    }

    /// How many steps came back claimed, or the error that failed the call.
    fileprivate func record(_ event: WorkerMachine.Event, _ error: DatabaseError?) {
        if let error {
            recordError(error)
            setStatus(SpanStatus(code: .error, message: "\(error)"))
        }
        guard isRecording else { return }
        switch event {
        case .claimed(let claimed), .finished(_, let claimed):
            attributes[BatonSpans.Attribute.claimed] = claimed.steps.count
        default:
            break
        }
    }
}
