import Foundation

/// What the scheduler does with one schedule at `now`: a pure decision (the rule, the stored due
/// time and the database's clock are passed in), carried out against the database, which lets
/// exactly one scheduler fire each due time.
public enum ScheduleStep: Sendable, Hashable {
    /// The schedule has no due time yet (new or changed): its first is `next`.
    case plan(next: Date)
    /// Nothing to do before `until`.
    case wait(until: Date)
    /// The slot `due` came due. The run stands for `slots` slots (more than one when slots
    /// passed while no scheduler ran: one catch-up run for all of them), the last being
    /// `lastSlot`; the schedule goes on at `next`, the first slot after now.
    case fire(due: Date, slots: Int, lastSlot: Date, next: Date)
    /// The rule has no slot after now (a rule the scheduler cannot compute).
    case exhausted

    /// The step for a schedule whose stored due time is `nextDue` (nil: none yet), at `now`.
    public static func decide(_ rule: ScheduleRule, nextDue: Date?, now: Date, catchUpLimit: Int = 100_000) -> ScheduleStep {
        guard let due = nextDue else {
            return rule.nextSlot(after: now).map { .plan(next: $0) } ?? .exhausted
        }
        if due > now { return .wait(until: due) }
        guard let next = rule.nextSlot(after: now) else { return .exhausted }
        let missed = rule.slots(after: due, through: now, limit: catchUpLimit)
        return .fire(due: due, slots: 1 + missed.count, lastSlot: missed.last ?? due, next: next)
    }
}
