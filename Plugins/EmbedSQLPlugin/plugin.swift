import Foundation
import PackagePlugin

/// Generates `EmbeddedSQL.swift` from the package's `sql/migrations/*.sql` and
/// `sql/functions/*.sql`, so the built binary carries its SQL and `baton migrate` works without
/// the source tree.
@main
struct EmbedSQLPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let sql = context.package.directoryURL.appending(path: "sql")
        let folders = [sql, sql.appending(path: "migrations"), sql.appending(path: "functions")]
        let files = try folders.dropFirst().flatMap { folder in
            try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sql" }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSQL.swift")
        return [
            .buildCommand(
                displayName: "Embedding sql/migrations and sql/functions",
                executable: try context.tool(named: "EmbedSQL").url,
                arguments: [output.path, sql.path],
                // The files, so that an edit rebuilds; the folders, so that an added file does
                // (SwiftPM plans the build again only when the package changes, so the tool
                // lists the folders itself instead of taking this list).
                inputFiles: folders + files,
                outputFiles: [output]
            )
        ]
    }
}
