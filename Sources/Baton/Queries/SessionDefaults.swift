/// The deployment's defaults for sessions created without saying whether they advance by
/// themselves (`AUTO_PROGRESS_STEPS`, `AUTO_PROGRESS_PHASES`), kept in `baton.session_defaults`
/// so that sessions created from plain SQL get them too.
public struct SessionDefaults: Sendable, Equatable {
    public var autoSteps: Bool
    public var autoPhases: Bool

    public init(autoSteps: Bool, autoPhases: Bool) {
        self.autoSteps = autoSteps
        self.autoPhases = autoPhases
    }

    static let read = "SELECT auto_steps, auto_phases FROM baton.session_defaults"
    /// A NULL keeps that default as it is.
    static let write = """
        UPDATE baton.session_defaults
        SET auto_steps = coalesce($1::boolean, auto_steps), auto_phases = coalesce($2::boolean, auto_phases), updated_at = now()
        RETURNING auto_steps, auto_phases
        """

    init(_ row: QueryResult.Record?) throws(DatabaseError) {
        guard let row else { throw .protocolViolation("baton.session_defaults has no row; run baton migrate") }
        self.init(autoSteps: row.bool("auto_steps"), autoPhases: row.bool("auto_phases"))
    }
}

extension ConnectionPool {
    /// The defaults stored in the database.
    public func sessionDefaults() async throws -> SessionDefaults {
        try SessionDefaults(try await query(SessionDefaults.read).first)
    }
}

extension DatabaseConnection {
    /// Stores the defaults that are given (nil keeps one as it is); returns what is stored now.
    public nonisolated func storeSessionDefaults(autoSteps: Bool?, autoPhases: Bool?) async throws -> SessionDefaults {
        try SessionDefaults(try await query(SessionDefaults.write,
                                            [autoSteps.map { $0 ? "t" : "f" }, autoPhases.map { $0 ? "t" : "f" }]).first)
    }
}
