import Foundation
import NIOCore
import NIOPosix
import PluginAPI

/// Sends mail through the `smtp` relay: one connection per message (EHLO, optional AUTH PLAIN, MAIL FROM, RCPT TO,
/// DATA, QUIT). Mail is rare here (a transcript per closed ticket), so there is no pool and no queue; a failure is
/// the caller's to log.
public struct SMTPMailer: MailSender {
    let settings: SMTPSettings

    public init(settings: SMTPSettings) {
        self.settings = settings
    }

    public var isConfigured: Bool { !settings.host.isEmpty }

    public func send(_ mail: Mail) async throws {
        guard isConfigured else { throw MailError.notConfigured }
        for address in [settings.from] + mail.to { try Self.check(address) }
        guard !mail.to.isEmpty else { throw MailError.invalidAddress("(no recipient)") }
        let timeout = Duration.milliseconds(Int64(settings.timeoutSeconds * 1000))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await converse(mail) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw MailError.unreachable("no answer within \(settings.timeoutSeconds) s")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func converse(_ mail: Mail) async throws {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(Int64(settings.timeoutSeconds * 1000)))
                .connect(host: settings.host, port: settings.port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
        } catch {
            throw MailError.unreachable("\(settings.host):\(settings.port): \(error)")
        }
        try await channel.executeThenClose { inbound, outbound in
            var replies = SMTPReplies(inbound.makeAsyncIterator())
            func step(_ line: String?, expect code: Int) async throws {
                if let line { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
                let reply = try await replies.next()
                guard reply.code == code else { throw MailError.refused(reply.text) }
            }
            try await step(nil, expect: 220)
            try await step("EHLO \(settings.heloName)", expect: 250)
            if !settings.username.isEmpty {
                let token = Data("\0\(settings.username)\0\(settings.password)".utf8).base64EncodedString()
                try await step("AUTH PLAIN \(token)", expect: 235)
            }
            try await step("MAIL FROM:<\(settings.from)>", expect: 250)
            for recipient in mail.to { try await step("RCPT TO:<\(recipient)>", expect: 250) }
            try await step("DATA", expect: 354)
            try await outbound.write(ByteBuffer(string: message(mail)))
            try await step(".", expect: 250)
            try? await step("QUIT", expect: 221)
        }
    }

    /// The message: headers, then the text with CRLF line ends and leading dots doubled (RFC 5321 4.5.2). Every line
    /// end the text has — CRLF, a bare LF or a bare CR — becomes one CRLF: a bare CR or LF in DATA is what SMTP
    /// smuggling is made of (a relay and the next server reading the end of the message at different places).
    func message(_ mail: Mail) -> String {
        var lines = [
            "From: \(settings.from)", "To: \(mail.to.joined(separator: ", "))", "Subject: \(Self.header(mail.subject))",
            "Date: \(Self.rfc5322Date())", "Message-ID: <\(UUID().uuidString)@\(settings.heloName)>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "",
        ]
        let text = mail.text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lines.append(line.hasPrefix(".") ? "." + line : String(line))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A header value on one line; non-ASCII text as an RFC 2047 encoded word.
    static func header(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard flat.unicodeScalars.contains(where: { !$0.isASCII }) else { return flat }
        return "=?utf-8?B?\(Data(flat.utf8).base64EncodedString())?="
    }

    static func rfc5322Date(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    /// Refuses what would break the conversation or smuggle a command: no line breaks, angle brackets or spaces, one `@`.
    static func check(_ address: String) throws {
        let forbidden = CharacterSet(charactersIn: "<>\r\n ")
        guard address.filter({ $0 == "@" }).count == 1, !address.hasPrefix("@"), !address.hasSuffix("@"),
            address.rangeOfCharacter(from: forbidden) == nil
        else { throw MailError.invalidAddress(address) }
    }
}

/// The server's replies, each possibly of several lines (`250-...` continued, `250 ...` last).
private struct SMTPReplies {
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var pending = ""

    init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.inbound = inbound
    }

    mutating func next() async throws -> (code: Int, text: String) {
        var text: [String] = []
        while true {
            let line = try await nextLine()
            text.append(line)
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw MailError.refused(line) }
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] != "-" {
                return (code, text.joined(separator: " "))
            }
        }
    }

    private mutating func nextLine() async throws -> String {
        while true {
            if let end = pending.range(of: "\r\n") {
                let line = String(pending[..<end.lowerBound])
                pending.removeSubrange(..<end.upperBound)
                return line
            }
            guard var buffer = try await inbound.next() else { throw MailError.unreachable("the server closed the connection") }
            pending += buffer.readString(length: buffer.readableBytes) ?? ""
            guard pending.utf8.count < 64 * 1024 else { throw MailError.refused("an over-long reply") }
        }
    }
}
