import Foundation
import PluginAPI

/// Memorable lines of a guild's members: anyone in the guild adds and reads them, moderators remove them, and
/// `!quote` recites one at random.
public struct QuotesCog: Cog {
    public typealias Configuration = QuotesConfig

    public static let manifest = CogManifest(
        id: "quotes", displayName: "Quotes", version: "1.0.0", contract: "2.0",
        summary: "A guild's memorable lines.", routePrefixes: ["/api/quotes"], configSection: "quotes")

    public static let migrations = [
        // The engines number rows differently; the rest of the statement is the same on both.
        Migration("001_quotes") { sql in
            """
            CREATE TABLE quotes (
                id \(sql.autoIncrementingKey), guild_id INTEGER NOT NULL, text TEXT NOT NULL,
                author TEXT NOT NULL, added_by TEXT NOT NULL, added_at TEXT NOT NULL);
            CREATE INDEX quotes_by_guild ON quotes (guild_id, id)
            """
        }
    ]

    public init() {}

    public func setup(_ context: any CogContext<QuotesConfig>) async throws {
        let quotes = Repository<Quote>(context.database)
        context.route(
            .post, "/api/quotes", access: .guild(.upload), summary: "Add a quote", body: NewQuote.self,
            responses: [.json(.created, Quote.self), .error(.badRequest, "empty_quote", "quote_too_long")]
        ) { call in
            let guild = try call.requireGuild()
            let text = call.body.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw APIError.badRequest("empty_quote", "Say something worth quoting.") }
            let limit = try context.config(for: guild).maxLength
            guard text.count <= limit else {
                throw APIError.badRequest("quote_too_long", "A quote has at most \(limit) characters.")
            }
            let quote = try await quotes.scoped(to: guild).insert(
                Quote(guildID: guild.id, text: text, author: call.body.author, addedBy: try call.requireIdentity().username, addedAt: Date()))
            context.events.publish("quote.added", payload: quote, guild: guild.id, correlationID: call.requestID)
            return JSONResponse(.created, quote)
        }
        context.route(
            .get, "/api/quotes", access: .guild(.query), summary: "The guild's quotes, newest first", query: PageQuery.self,
            responses: [.json(.ok, QuotePage.self)]
        ) { call in
            let paging = try Paging(call.query, defaultLimit: 20, max: 100)
            let page = try await quotes.scoped(to: call.requireGuild())
                .page(orderBy: [.descending("id")], limit: paging.limit, offset: paging.offset)
            return QuotePage(quotes: page.items, total: page.total)
        }
        context.route(
            .delete, "/api/quotes/{id}", access: .guild(.query, minimumRole: .moderator), summary: "Remove a quote",
            parameters: QuotePath.self, responses: [.json(.ok, Removed.self), .error(.notFound, "quote_not_found")]
        ) { call in
            guard try await quotes.scoped(to: call.requireGuild()).delete(call.parameters.id) else {
                throw APIError.notFound("quote_not_found", "The guild has no quote \(call.parameters.id).")
            }
            return Removed(removed: call.parameters.id)
        }
        context.command(BotCommand(name: "quote", usage: "!quote", summary: "A random quote of your guild") { call in
            guard let guild = call.guild else { throw CommandError("Chat in a guild to hear its quotes.") }
            let all = try await quotes.scoped(to: guild).page(limit: 1000).items
            guard let quote = all.randomElement() else { return "No quotes yet: add one with POST /api/quotes." }
            return "“\(quote.text)” — \(quote.author)"
        })
    }
}

/// The `quotes` section of config.yaml.
public struct QuotesConfig: CogConfiguration {
    /// The longest quote accepted, in characters.
    public var maxLength = 280
    public init() {}
    /// A length the host refuses to store outside of (contract 1.4): an admin's typo is a clear error, not a setting.
    public static var ranges: [String: ClosedRange<Double>] { ["max_length": 1...10_000] }
}

/// One quote: a row of the `quotes` table, in its guild.
public struct Quote: GuildRecord, ResponseConvertible, Equatable {
    public static let table = "quotes"
    public var id: Int64?
    public var guildID: Int64
    public var text: String
    public var author: String
    public var addedBy: String
    public var addedAt: Date
}

struct NewQuote: Decodable, Sendable {
    var text: String
    var author: String
}

struct QuotePath: Decodable, Sendable {
    var id: Int64
}

struct QuotePage: Codable, ResponseConvertible {
    var quotes: [Quote]
    var total: Int
}

struct Removed: Codable, ResponseConvertible {
    var removed: Int64
}
