import Foundation
import Logging
import GuildhallTesting
import PluginAPI
import Synchronization
import NIOFoundationCompat
import XCTest

@testable import GuildhallServer


final class CommandParsingTests: XCTestCase {
    func testArgumentsSplitOnSpacesWithQuotes() {
        XCTAssertEqual(CommandDispatcher.split(#"new "Printer on fire"  now "#), ["new", "Printer on fire", "now"])
        XCTAssertEqual(CommandDispatcher.split(#"a "" b"#), ["a", "", "b"])
        XCTAssertEqual(CommandDispatcher.split("   "), [])
    }

    func testSuggestionsRankByCloseness() {
        XCTAssertEqual(CommandDispatcher.closest(to: "ecoh", in: ["echo", "help", "cogs"], threshold: 0.6), ["echo"])
        XCTAssertEqual(CommandDispatcher.closest(to: "meme", in: ["memes", "meme"], threshold: 0.6), ["meme", "memes"])
        XCTAssertEqual(CommandDispatcher.closest(to: "xyz", in: ["echo"], threshold: 0.6), [])
    }
}
