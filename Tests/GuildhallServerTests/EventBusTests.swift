import Foundation
import Logging
import GuildhallTesting
import PluginAPI
import Synchronization
import NIOFoundationCompat
import XCTest

@testable import GuildhallServer


final class EventBusTests: XCTestCase {
    func testListenersRunByPriorityAndAFailureStopsNoOne() async throws {
        let bus = EventBus(logger: Logger(label: "test"))
        let order = Mutex<[String]>([])
        let failures = Mutex(0)
        func listener(_ name: String, _ pattern: EventPattern, _ priority: Int, fails: Bool = false) -> EventBus.Listener {
            EventBus.Listener(
                id: bus.makeListenerID(), owner: name, pattern: pattern, priority: priority, scope: nil,
                handler: { _ in
                    order.withLock { $0.append(name) }
                    if fails { throw TestFailure("listener \(name) fails") }
                }, onFailure: { _ in failures.withLock { $0 += 1 } })
        }
        bus.add([listener("low", "ticket.*", -5), listener("exact", "ticket.opened", 0, fails: true), listener("high", "*", 10)])
        bus.add([listener("other", "config.changed", 100)])
        bus.publish("ticket.opened", payload: ["id": 1] as JSONValue)
        let delivered = try await eventually { order.withLock { $0.count } == 3 }
        XCTAssertTrue(delivered)
        XCTAssertEqual(order.withLock { $0 }, ["high", "exact", "low"])
        XCTAssertEqual(failures.withLock { $0 }, 1)
        await bus.stop()
    }

    func testEventsCarryTheirPayloadSourceAndCorrelation() async throws {
        let bus = EventBus(logger: Logger(label: "test"))
        let recorder = EventRecorder()
        bus.add([recorder.listener(bus, pattern: "a.b")])
        struct Payload: Codable, Sendable, Equatable { var name: String; var count: Int }
        bus.publish("a.b", payload: Payload(name: "x", count: 2), source: "echo", correlationID: "req-1")
        bus.publish("a.bc", payload: ["ignored": true] as JSONValue)
        try await assertTrue(await eventually { recorder.events.count == 1 })
        let event = try XCTUnwrap(recorder.events.first)
        XCTAssertEqual(try event.decode(Payload.self), Payload(name: "x", count: 2))
        XCTAssertEqual(event.source, "echo")
        XCTAssertEqual(event.correlationID, "req-1")
        await bus.stop()
    }
}
