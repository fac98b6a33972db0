import Foundation
import GuildhallTesting
import PluginAPI
import XCTest

@testable import GuildhallServer

/// The host's mailer against a real SMTP server (aiosmtpd) on 127.0.0.1: what arrives, and every way it can fail.
final class MailTests: XCTestCase {
    func testAMessageArrivesWholeAndEveryFailureIsNamed() async throws {
        let server = try PeerProcess(peer: "smtp_peer.py", arguments: ["relay", "right-password"])
        defer { server.terminate() }
        let port = Int(try await server.nextEvent()?["port"]?.intValue ?? 0)
        var settings = SMTPSettings()
        settings.host = "127.0.0.1"
        settings.port = port
        settings.from = "bot@example.org"
        settings.username = "relay"
        settings.password = "right-password"

        let mailer = SMTPMailer(settings: settings)
        try await mailer.send(Mail(to: ["a@example.org", "b@example.org"], subject: "Grüße\r\nBcc: evil@example.org", text: "line one\n.dot line\n"))
        let arrived = try await server.nextEvent()
        XCTAssertEqual(arrived?["rcpt_tos"], ["a@example.org", "b@example.org"])
        let data = (arrived?["data"]?.stringValue ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        XCTAssertTrue(data.contains("Subject: =?utf-8?B?"), "non-ASCII subject encoded, on one line: \(data)")
        XCTAssertFalse(data.contains("\nBcc:"), "no header smuggled through the subject")
        XCTAssertTrue(data.hasSuffix("\n\nline one\n.dot line\n\n"), "the text as written, dots unstuffed: \(data)")

        var wrong = settings
        wrong.password = "wrong"
        await assertThrows(MailError.self, try await SMTPMailer(settings: wrong).send(Mail(to: ["a@example.org"], subject: "x", text: "y"))) {
            guard case .refused = $0 else { return XCTFail("\($0)") }
        }
        await assertThrows(MailError.self, try await mailer.send(Mail(to: ["a@example.org>\r\nRCPT TO:<b@example.org"], subject: "x", text: "y"))) {
            XCTAssertEqual($0, .invalidAddress("a@example.org>\r\nRCPT TO:<b@example.org"))
        }
        var closed = settings
        closed.port = try Self.closedPort()
        await assertThrows(MailError.self, try await SMTPMailer(settings: closed).send(Mail(to: ["a@example.org"], subject: "x", text: "y"))) {
            guard case .unreachable = $0 else { return XCTFail("\($0)") }
        }
        await assertThrows(MailError.self, try await SMTPMailer(settings: SMTPSettings()).send(Mail(to: ["a@example.org"], subject: "x", text: "y"))) {
            XCTAssertEqual($0, .notConfigured)
        }
    }

    func testBareLineEndsInATextBecomeCRLFSoNothingIsSmuggled() async throws {
        let server = try PeerProcess(peer: "smtp_peer.py", arguments: [])
        defer { server.terminate() }
        var settings = SMTPSettings()
        settings.host = "127.0.0.1"
        settings.port = Int(try await server.nextEvent()?["port"]?.intValue ?? 0)
        settings.from = "bot@example.org"
        // What a ticket message may hold: a bare CR before a dot (the end of DATA to a lax server), a bare CR and LF.
        try await SMTPMailer(settings: settings).send(Mail(to: ["a@example.org"], subject: "x", text: "hi\r.\r\nend\rmore\nlast"))
        let event = try await server.nextEvent()
        let data = try XCTUnwrap(event?["data"]?.stringValue)
        let body = data.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        let lines = body.components(separatedBy: "\r\n")
        XCTAssertEqual(lines, ["hi", ".", "end", "more", "last", ""], "every line end is CRLF, the lone dot stuffed and unstuffed: \(lines)")
        XCTAssertFalse(lines.contains { $0.contains("\r") || $0.contains("\n") })
    }

    /// A port nothing listens on.
    static func closedPort() throws -> Int {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func assertThrows<E: Error>(
        _ type: E.Type, _ body: @autoclosure () async throws -> Void, file: StaticString = #filePath, line: UInt = #line,
        _ check: (E) -> Void
    ) async {
        do {
            try await body()
            XCTFail("did not throw", file: file, line: line)
        } catch let error as E {
            check(error)
        } catch {
            XCTFail("threw \(error)", file: file, line: line)
        }
    }
}
