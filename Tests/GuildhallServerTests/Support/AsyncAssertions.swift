import XCTest
import PluginAPI

// XCTest's assertions take synchronous autoclosures; these await the value first.

func assertEqual<T: Equatable>(
    _ value: @autoclosure () async throws -> T, _ expected: @autoclosure () -> T, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) async rethrows {
    let actual = try await value()
    XCTAssertEqual(actual, expected(), message, file: file, line: line)
}

func assertNotEqual<T: Equatable>(
    _ value: @autoclosure () async throws -> T, _ other: @autoclosure () -> T, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) async rethrows {
    let actual = try await value()
    XCTAssertNotEqual(actual, other(), message, file: file, line: line)
}

func assertTrue(
    _ value: @autoclosure () async throws -> Bool, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) async rethrows {
    let actual = try await value()
    XCTAssertTrue(actual, message, file: file, line: line)
}

func assertFalse(
    _ value: @autoclosure () async throws -> Bool, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) async rethrows {
    let actual = try await value()
    XCTAssertFalse(actual, message, file: file, line: line)
}

func assertNil<T>(
    _ value: @autoclosure () async throws -> T?, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) async rethrows {
    let actual = try await value()
    XCTAssertNil(actual, message, file: file, line: line)
}
