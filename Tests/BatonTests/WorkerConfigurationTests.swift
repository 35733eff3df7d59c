@testable import Baton
import Testing

/// How WORKER_CONNECTIONS splits a worker: pure, no database.
@Suite struct WorkerConfigurationTests {
    @Test(arguments: [(1, 1), (4, 1), (4, 2), (4, 3), (5, 2), (100, 2), (100, 7), (3, 8), (1, 4)])
    func connectionsShareTheBatchUnderTheirOwnIds(batch: Int, connections: Int) {
        let configuration = WorkerConfiguration(workerID: "w", batchSize: batch, connections: connections)
        let lanes = configuration.lanes
        // Never more connections than steps, and never a connection without a slot.
        #expect(lanes.count == min(connections, batch))
        #expect(lanes.map(\.batchSize).reduce(0, +) == batch)
        #expect(lanes.allSatisfy { $0.batchSize >= 1 && $0.connections == 1 })
        #expect((lanes.map(\.batchSize).max() ?? 0) - (lanes.map(\.batchSize).min() ?? 0) <= 1)
        // One connection keeps the worker's id; several get one each, as each holds its own
        // session locks and heartbeats.
        let expectedIDs = lanes.count == 1 ? ["w"] : (1...lanes.count).map { "w/\($0)" }
        #expect(lanes.map(\.workerID) == expectedIDs)
    }
}
