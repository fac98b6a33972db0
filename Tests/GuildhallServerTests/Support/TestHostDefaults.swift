import GuildhallTesting
import PluginAPI

extension TestHost {
    /// Serves the host tests' own cogs (``TestCogs``).
    func run<T: Sendable>(_ body: @Sendable (LiveServer) async throws -> T) async throws -> T {
        try await run(catalogue: TestCogs.all, body)
    }
}
