import ArgumentParser
import Baton
import Foundation

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Turn a table's row changes into sessions, coalesced per key.",
        discussion: """
            Every committed INSERT, UPDATE (of --columns, when given) and DELETE of a watched row creates a
            session of the kind for the row's key, in the same transaction. Per key at most one session is
            queued and one runs: changes to a key whose session has not started fold into it (it reads the
            newest row when it starts), and a change while one runs queues exactly one more after it.
            """,
        subcommands: [AddWatch.self, ListWatches.self, RemoveWatch.self])
}

struct AddWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Watch a table (again: replace its watch).")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The table, as schema.table (e.g. public.episodes).") var table: String
    @Option(help: "The kind of the sessions its changes create.") var kind: String
    @Option(name: .customLong("key-column"), help: "The key: one NOT NULL column with a unique index (default id).") var keyColumn: String?
    @Option(help: "Phases of each session (default 1).") var phases: Int?
    @Option(help: "Comma-separated columns whose changes count (default: any column).") var columns: String?
    @Option(name: .customLong("auto-phases"), help: "Phases advance by themselves (default true: nobody presses Proceed for a data change).")
    var autoPhases: Bool?

    func run() async throws {
        try await reportingErrors {
            let list = columns?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let watch = try await database.makeClient().watch(
                table: table, kind: kind, keyColumn: keyColumn, phases: phases, columns: list, autoPhases: autoPhases)
            if output.json { try printJSON(watch) } else { print("watching \(describe(watch))") }
        }
    }
}

struct ListWatches: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The watched tables.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingErrors {
            let watches = try await database.makeClient().watches()
            if output.json { try printJSON(watches); return }
            if watches.isEmpty { print("no watched tables; add one with `baton watch add <schema.table> --kind <kind>`") }
            for watch in watches { print(describe(watch)) }
        }
    }
}

struct RemoveWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Stop watching a table for a kind; sessions already created run on.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The table, as schema.table.") var table: String
    @Option(help: "The kind of the watch.") var kind: String

    func run() async throws {
        try await reportingErrors {
            let watch = try await database.makeClient().unwatch(table: table, kind: kind)
            if output.json { try printJSON(watch) } else { print("no longer watching \(describe(watch))") }
        }
    }
}

func describe(_ watch: Watch) -> String {
    let columns = watch.columns.map { "columns " + $0.joined(separator: ", ") } ?? "any column"
    let gone = watch.tableExists ? "" : "  (the table was dropped; remove this watch)"
    return "\(watch.table) → kind \(watch.kind)  key \(watch.keyColumn), \(columns), \(watch.phases) phase\(watch.phases == 1 ? "" : "s")\(gone)"
}
