import Foundation
import Testing

/// The deployment files under deploy/ (container image, compose file, systemd units,
/// Kubernetes manifests), checked by deploy/check.py with the examples' Python: how they fit
/// together, the hardening, the shutdown grace against the binary's default, and, where the
/// tools are installed, the Kubernetes schemas, `systemd-analyze verify` and `docker compose config`.
struct DeployFilesTests {
    /// Runs deploy/check.py; returns its exit status and everything it printed.
    static func check(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = try BatonProcess(program: try TestEnvironment.python,
                                       [TestEnvironment.repository + "/deploy/check.py"] + arguments)
        return (await process.waitForExit(), process.output)
    }

    @Test func deployFilesPassEveryCheck() async throws {
        let run = try await Self.check([])
        #expect(run.status == 0, "deploy/check.py exited \(run.status):\n\(run.output)")
        #expect(run.output.contains("deploy/ passes every check"), "\(run.output)")
    }

    /// The checker can fail: its self-test breaks copies of the files one way at a time (a
    /// readiness probe removed, a termination grace of 10 s, no USER, session pooling,
    /// TimeoutStopSec=5, ...) and every break must be reported against the broken file.
    @Test func everyBreakOfTheDeployFilesIsReported() async throws {
        let run = try await Self.check(["--self-test"])
        #expect(run.status == 0, "deploy/check.py --self-test exited \(run.status):\n\(run.output)")
        #expect(run.output.contains("the unbroken copy passes"), "\(run.output)")
        #expect(run.output.contains(", 0 not reported"), "\(run.output)")
    }
}
