import Foundation
import Hummingbird
import Mustache

// Design: the server renders each page's frame from the Mustache templates in
// Resources/dashboard (layout, navigation, headings, the filter form with the values of the
// URL), and the page's script (dashboard.js) fetches every session's data from /api with the
// token and writes it into the DOM as text. Why not render the data on the server too: once
// BATON_API_TOKEN is set, reads need the token, and a browser sends a bearer token only from
// script; rendering data here would need a second way in (a cookie, with CSRF protection and
// a login form) beside the one the API already checks. So the pages and their script and style
// carry no data, are the same for everyone, and stay open (AccessPolicy); the data stays behind
// the token, which the page asks for once (on a 401) and keeps in sessionStorage.
//
// The templates, script and style are compiled into the binary (Package.swift, embedInCode),
// so `GET /` works from a copied binary with nothing else deployed, and no script is inline:
// the Content-Security-Policy allows scripts and styles from this origin only.

/// The dashboard: its pages (`/`, `/sessions/{id}`, `/statistics`, `/schedules`) and the files
/// they load (`/dashboard/dashboard.js`, `/dashboard/dashboard.css`).
enum Dashboard {
    /// The pages' paths other than `/sessions/{id}`, and the files they load.
    static let fixedPaths: Set<String> = ["/", "/statistics", "/schedules", scriptPath, stylePath]
    static let scriptPath = "/dashboard/dashboard.js"
    static let stylePath = "/dashboard/dashboard.css"
    static let sessionPrefix = "/sessions/"

    /// True for the dashboard's own paths, which carry no data and need no token to GET.
    static func isOwnPath(_ path: String) -> Bool {
        if fixedPaths.contains(path) { return true }
        guard path.hasPrefix(sessionPrefix) else { return false }
        let rest = path.dropFirst(sessionPrefix.count)
        return !rest.isEmpty && !rest.contains("/")
    }

    /// Scripts, styles, data and form posts from this origin only; no inline script or style,
    /// no frames, no plugins.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; "
        + "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let templates: [(String, [UInt8])] = [
            ("layout", PackageResources.layout_mustache),
            ("sessions", PackageResources.sessions_mustache),
            ("session", PackageResources.session_mustache),
            ("statistics", PackageResources.statistics_mustache),
            ("schedules", PackageResources.schedules_mustache),
        ]
        for (name, bytes) in templates {
            do {
                try library.register(String(decoding: bytes, as: UTF8.self), named: name)
            } catch {
                // The templates are part of the build; DashboardTests render every page.
                preconditionFailure("the dashboard template \(name).mustache does not parse: \(error)")
            }
        }
        return library
    }()

    static let script = ByteBuffer(bytes: PackageResources.dashboard_js)
    static let style = ByteBuffer(bytes: PackageResources.dashboard_css)

    /// One page of the dashboard, as the templates see it.
    enum Page: Equatable {
        case sessions(status: String?, kind: String?)
        case session(id: String)
        case statistics
        case schedules

        var template: String {
            switch self {
            case .sessions: "sessions"
            case .session: "session"
            case .statistics: "statistics"
            case .schedules: "schedules"
            }
        }

        var title: String {
            switch self {
            case .sessions: "Sessions"
            case .session(let id): "Session \(id)"
            case .statistics: "Statistics"
            case .schedules: "Schedules and watches"
            }
        }

        /// What the templates read (Mustache escapes every value it puts into the HTML).
        var context: [String: Any] {
            let navigation: [(href: String, label: String, current: Bool)] = [
                ("/", "Sessions", { if case .sessions = self { true } else if case .session = self { true } else { false } }()),
                ("/statistics", "Statistics", self == .statistics),
                ("/schedules", "Schedules and watches", self == .schedules),
            ]
            var context: [String: Any] = [
                "title": title,
                "page": template,
                "sessionId": "",
                "nav": navigation.map { ["href": $0.href, "label": $0.label, "current": $0.current] },
            ]
            switch self {
            case .sessions(let status, let kind):
                context["statuses"] = Dashboard.statuses.map { ["value": $0, "selected": $0 == status?.uppercased()] }
                context["kind"] = kind ?? ""
            case .session(let id):
                context["sessionId"] = id
            case .statistics, .schedules:
                break
            }
            return context
        }
    }

    static let statuses = ["PENDING", "THINKING", "EXECUTING", "INTEGRATING", "AWAITING_PROCEED", "COMPLETED", "FAILED", "CANCELLED"]

    /// The page's HTML.
    static func render(_ page: Page) -> String {
        guard let html = library.render(page.context, withTemplate: page.template) else {
            preconditionFailure("no dashboard template named \(page.template)")
        }
        return html
    }

    static func htmlResponse(_ page: Page) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: render(page))))
    }

    static func fileResponse(_ buffer: ByteBuffer, contentType: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = contentType
        // Revalidated on every load: a new binary's script is used at once.
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }

    static var securityHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        return headers
    }

    /// The routes besides `/` (which is in the API's table and its document): pages and files
    /// for people's browsers, not API operations, so not in the OpenAPI document.
    static var routes: [(path: String, handler: @Sendable (Request, BasicRequestContext) async throws -> Response)] {
        [
            ("/sessions/:id", { _, context in
                guard let raw = context.parameters.get("id"), let id = raw.removingPercentEncoding, !id.isEmpty else {
                    throw APIError.badParameter("the session id in the path is missing or not valid percent-encoding")
                }
                return htmlResponse(.session(id: id))
            }),
            ("/statistics", { _, _ in htmlResponse(.statistics) }),
            ("/schedules", { _, _ in htmlResponse(.schedules) }),
            (scriptPath, { _, _ in fileResponse(script, contentType: "text/javascript; charset=utf-8") }),
            (stylePath, { _, _ in fileResponse(style, contentType: "text/css; charset=utf-8") }),
        ]
    }

    /// `/` with its filters (`status`, `kind`) as the list's form shows them.
    static func sessionsPage(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        return htmlResponse(.sessions(status: query["status"].map(String.init), kind: query["kind"].map(String.init)))
    }
}
