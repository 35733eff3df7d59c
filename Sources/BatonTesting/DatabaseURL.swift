/// Names another database on the same server: the admin URL with its database replaced. Pure
/// text work, so that a throwaway database is reached exactly as the admin database was
/// (user, password, host, port and parameters kept).
enum DatabaseURL {
    /// `url` (a `postgresql://` URL or a libpq `key=value` string) naming database `name`
    /// instead. `name` must be a plain identifier (the callers make it).
    static func replacingDatabase(in url: String, with name: String) -> String {
        for scheme in ["postgresql://", "postgres://"] where url.hasPrefix(scheme) {
            let rest = url.dropFirst(scheme.count)
            // The authority ends at the first "/" or "?"; the path runs to the "?".
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            let afterAuthority = rest[authorityEnd...]
            let query = afterAuthority.firstIndex(of: "?").map { afterAuthority[$0...] } ?? ""
            return scheme + authority + "/" + name + query
        }
        // key=value: a later keyword wins, so appending overrides any dbname given.
        return url + " dbname=" + name
    }

    /// Whether `prefix` can start a database name that needs no quoting.
    static func isPlainPrefix(_ prefix: String) -> Bool {
        guard let first = prefix.unicodeScalars.first, prefix.utf8.count <= 40 else { return false }
        let lower = "abcdefghijklmnopqrstuvwxyz_"
        return lower.unicodeScalars.contains(first)
            && prefix.unicodeScalars.allSatisfy { lower.unicodeScalars.contains($0) || ("0"..."9").contains($0) }
    }
}
