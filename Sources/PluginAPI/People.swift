/// The deployment's people, as far as a cog may know them: who a user id is and whether they act in a guild.
/// Use it to check an id a caller names (the staff member a ticket is assigned to) before storing it.
public protocol PeopleDirectory: Sendable {
    /// The active user `userID` if they act in `guild` — a member of it, an admin, or, for the default guild, someone
    /// who belongs to no guild — else nil.
    func person(_ userID: Int64, in guild: GuildScope) async throws -> Identity?

    /// The active guild `id`, else nil (contract 1.2): check a guild an admin names (the target of a move) before
    /// storing rows for it.
    func guild(_ id: Int64) async throws -> GuildScope?

    /// The active user named `username`, else nil (contract 1.2): how rows imported from another deployment find
    /// their people here, where user ids differ.
    func person(named username: String) async throws -> Identity?
}
