import BatonCore
import Testing

/// BATON_RETENTION as text: what each form means, and a clear error for each kind of mistake.
@Suite struct RetentionPolicyTests {
    @Test(arguments: [
        ("14d", 14 * 86_400), ("36h", 36 * 3_600), ("90m", 90 * 60), ("60s", 60), ("1m", 60),
        (" 7d ", 7 * 86_400), ("0100d", 100 * 86_400),
    ])
    func aDurationIsTheDefault(text: String, seconds: Int) throws {
        let policy = try RetentionPolicy(parsing: text)
        #expect(policy == RetentionPolicy(defaultSeconds: seconds))
        #expect(!policy.keepsEverything)
    }

    @Test func offKeepsEverything() throws {
        let policy = try RetentionPolicy(parsing: "off")
        #expect(policy.defaultSeconds == nil && policy.kinds.isEmpty && policy.keepsEverything)
        #expect(try RetentionPolicy(parsing: "OFF") == policy)
    }

    @Test func kindsGetTheirOwnRules() throws {
        let policy = try RetentionPolicy(parsing: "36h, reports=90d ,scratch=off,a.b:c-d_e=2h")
        #expect(policy.defaultSeconds == 36 * 3_600)
        let expected: [String: Int?] = ["reports": 90 * 86_400, "scratch": nil as Int?, "a.b:c-d_e": 2 * 3_600]
        #expect(policy.kinds == expected)
        #expect(!policy.keepsEverything)
        // Rules without a default: other kinds keep the standard fourteen days.
        let onlyKinds = try RetentionPolicy(parsing: "reports=90d")
        #expect(onlyKinds.defaultSeconds == RetentionPolicy.standard.defaultSeconds)
        #expect(try RetentionPolicy(parsing: "off,reports=off").keepsEverything)
        #expect(try !RetentionPolicy(parsing: "off,reports=1d").keepsEverything)
    }

    @Test(arguments: [
        ("", RetentionError.empty), ("14", .badDuration("14")), ("d", .badDuration("d")), ("14w", .badDuration("14w")),
        ("-1d", .badDuration("-1d")), ("+1d", .badDuration("+1d")), ("1.5d", .badDuration("1.5d")),
        ("99999999999999d", .badDuration("99999999999999d")), ("36501d", .badDuration("36501d")),
        ("59s", .tooShort("59s")), ("0m", .tooShort("0m")),
        ("14d,,x=1d", .emptyEntry("14d,,x=1d")), ("14d,", .emptyEntry("14d,")),
        ("bad kind=1d", .badKind("bad kind")), ("=1d", .badKind("")),
        ("x=1d,x=2d", .duplicateKind("x")), ("14d,7d", .twoDefaults("14d,7d")), ("x=soon", .badDuration("soon")),
    ])
    func mistakesAreNamed(text: String, error: RetentionError) {
        #expect(throws: error) { try RetentionPolicy(parsing: text) }
        #expect(error.description.contains("BATON_RETENTION"))
    }
}
