import Baton
import Testing

/// `baton.cron_check` in PostgreSQL and `CronExpression` in Swift accept the same expressions
/// and refuse the others with the same message.
@Suite struct CronContractTests {
    /// Hand-picked: every kind of refusal, near misses, odd whitespace and non-ASCII text.
    static let handWritten: [String] = [
        "* * * * *", "@daily", "@DAILY", " @Hourly\n", "@yearly", "@annually", "@monthly", "@weekly", "@midnight",
        "@reboot", "@", "@daily 0", "@ daily", "0 0 29 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30 2 MON",
        "0 0 30,31 FEB */1", "0 0 31 1-2 *", "0 0 */31 2 *", "*/15 9-17 * * MON-FRI", " \t0 0 1 1 *\n",
        "0-59/5 0-23/2 1-31/3 1-12/4 0-7/2", "5/10 * * * *", "00 000 001 01 00", "0000000000059 * * * *",
        "", " ", "\t\n", "* * * *", "0 * * * * *", "0\u{A0}0 * * *", "0\r\n0 * * *", "\u{0B}0\u{0C}0 * * *\r",
        "61 * * * *", "1,61 * * * *", "50-60 * * * *", "99999999999999999999 * * * *", "* 24 * * *", "* * 0 * *",
        "* * 32 * *", "* * * 0 *", "* * * 13 *", "* * * * 8", "-1 * * * *", "5-1 * * * *", "0,5-1/2 * * * *",
        "* * * * SAT-SUN", "*/0 * * * *", "*/60 * * * *", "* * * * */8", "* */24 * * *", "* * * */13 *",
        "1,,2 * * * *", ",1 * * * *", "* * 1, * *", ",", "1-2-3 * * * *", "* 1,*/ * * *", "* * * * 1/2/3",
        "** * * * *", "*-5 * * * *", "* * * * 5MON", "* * * * MON/FRI", "JAN * * * *", "* 1,mon-fri * * *",
        "* * L * *", "* * * JANUARY *", "* * * 1,FOO *", "* * * * MON-XYZ", "* * * * JAN", "0 0 ? * MON",
        "0 0 * * 5#3", "0 0 * Mär *", "0 0 * * ſun", "٣ * * * *", "0 0 @ * *", "'; * * * *", "e\u{301} * * * *",
        "61 24 * * *", "70,a * * * *", "a# * * * *", "9-1/0 * * * *", "* * 0 * 8", "0 0 30 2 8", "0 0 * * Ｍon",
        "% * * * *", "\\ * * * *", "\"0\" * * * *", "0 0 * * sun-sat", "0 0 * dec-jan *", "*/1 */1 */1 */1 */1",
        "*/01 * * * *", "0 0 1-31 * *", "0 0 * * 7", "0 0 * * 0-7", "0 0 31 */2 *", "0 0 31 2/2 *",
    ]

    @Test func sqlAndSwiftAgreeOnEveryExpression() async throws {
        let db = try await TestDatabase.create()
        // One round trip: each expression checked inside its own exception block.
        try await db.query("""
            CREATE FUNCTION public.cron_try(e text, OUT valid text, OUT state text, OUT message text)
            LANGUAGE plpgsql AS $$
            BEGIN
                valid := baton.cron_check(e);
            EXCEPTION WHEN OTHERS THEN
                state := SQLSTATE;
                message := SQLERRM;
            END
            $$
            """)
        var random = SplitMix64(state: 0xBA70)
        let corpus = Self.handWritten + (0..<1500).map { _ in CorpusGenerator.structured(&random) }
            + (0..<1500).map { _ in CorpusGenerator.noise(&random) }
        let rows = try await db.query("""
            SELECT r.valid, r.state, r.message
            FROM unnest($1::text[]) WITH ORDINALITY AS t(e, n), LATERAL public.cron_try(t.e) r
            ORDER BY t.n
            """, [PGText.array(corpus.map { Optional($0) })]).records
        #expect(rows.count == corpus.count)
        var valid = 0, invalid = 0
        for (text, row) in zip(corpus, rows) {
            do {
                let expression = try CronExpression(text)
                #expect(row["valid"] == expression.text && row["state"] == nil,
                        "SQL refused what Swift accepts: \(String(reflecting: text)): \(row["message"] ?? "")")
                valid += 1
            } catch {
                #expect(row["state"] == "BT400" && row["message"] == error.message,
                        "\(String(reflecting: text)):\n  swift: \(error.message)\n  sql:   \(row["message"] ?? "accepted as \(row["valid"] ?? "")")")
                invalid += 1
            }
        }
        #expect(valid > 800 && invalid > 800, "the corpus exercises both sides: \(valid) valid, \(invalid) invalid")
    }

    @Test func theFunctionIsImmutableAndRefusesNull() async throws {
        let db = try await TestDatabase.create()
        #expect(try await db.scalar("SELECT provolatile FROM pg_proc WHERE oid = 'baton.cron_check(text)'::regprocedure") == "i")
        #expect(try await db.scalar("SELECT baton.cron_check(E'\\t*/5 * * * MON-FRI \\n')") == "*/5 * * * MON-FRI")
        await #expect {
            try await db.query("SELECT baton.cron_check(NULL)")
        } throws: { error in
            (error as? DatabaseError)?.sqlState == "BT400"
        }
    }
}

