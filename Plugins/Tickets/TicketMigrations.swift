import PluginAPI

extension TicketStore {
    /// The tickets' tables, in the order they were introduced.
    static let migrations = [
        Migration("001_tickets") { sql in
            """
            CREATE TABLE tickets (
                id \(sql.autoIncrementingKey),
                user_id INTEGER NOT NULL,
                user_name TEXT NOT NULL,
                subject TEXT NOT NULL,
                category TEXT,
                status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
                created_at TEXT NOT NULL,
                last_activity_at TEXT NOT NULL,
                closed_at TEXT,
                closed_by TEXT,
                last_message TEXT
            );
            CREATE INDEX tickets_by_user ON tickets (user_id, status);
            CREATE INDEX tickets_by_activity ON tickets (last_activity_at DESC, id DESC);
            CREATE TABLE ticket_messages (
                id \(sql.autoIncrementingKey),
                ticket_id INTEGER NOT NULL REFERENCES tickets (id),
                author_id INTEGER NOT NULL,
                author_name TEXT NOT NULL,
                content TEXT NOT NULL,
                timestamp TEXT NOT NULL,
                is_admin INTEGER NOT NULL,
                is_system INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX ticket_messages_by_ticket ON ticket_messages (ticket_id, id);
            CREATE TABLE ticket_reads (
                ticket_id INTEGER NOT NULL REFERENCES tickets (id),
                user_id INTEGER NOT NULL,
                last_read_id INTEGER NOT NULL,
                PRIMARY KEY (ticket_id, user_id)
            );
            CREATE TABLE ticket_transcripts (
                ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),
                created_at TEXT NOT NULL,
                text TEXT NOT NULL
            )
            """
        },
        Migration(
            "002_ticket_guilds",
            """
            ALTER TABLE tickets ADD COLUMN guild_id INTEGER NOT NULL DEFAULT 1;
            CREATE INDEX tickets_by_guild ON tickets (guild_id, last_activity_at DESC, id DESC)
            """),
        // The admin app's fields: the opening text, claim and assignment, reopens, each message's author role.
        Migration(
            "003_ticket_handling",
            """
            ALTER TABLE tickets ADD COLUMN initial_message TEXT;
            ALTER TABLE tickets ADD COLUMN claimed_by INTEGER;
            ALTER TABLE tickets ADD COLUMN claimed_by_name TEXT;
            ALTER TABLE tickets ADD COLUMN assigned_to INTEGER;
            ALTER TABLE tickets ADD COLUMN assigned_to_name TEXT;
            ALTER TABLE tickets ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE ticket_messages ADD COLUMN author_role TEXT;
            UPDATE ticket_messages SET author_role = 'moderator' WHERE is_admin = 1 AND is_system = 0;
            UPDATE tickets SET initial_message = '**Subject:** ' || subject || '\n\n**Description:**\n'
                || COALESCE((SELECT m.content FROM ticket_messages m WHERE m.ticket_id = tickets.id ORDER BY m.id LIMIT 1), '');
            CREATE INDEX tickets_closed ON tickets (status, closed_at)
            """),
    ]
}
