import Foundation
import Logging
import PluginAPI
import ServiceLifecycle

/// How a host runs: every piece of long-running work is a `Service` of one `ServiceGroup`.
extension GuildhallHost {
    /// The host's services in the order the group starts them; it stops them in reverse, each once the one after it has
    /// returned. So on shutdown the gateway connections are closed first, then the HTTP server drains its requests, the
    /// background loops stop (writing out what they buffer), the host stops its cogs in reverse dependency order and
    /// closes the database, and the external cogs' callback server stops last (a draining cog may still call back).
    func services(application: (any Service)?) -> [any Service] {
        var services: [any Service] = [external.callbackServer(CogHostAPI(grants: external.callbacks, logger: logger)), self]
        services += backgroundLoops()
        if let application { services.append(application) }
        services.append(GatewayFarewell(hub: hub))
        return services
    }

    /// Serves until SIGTERM or SIGINT. If any service fails, the others are cancelled and the host still shuts down.
    public func serve() async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services(application: makeApplication()).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Runs the host's services — with `application` when there is one to serve — until `body`, called once the cogs
    /// have loaded, returns; then shuts them all down gracefully. For tests and the CLI's embedded host.
    public func running<T: Sendable>(application: (any Service)? = nil, _ body: @Sendable () async throws -> T) async throws -> T {
        let group = ServiceGroup(
            configuration: .init(services: services(application: application).map { .init(service: $0) }, logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            do {
                try await readiness.wait()
                let result = try await body()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// The host itself as a `Service`: loads the cogs, runs until the group shuts down gracefully or is cancelled,
    /// then — on every path, a failure of another service included — stops the cogs in reverse dependency order and
    /// closes the database.
    public func run() async throws {
        do {
            try await plugins.startUp(defaultEnabled: config.plugins.enabled)
            readiness.open()
            try? await gracefulShutdown()
        } catch {
            readiness.fail(error)
            await shutDownIgnoringCancellation()
            throw error
        }
        await shutDownIgnoringCancellation()
    }

    /// Shuts down in a task of its own: a cancelled service still drains its cogs for their full bound.
    private func shutDownIgnoringCancellation() async {
        let logger = self.logger
        await Task {
            do {
                try await self.shutDown()
            } catch {
                logger.error("shutdown failed", metadata: ["error": "\(error)"])
            }
        }.value
    }

    /// Stops the cogs in reverse dependency order, finishes event deliveries and closes the database.
    private func shutDown() async throws {
        closeGatewayConnections()
        await plugins.shutDown()
        await external.shutDown()
        await bus.stop()
        try await httpClient.shutdown()
        try database.close()
    }

    /// Closes every gateway connection as going away (the server is shutting down), so nothing waits on them.
    public func closeGatewayConnections() {
        hub.closeAllGoingAway()
    }
}
