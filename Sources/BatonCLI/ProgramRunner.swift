import Foundation

/// Runs a helper program (initdb, pg_ctl) to its end with posix_spawn and waitpid, on a
/// thread of its own. Output goes to a file, not a pipe: `pg_ctl start` leaves the server
/// holding whatever pg_ctl's output was, and a pipe would then never reach end-of-file.
enum ProgramRunner {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Returns the exit status and what the program printed.
    static func run(_ argv: [String], outputPath: String) async throws -> (status: Int32, output: String) {
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try spawnAndWait(argv, outputPath: outputPath) })
            }
            thread.start()
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (status, output)
    }

    private static func spawnAndWait(_ argv: [String], outputPath: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        guard spawned == 0 else {
            throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "waiting for \(argv[0]) failed") }
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
