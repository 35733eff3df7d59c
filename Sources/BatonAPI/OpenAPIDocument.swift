/// The OpenAPI 3.1 document of Baton's HTTP API, served at `GET /openapi.json`. A test checks
/// that every registered route is in it and that real responses match its schemas.
///
/// The document itself is `Resources/openapi.json`; Package.swift embeds it in the binary
/// (`.embedInCode`), and SwiftPM generates `PackageResources.openapi_json` with its bytes.
enum OpenAPIDocument {
    static let json = String(decoding: PackageResources.openapi_json, as: UTF8.self)
}
