// A Swift program that embeds a Baton worker with a handler of its own: it awards loyalty
// points for orders, in the application's own table, once per order.
//
//   DATABASE_URL=postgresql://… swift run ExampleSwiftWorker
//
// Session input: {"customer": "c-42", "orderCents": 4250}
//
//   THINK      check the order and work out the points (1 per full 100 cents)
//   EXECUTE    credit them in example_loyalty_points, keyed by the step's idempotency key
//   INTEGRATE  the customer's balance
//
// It stops gracefully on SIGTERM or Ctrl-C, as `baton worker` does (docs/handlers.md).
import Baton
import BatonHost
import Foundation

struct Order: Decodable {
    var customer: String
    var orderCents: Int
}

struct LoyaltyHandler: StepHandler {
    /// The application's own database (here the same one Baton uses).
    let database: ConnectionPool

    func run(_ step: StepContext) async throws -> String {
        guard let order = try? JSONDecoder().decode(Order.self, from: Data(step.inputJSON.utf8)), order.orderCents > 0 else {
            // Retrying cannot fix the input: the session FAILS now, with this message.
            throw StepFailure("the input needs \"customer\" (text) and \"orderCents\" (a positive number)", permanent: true)
        }
        let points = order.orderCents / 100
        let customer = JSONText.quote(order.customer)
        switch step.step {
        case .think:
            return "{\"customer\": \(customer), \"points\": \(points)}"
        case .execute:
            // The credit and its key in one statement: when this step runs again (Baton runs a
            // step at least once, so after a crash it may), the key is there and nothing is added.
            _ = try await database.query("""
                INSERT INTO example_loyalty_points (idempotency_key, customer, points)
                VALUES ($1, $2, $3::int) ON CONFLICT (idempotency_key) DO NOTHING
                """, [step.idempotencyKey, order.customer, String(points)])
            return "{\"credited\": \(points)}"
        case .integrate:
            let balance = try await database.query(
                "SELECT coalesce(sum(points), 0) AS balance FROM example_loyalty_points WHERE customer = $1",
                [order.customer]).first?["balance"] ?? "0"
            return "{\"customer\": \(customer), \"balance\": \(balance)}"
        }
    }
}

guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"] else {
    FileHandle.standardError.write(Data("set DATABASE_URL to a migrated Baton database\n".utf8))
    exit(2)
}
let settings = try ConnectionSettings(url)
// DIRECT_URL, when DATABASE_URL goes through a transaction pooler (docs/operations.md).
let direct = try ProcessInfo.processInfo.environment["DIRECT_URL"].map { try ConnectionSettings($0) }
let database = ConnectionPool(settings: settings, maxConnections: 2)
_ = try await database.query("""
    CREATE TABLE IF NOT EXISTS example_loyalty_points (
        idempotency_key text PRIMARY KEY,
        customer text NOT NULL,
        points int NOT NULL,
        credited_at timestamptz NOT NULL DEFAULT now())
    """)
let host = ProcessHost(
    database: settings, direct: direct,
    worker: .init(configuration: WorkerConfiguration(batchSize: 8), handlers: HandlerRegistry(LoyaltyHandler(database: database))))
try await host.runUntilSignalled()
await database.close()