/// Expressions for the contract: `structured` ones are mostly well formed, with values near
/// and past every bound; `noise` ones are glued from fragments, separators and junk.
enum CorpusGenerator {
    static func pick<T>(_ options: [T], _ random: inout SplitMix64) -> T {
        options[Int.random(in: 0..<options.count, using: &random)]
    }

    /// (lowest, highest, names) of the five fields.
    static let fields: [(Int, Int, [String])] = [
        (0, 59, []), (0, 23, []), (1, 31, []),
        (1, 12, ["JAN", "feb", "Mar", "apr", "MAY", "jun", "Jul", "AUG", "sep", "Oct", "nov", "DEC"]),
        (0, 7, ["SUN", "mon", "Tue", "wed", "THU", "fri", "Sat"]),
    ]
    /// What goes wrong now and then: values past a bound, unknown names, empty items, steps 0.
    static let mistakes = ["60", "24", "32", "0", "13", "8", "-1", "FOO", "JAN", "MON", "", "*/0", "5-1", "00", "0007",
                           "999999999", "1-2-3", "*/", "L", "7/0", "*-1"]

    /// `n` as a number (now and then with a leading zero) or, in month and day-of-week, a name.
    static func render(_ n: Int, _ field: (Int, Int, [String]), _ random: inout SplitMix64) -> String {
        let (low, _, names) = field
        if n - low < names.count && Bool.random(using: &random) { return names[n - low] }
        return Int.random(in: 0..<8, using: &random) == 0 ? "0\(n)" : "\(n)"
    }

    static func item(_ field: (Int, Int, [String]), _ random: inout SplitMix64) -> String {
        if Int.random(in: 0..<25, using: &random) == 0 { return pick(mistakes, &random) }
        let x = Int.random(in: field.0...field.1, using: &random), y = Int.random(in: field.0...field.1, using: &random)
        let a = render(min(x, y), field, &random), b = render(max(x, y), field, &random)
        let step = String(Int.random(in: 1...max(1, field.1 / 2), using: &random))
        return pick(["*", a, a, "\(a)-\(b)", "*/\(step)", "\(a)-\(b)/\(step)", "\(a)/\(step)", "*/1"], &random)
    }

    static func structured(_ random: inout SplitMix64) -> String {
        let count = pick([5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 6], &random)
        return (0..<count).map { index in
            let field = fields[index % 5]
            if Int.random(in: 0..<3, using: &random) == 0 { return "*" }
            return (0..<Int.random(in: 1...3, using: &random)).map { _ in item(field, &random) }.joined(separator: ",")
        }.joined(separator: pick([" ", " ", "\t", "  "], &random))
    }

    static let fragments = ["*", "*", "0", "1", "7", "12", "29", "31", "59", "60", "-", "/", ",", "*/", "/0", "/2",
                            "JAN", "mon", "Fri", "XYZ", "#", "?", "L", "W", "é", "'", "%", "@", "ſ", "٣", "Ａ", "\u{301}", ";"]
    static let separators = [" ", " ", " ", "  ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{A0}", "\u{3000}"]

    static func noise(_ random: inout SplitMix64) -> String {
        if Int.random(in: 0..<20, using: &random) == 0 {
            return pick(["@", " @"], &random) + pick(["daily", "DAILY", "Hourly", "reboot", "dai ly", "weekly x", "yearly\t"], &random)
        }
        var text = pick(["", "", " ", "\t", "\n"], &random)
        let count = pick([5, 5, 5, 5, 5, 4, 6, 1], &random)
        for index in 0..<count {
            if index > 0 { text += pick(separators, &random) }
            for _ in 0..<Int.random(in: 1...3, using: &random) { text += pick(fragments, &random) }
        }
        return text + pick(["", "", " ", "\n"], &random)
    }
}

/// A seeded generator, so the corpus repeats exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
