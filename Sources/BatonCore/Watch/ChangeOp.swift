/// What happened to a watched row: the `op` of a watch session's `change` document.
public enum ChangeOp: String, Sendable, Hashable, CaseIterable, Codable {
    case insert
    case update
    case delete

    /// The op a watch session's handler acts on, decided when its first step starts (twin of
    /// `baton.change_op` in sql/functions/change_op.sql): `delete` when the row is gone; otherwise
    /// `insert` when the first change folded into the session was an INSERT (the row did not
    /// exist when the key's previous run read it), else `update`.
    ///
    /// Only the first change matters because a session starts queued right after its key's
    /// previous run read the row: whatever came between is folded in, and the row is read again.
    public static func atStart(firstChange: ChangeOp, rowExists: Bool) -> ChangeOp {
        guard rowExists else { return .delete }
        return firstChange == .insert ? .insert : .update
    }
}
