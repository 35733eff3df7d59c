/// At most `maxConnections` connections for ordinary queries (over `DATABASE_URL`, which may
/// be a pooler: statements are unnamed). A caller that finds none free waits up to
/// `acquireTimeoutMs`, then gets a clear `poolTimeout` error, never a server-side
/// "too many connections".
public actor ConnectionPool {
    public nonisolated let settings: ConnectionSettings
    public nonisolated let maxConnections: Int
    public nonisolated let acquireTimeoutMs: Int
    private let label: String
    private var idle: [DatabaseConnection] = []
    private var opened = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<DatabaseConnection, any Error>)] = []
    private var nextWaiterID = 0

    public init(settings: ConnectionSettings, maxConnections: Int, acquireTimeoutMs: Int = 10_000, label: String = "pool") {
        self.settings = settings
        self.maxConnections = max(1, maxConnections)
        self.acquireTimeoutMs = acquireTimeoutMs
        self.label = label
    }

    /// Runs `body` with a connection that is returned to the pool afterwards.
    public func withConnection<T: Sendable>(
        _ body: @Sendable (DatabaseConnection) async throws -> T
    ) async throws -> T {
        let connection = try await lease()
        do {
            let value = try await body(connection)
            give(back: connection)
            return value
        } catch {
            give(back: connection)
            throw error
        }
    }

    /// One statement on a pooled connection.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) async throws -> QueryResult {
        try await withConnection { try await $0.query(sql, parameters) }
    }

    private func lease() async throws -> DatabaseConnection {
        if let connection = idle.popLast() {
            await connection.dropIfStale()
            return connection
        }
        if opened < maxConnections {
            opened += 1
            // Connects lazily on first use; a broken one reconnects on its next use.
            return DatabaseConnection(settings: settings, label: "\(label)-\(opened)", preparedStatements: false)
        }
        let id = nextWaiterID
        nextWaiterID += 1
        let timeout = acquireTimeoutMs
        // A short-lived timer that ends the wait; it does nothing once the waiter was served.
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(timeout))
            await self?.expire(id)
        }
        defer { timer.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            waiters.append((id, continuation))
        }
    }

    private func expire(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters.remove(at: index)
        waiter.continuation.resume(throwing: DatabaseError.poolTimeout(
            "no database connection became free within \(acquireTimeoutMs) ms (all \(maxConnections) in use; raise WORKER_DB_POOL_SIZE or lower the load)"))
    }

    private func give(back connection: DatabaseConnection) {
        if !waiters.isEmpty {
            waiters.removeFirst().continuation.resume(returning: connection)
        } else {
            idle.append(connection)
        }
    }

    /// Closes the idle connections.
    public func close() async {
        for connection in idle { await connection.close() }
        idle.removeAll()
    }
}
