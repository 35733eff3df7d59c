import Baton
import Testing

/// What `baton migrate` decides to apply, and what `requireSchema` concludes, without a database.
@Suite struct SchemaPlanTests {
    let migrations = [Migration(version: 1, name: "0001_a.sql", sql: "a"),
                      Migration(version: 2, name: "0002_b.sql", sql: "b"),
                      Migration(version: 3, name: "0003_c.sql", sql: "c")]
    let sums = ["0001_a.sql": "sa", "0002_b.sql": "sb", "0003_c.sql": "sc"]

    @Test func aFreshDatabaseGetsEveryMigration() throws {
        let plan = try MigrationPlan(migrations: migrations, checksums: sums, recorded: [:], earlierChecksums: [:])
        #expect(plan.pending == migrations && plan.applied.isEmpty && plan.unknownVersions.isEmpty)
    }

    @Test func recordedMigrationsAreSkippedAndTheRestApplied() throws {
        let plan = try MigrationPlan(migrations: migrations, checksums: sums, recorded: [1: "sa", 2: "sb"], earlierChecksums: [:])
        #expect(plan.applied.map(\.version) == [1, 2])
        #expect(plan.pending.map(\.version) == [3])
    }

    @Test func aKnownEarlierTextCountsAsApplied() throws {
        let plan = try MigrationPlan(migrations: migrations, checksums: sums, recorded: [1: "sa", 2: "old-b"],
                                     earlierChecksums: [2: ["old-b"]])
        #expect(plan.applied.map(\.version) == [1, 2])
        #expect(plan.pending.map(\.version) == [3])
    }

    @Test func anUnknownTextIsRefusedByName() {
        // An earlier text of another migration does not count.
        #expect(throws: Migrator.ChangedMigration(name: "0002_b.sql", recorded: "old-a", carried: "sb")) {
            try MigrationPlan(migrations: migrations, checksums: sums, recorded: [1: "sa", 2: "old-a"],
                              earlierChecksums: [1: ["old-a"]])
        }
    }

    @Test func versionsThisBinaryDoesNotCarryAreReported() throws {
        let plan = try MigrationPlan(migrations: migrations, checksums: sums, recorded: [1: "sa", 2: "sb", 3: "sc", 7: "x", 5: "y"],
                                     earlierChecksums: [:])
        #expect(plan.pending.isEmpty)
        #expect(plan.unknownVersions == [5, 7])
    }

    @Test func onlyNewAndChangedFunctionFilesAreApplied() {
        let files = ["a.sql", "b.sql", "c.sql", "d.sql"].map { FunctionFile(name: $0, sql: $0) }
        let plan = FunctionPlan(files: files, checksums: ["a.sql": "1", "b.sql": "2", "c.sql": "3", "d.sql": "4"],
                                recorded: ["a.sql": "1", "b.sql": "old", "d.sql": "4", "gone.sql": "9"])
        #expect(plan.changed.map(\.name) == ["b.sql", "c.sql"])
        #expect(plan.unchanged.map(\.name) == ["a.sql", "d.sql"])
    }

    @Test func theSchemaStateNamesWhatIsMissing() {
        let carried = ["a.sql": "1", "b.sql": "2"]
        func state(_ version: Int?, _ recorded: [String: String]) -> SchemaState {
            SchemaState(appliedVersion: version, newestCarried: 13, recordedFunctions: recorded, carriedFunctions: carried)
        }
        #expect(state(nil, [:]) == .missing)
        #expect(state(12, carried) == .behind(applied: 12, needed: 13))
        #expect(state(13, carried) == .current)
        #expect(state(13, ["a.sql": "1", "b.sql": "2", "gone.sql": "3"]) == .current, "a file this binary lacks does not matter")
        #expect(state(13, ["a.sql": "0"]) == .functionsDiffer(files: ["a.sql", "b.sql"]))
        #expect(state(14, [:]) == .newer(applied: 14), "a newer baton's functions are not judged")
    }
}
