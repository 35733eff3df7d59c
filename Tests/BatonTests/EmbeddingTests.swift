import Baton
import BatonAPI
import BatonHost
import Prometheus
import ServiceLifecycle
import Testing

/// The example of docs/guide.md, "Embed a worker in your Swift application", compiled here so
/// that it stays true (it runs until SIGTERM, so the tests below run the same host as a service).
func embeddedWorkerExample(databaseURL: String) async throws {
    let handlers = HandlerRegistry(ClosureHandler { step in
        "{\"summary\": \(JSONText.quote("phase \(step.phase) \(step.step.rawValue)"))}"
    })
    let host = ProcessHost(
        database: try ConnectionSettings(databaseURL),
        worker: .init(configuration: WorkerConfiguration(batchSize: 8), handlers: handlers),
        api: APIConfiguration(port: 8080))  // nil: no HTTP API in this process
    try await host.runUntilSignalled()      // as `baton start`: SIGTERM/SIGINT stop it gracefully
}

/// `ProcessHost`, what `baton start` runs, inside an application's own service group.
@Suite struct EmbeddingTests {
    @Test func aHostRunsAWorkerAndTheAPIAndStopsWithItsServiceGroup() async throws {
        let db = try await TestDatabase.create()
        let id = try await db.createSession()
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let host = ProcessHost(
            database: db.settings, direct: db.directSettings,
            worker: .init(configuration: testConfiguration(), handlers: HandlerRegistry(EchoHandler())),
            api: APIConfiguration(port: 0), metrics: .registry(PrometheusCollectorRegistry()), logger: testLogger(),
            onAPIListening: { portSink.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [.init(service: host)], logger: testLogger()))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await db.awaitStatus(id, .completed)
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                let http = HTTPTestClient(base: "http://127.0.0.1:\(port)", client: testHTTPClient)
                let progress = try await http.get("/api/sessions/\(id)/progress")
                #expect(progress.status == 200 && progress.object["status"] as? String == "COMPLETED")
                let metrics = try await http.get("/metrics").body
                #expect(metrics.contains("baton_steps_total{"), "the worker's metrics reach the host's registry: \(metrics.prefix(2000))")
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func aHostRefusesADatabaseWithoutTheSchema() async throws {
        let empty = try await TestDatabase.create(migrated: false)
        let host = ProcessHost(
            database: empty.settings, worker: .init(handlers: HandlerRegistry(EchoHandler())),
            metrics: .registry(PrometheusCollectorRegistry()), logger: testLogger())
        await #expect(throws: ProcessHost.SchemaError.self) { try await host.run() }
    }
}
