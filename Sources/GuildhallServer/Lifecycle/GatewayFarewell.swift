import ServiceLifecycle

/// Closes every gateway connection as going away when the group shuts down. It stands last in the group, so it stops
/// first: the HTTP server's graceful shutdown would otherwise wait for open WebSocket connections.
struct GatewayFarewell: Service {
    let hub: GatewayHub

    func run() async {
        try? await gracefulShutdown()
        hub.closeAllGoingAway()
    }
}
