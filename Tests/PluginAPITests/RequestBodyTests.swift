import PluginAPI
import XCTest

final class RequestBodyTests: XCTestCase {
    func testAStreamedBodyIsReadOnceAndASecondReaderIsRefused() async throws {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        continuation.yield(ByteBuffer(string: "hello, "))
        continuation.yield(ByteBuffer(string: "world"))
        continuation.finish()
        let body = RequestBody(stream)
        let first = try await body.collect(upTo: 100)
        XCTAssertEqual(String(buffer: first), "hello, world")
        do {
            _ = try await body.collect(upTo: 100)
            XCTFail("the stream was read already")
        } catch let error as APIError {
            XCTAssertEqual(error.code, "body_already_read")
        }
    }

    func testCollectingPastTheLimitIsA413() async throws {
        let body = RequestBody(buffer: ByteBuffer(string: String(repeating: "x", count: 64)))
        do {
            _ = try await body.collect(upTo: 10)
            XCTFail("too large")
        } catch let error as APIError {
            XCTAssertEqual(error.status, .contentTooLarge)
            XCTAssertEqual(error.code, "payload_too_large")
        }
    }
}
