import Baton
import Foundation
import Hummingbird

/// `/api/schedules…`: list, create or replace, show with its runs, remove, run now.
struct ScheduleRoutes: Sendable {
    let client: BatonClient
    let configuration: APIConfiguration

    static let createFields: Set<String> = ["name", "every", "cron", "timeZone", "kind", "input", "phases", "autoPhases"]

    struct List: Encodable {
        var schedules: [Schedule]
    }

    struct Detail: Encodable {
        var schedule: Schedule
        /// The newest runs, newest first.
        var runs: [ScheduleRun]
    }

    func list(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try SessionRoutes.refuseUnknown(request.uri.queryParameters, allowed: [])
        return try JSONBody.response(.ok, List(schedules: try await client.schedules()))
    }

    func create(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let fields = try JSONBody.object(try await JSONBody.text(of: request, limit: configuration.maxBodyBytes), allowed: Self.createFields)
        guard let name = try fields.string("name", maxLength: 100) else {
            throw APIError.badParameter("field 'name' is required: the schedule's name (letters, digits, _.:-)")
        }
        guard let kind = try fields.string("kind", maxLength: 100) else {
            throw APIError.badParameter("field 'kind' is required: the kind of the sessions it creates")
        }
        let every = try fields.string("every", maxLength: 100)
        let cron = try fields.string("cron", maxLength: 200)
        let zone = try fields.string("timeZone", maxLength: 100)
        guard (every == nil) != (cron == nil) else {
            throw APIError.badParameter("give exactly one of 'every' (a period such as \"5 minutes\") and 'cron' (such as \"*/5 * * * *\")")
        }
        if every != nil && zone != nil {
            throw APIError.badParameter("'timeZone' applies to 'cron' only: a fixed period does not depend on the clock's zone")
        }
        let spec: ScheduleSpec = every.map { .every($0) } ?? .cron(cron ?? "", timeZone: zone)
        let schedule = try await client.schedule(
            name: name, spec, kind: kind, inputJSON: try fields.storable("input"), phases: try fields.int("phases", in: 1...1000),
            autoPhases: try fields.bool("autoPhases"))
        var headers = HTTPFields()
        headers[.location] = "/api/schedules/" + SessionRoutes.pathEscaped(schedule.name)
        return try JSONBody.response(.created, schedule, headers: headers)
    }

    func show(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let name = try Self.name(context)
        try SessionRoutes.refuseUnknown(request.uri.queryParameters, allowed: [])
        guard let schedule = try await client.schedule(named: name) else {
            throw APIError.notFound("unknown schedule '\(name)'; list them with GET /api/schedules")
        }
        return try JSONBody.response(.ok, Detail(schedule: schedule, runs: try await client.scheduleRuns(name)))
    }

    func remove(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let name = try Self.name(context)
        try await SessionRoutes.requireNoBody(request, limit: configuration.maxBodyBytes)
        return try JSONBody.response(.ok, try await client.unschedule(name))
    }

    func runNow(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let name = try Self.name(context)
        try await SessionRoutes.requireNoBody(request, limit: configuration.maxBodyBytes)
        let session = try await client.runSchedule(name)
        var headers = HTTPFields()
        headers[.location] = "/api/sessions/" + SessionRoutes.pathEscaped(session.id)
        return try JSONBody.response(.created, session, headers: headers)
    }

    static func name(_ context: some RequestContext) throws -> String {
        guard let raw = context.parameters.get("name"), let name = raw.removingPercentEncoding, !name.isEmpty else {
            throw APIError.badParameter("the schedule name in the path is missing or not valid percent-encoding")
        }
        // As for every other value: PostgreSQL text cannot hold NUL, and no schedule is named so.
        guard !name.utf8.contains(0) else {
            throw APIError.badParameter("the schedule name contains a NUL character (\\0), which PostgreSQL text cannot hold")
        }
        return name
    }
}

/// `GET /api/watches`: the watched tables (watches are added with SQL or the CLI: they put
/// triggers on application tables, which is not for an HTTP client to do).
struct WatchRoutes: Sendable {
    let client: BatonClient

    struct List: Encodable {
        var watches: [Watch]
    }

    func list(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try SessionRoutes.refuseUnknown(request.uri.queryParameters, allowed: [])
        return try JSONBody.response(.ok, List(watches: try await client.watches()))
    }
}
