import Baton
import Hummingbird

/// `/api/tasks/{id}/complete|fail`: finish a step that an HTTP handler accepted with 202.
struct TaskRoutes: Sendable {
    let client: BatonClient
    let configuration: APIConfiguration

    func complete(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try Self.taskID(context)
        let fields = try JSONBody.object(try await JSONBody.text(of: request, limit: configuration.maxBodyBytes), allowed: ["result"])
        guard let result = try fields.storable("result") else {
            throw APIError.badParameter("field 'result' is required: the step's result, any JSON value")
        }
        return try JSONBody.response(.ok, try await client.completeTask(id, resultJSON: result))
    }

    func fail(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = try Self.taskID(context)
        let fields = try JSONBody.object(try await JSONBody.text(of: request, limit: configuration.maxBodyBytes), allowed: ["error"])
        guard let message = try fields.string("error", maxLength: 10_000) else {
            throw APIError.badParameter("field 'error' is required: a message saying why the step failed")
        }
        return try JSONBody.response(.ok, try await client.failTask(id, error: message))
    }

    static func taskID(_ context: some RequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw APIError.badParameter("a task id is a positive whole number (got '\(context.parameters.get("id") ?? "")')")
        }
        return id
    }
}
