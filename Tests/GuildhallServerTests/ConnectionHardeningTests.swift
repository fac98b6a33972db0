import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// Connections that cost the server without using it are ended or counted: an idle keep-alive connection, a
/// request whose head never ends, Socket.IO sockets that never send their connect packet.
final class ConnectionHardeningTests: XCTestCase {
    func testIdleAndHalfSentRequestsAreClosedWhileTheServerKeepsServing() async throws {
        let host = TestHost { $0.server.idleTimeoutSeconds = 0.5 }
        defer { host.removeFolder() }
        try await host.run { server in
            let idle = try RawSocket(port: server.port)
            let halfSent = try RawSocket(port: server.port)
            halfSent.send("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            // A header line every 200 ms: active on the wire, yet no request ever arrives.
            let trickle = try RawSocket(port: server.port)
            trickle.send("GET /api/health HTTP/1.1\r\n")
            for index in 0..<6 {
                try await Task.sleep(for: .milliseconds(200))
                trickle.send("X-Part-\(index): x\r\n")
            }
            XCTAssertTrue(idle.isClosed(within: .seconds(2)), "an idle connection is closed")
            XCTAssertTrue(halfSent.isClosed(within: .seconds(2)), "a head that never ends is closed")
            XCTAssertTrue(trickle.isClosed(within: .seconds(2)), "a head sent a line at a time is closed")
            // A kept-alive connection that asks again within the timeout stays open between requests.
            let active = try RawSocket(port: server.port)
            for _ in 0..<3 {
                active.send("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                try await Task.sleep(for: .milliseconds(250))
            }
            XCTAssertFalse(active.isClosed(within: .milliseconds(100)))
            try await assertEqual(await server.request(.GET, "/api/health").status, 200)
        }
    }

    func testSocketIOSocketsCountAgainstTheAddressBeforeTheyConnect() async throws {
        let host = TestHost { $0.gateway.maxConnectionsPerIP = 2 }
        defer { host.removeFolder() }
        try await host.run { server in
            // Two Engine.IO sockets that never send the Socket.IO connect packet hold the address's two places.
            let silent = (0..<2).map { _ in WSTestClient(port: server.port, path: "/socket.io/", query: "EIO=4&transport=websocket") }
            let counted = try await eventually { server.host.hub.socketCount(of: "127.0.0.1") == 2 }
            XCTAssertTrue(counted, "both silent sockets are counted")
            let third = WSTestClient(port: server.port, path: "/socket.io/", query: "EIO=4&transport=websocket")
            let closed = try await third.closeFrame()
            XCTAssertEqual(closed?.closeCode, .policyViolation, "the third is refused: \(String(describing: closed))")
            XCTAssertEqual(closed?.reason, "too many connections from this address")
            // Once they go, the address may connect again.
            for socket in silent { socket.close() }
            let admin = try await server.token("admin")
            let allowed = try await eventually(timeout: .seconds(3)) {
                let again = WSTestClient(port: server.port, path: "/ws", token: admin)
                defer { again.close() }
                return await again.next("connected", timeout: .seconds(1)) != nil
            }
            XCTAssertTrue(allowed)
        }
    }
}
