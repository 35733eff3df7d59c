import ArgumentParser
import Baton
import BatonHost
import Foundation

/// Errors of the CLI itself.
enum CLIError: Error, CustomStringConvertible {
    case usage(String)
    var description: String {
        switch self {
        case .usage(let message): message
        }
    }
}

/// Exit codes, documented in docs/reference.md.
enum ExitStatus {
    static let failure: Int32 = 1
    static let usage: Int32 = 2
    static let unknownID: Int32 = 3
    static let wrongState: Int32 = 4
    static let badInput: Int32 = 5
    static let databaseUnavailable: Int32 = 6
}

/// Prints a clear message for `error` on stderr and returns the exit code for it.
func report(_ error: any Error) -> ExitCode {
    let (message, code) = explain(BatonError.from(error))
    FileHandle.standardError.write(Data("baton: error: \(message)\n".utf8))
    return ExitCode(code)
}

/// The message and exit code for an error.
func explain(_ error: any Error) -> (String, Int32) {
    if let error = error as? BatonError {
        switch error {
        case .unknownSession, .unknown: return ("\(error). List sessions with `baton session list`.", ExitStatus.unknownID)
        case .wrongState, .invalidTransition: return ("\(error).", ExitStatus.wrongState)
        case .badInput: return ("\(error).", ExitStatus.badInput)
        }
    }
    if let error = error as? DatabaseError {
        switch error {
        case .connection, .poolTimeout:
            return ("\(error). Check DATABASE_URL and that PostgreSQL is running.", ExitStatus.databaseUnavailable)
        case .server(let state, _, _, _) where ["3F000", "42883", "42P01"].contains(state):
            return ("\(error). The database has no Baton schema: run `baton migrate`.", ExitStatus.failure)
        default: return ("\(error)", ExitStatus.failure)
        }
    }
    if let error = error as? CLIError { return (error.description, ExitStatus.usage) }
    if let error = error as? ProcessHost.SchemaError { return (error.description, ExitStatus.usage) }
    if let error = error as? HealthFailure {
        return (error.message, error.databaseDown ? ExitStatus.databaseUnavailable : ExitStatus.failure)
    }
    return ("\(error)", ExitStatus.failure)
}

/// Runs a command body, turning errors into a message and an exit code.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        throw report(error)
    }
}

/// `compact`: one line per value (JSON Lines), for output that follows changes.
func printJSON<T: Encodable>(_ value: T, compact: Bool = false) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = compact ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func describe(_ progress: SessionProgress) -> String {
    var lines = [
        "session   \(progress.sessionId)",
        "status    \(progress.status.rawValue)",
        "phase     \(progress.currentPhase) of \(progress.totalPhases) (\(progress.completedPhases.count) completed)",
        "step      \(progress.currentStep?.rawValue ?? "-")",
    ]
    if progress.canProceed { lines.append("gate      waiting: run `baton advance \(progress.sessionId)` to go on") }
    else if progress.requiresManualTrigger { lines.append("gate      will wait for `baton advance` at a later gate") }
    lines.append("updated   \(progress.updatedAt) (version \(progress.version))")
    return lines.joined(separator: "\n")
}

func describe(_ session: Session) -> String {
    describe(session.progress) + "\nkind      \(session.kind)" + (session.error.map { "\nerror     \($0)" } ?? "")
}

func jsonText(_ value: JSONValue?) -> String {
    guard let value else { return "-" }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
}

/// Writes a line to stdout at once (print() is block-buffered when stdout is a pipe).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Rows under a header, each column as wide as its widest cell, two spaces apart.
func alignedTable(_ header: [String], _ rows: [[String]]) -> [String] {
    var widths = header.map(\.count)
    for row in rows {
        for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
    }
    return ([header] + rows).map { row in
        zip(row, widths).enumerated().map { i, pair in
            i == row.count - 1 ? pair.0 : pair.0.padding(toLength: pair.1, withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
}
