import Foundation

/// `builtin:echo`: returns the session's input with the step's coordinates, for the quick
/// start, tests and benchmarks. Optional keys in the session input:
/// `delayMs` (wait before answering), `failAttempts` (fail while the attempt number is at most
/// this), `failPermanently` (true: fail at once without retries, so the session FAILS), and
/// `failSteps` (limit both to these steps, e.g. ["EXECUTE"]).
public struct EchoHandler: StepHandler {
    public init() {}

    public func run(_ step: StepContext) async throws -> String {
        // Parse only when the input may hold an option: the benchmark path stays parse-free.
        if step.inputJSON.contains("delayMs") || step.inputJSON.contains("fail") {
            let options = (try? JSONSerialization.jsonObject(with: Data(step.inputJSON.utf8))) as? [String: Any] ?? [:]
            if let delay = (options["delayMs"] as? NSNumber)?.intValue, delay > 0 {
                try await Task.sleep(for: .milliseconds(delay))
            }
            let steps = options["failSteps"] as? [String]
            let thisStep = steps == nil || steps!.contains(step.step.rawValue)
            if thisStep, options["failPermanently"] as? Bool == true {
                throw StepFailure("echo: failing \(step.step.rawValue) for good as asked (failPermanently)", permanent: true)
            }
            if thisStep, let failAttempts = (options["failAttempts"] as? NSNumber)?.intValue, step.attempt <= failAttempts {
                throw StepFailure("echo: failing attempt \(step.attempt) of \(step.step.rawValue) as asked (failAttempts=\(failAttempts))")
            }
        }
        return "{\"echo\":\(step.inputJSON),\"step\":\"\(step.step.rawValue)\",\"phase\":\(step.phase),\"attempt\":\(step.attempt)}"
    }
}
