import Foundation

// A step handler program for Baton's tests (not shipped). It reads the handler document on
// stdin and behaves as the session input's "mode" asks:
//   record  append "<session> <phase>.<step> <attempt> <start_ns> <end_ns> <pid>" to
//           $BATON_TEST_RECORD, holding the step for "holdMs" between start and end
//   garbage print text that is not JSON          exit1   write to stderr and exit 1
//   hang    never answer                           huge    print more than 1 MiB of JSON
//   hold-first  on attempt 1 of THINK, never answer
// "hang" and "hold-first" append their pid to the file named by "pidFile" first.
// A watch session (its document has "change") with BATON_TEST_MODE=record-change appends
// "<session> <phase>.<step> <attempt> <start_ns> <end_ns> <pid> <key> <row.n>" to
// $BATON_TEST_RECORD, holding the step BATON_TEST_HOLD_MS first.
// Anything else answers {"ok": true, ...} at once.

func nanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

let started = nanos()
let data = FileHandle.standardInput.readDataToEndOfFile()
guard let document = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let session = document["session"] as? [String: Any],
      let sessionID = session["id"] as? String,
      let step = document["step"] as? String,
      let phase = document["phase"] as? Int,
      let attempt = document["attempt"] as? Int
else {
    FileHandle.standardError.write(Data("test handler: unexpected document\n".utf8))
    exit(2)
}
let input = session["input"] as? [String: Any] ?? [:]
let environment = ProcessInfo.processInfo.environment
let change = document["change"] as? [String: Any]
let mode = change != nil && environment["BATON_TEST_MODE"] == "record-change" ? "record-change" : input["mode"] as? String ?? "ok"

func answer() {
    print("{\"ok\":true,\"session\":\(String(reflecting: sessionID)),\"step\":\"\(step)\",\"attempt\":\(attempt)}")
}

func holdForever(pidFile: String?) -> Never {
    if let pidFile {
        let fd = open(pidFile, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        let line = "\(getpid())\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
    while true { pause() }
}

switch mode {
case "record":
    let hold = input["holdMs"] as? Int ?? 0
    if hold > 0 { usleep(UInt32(hold * 1000)) }  // allowed: simulates a slow step
    let line = "\(sessionID) \(phase).\(step) \(attempt) \(started) \(nanos()) \(getpid())\n"
    let fd = open(environment["BATON_TEST_RECORD"] ?? "/dev/null", O_WRONLY | O_APPEND | O_CREAT, 0o644)
    _ = line.withCString { write(fd, $0, strlen($0)) }
    close(fd)
    answer()
case "record-change":
    let hold = Int(environment["BATON_TEST_HOLD_MS"] ?? "") ?? 0
    if hold > 0 { usleep(UInt32(hold * 1000)) }  // allowed: simulates a slow step
    let key = change?["key"] as? String ?? "?"
    let n = ((change?["row"] as? [String: Any])?["n"] as? Int).map(String.init) ?? "-"
    let line = "\(sessionID) \(phase).\(step) \(attempt) \(started) \(nanos()) \(getpid()) \(key) \(n)\n"
    let fd = open(environment["BATON_TEST_RECORD"] ?? "/dev/null", O_WRONLY | O_APPEND | O_CREAT, 0o644)
    _ = line.withCString { write(fd, $0, strlen($0)) }
    close(fd)
    answer()
case "garbage":
    print("this is not JSON, sorry")
case "exit1":
    FileHandle.standardError.write(Data("boom: the external service said no\n".utf8))
    exit(1)
case "hang":
    holdForever(pidFile: input["pidFile"] as? String)
case "huge":
    print("[\"" + String(repeating: "x", count: 2 << 20) + "\"]")
case "hold-first":
    if attempt == 1 && step == "THINK" { holdForever(pidFile: input["pidFile"] as? String) }
    answer()
default:
    answer()
}
