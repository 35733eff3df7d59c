/// This release of Baton, for `baton --version` and support questions.
public enum BatonVersion {
    /// The release; a change of the contract in docs/design.md changes its minor number.
    public static let release = "0.13.0"

    /// The release and the newest schema migration this binary carries, e.g.
    /// `0.13.0 (schema 18)`: a database migrated by it answers to that number.
    public static var description: String {
        "\(release) (schema \(Migration.all.last?.version ?? 0))"
    }
}
