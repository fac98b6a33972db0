import PluginAPI

/// The cog's tables. Every one leads with `guild_id`, and so does every index, as the combat log document
/// prescribes: each query is one guild's.
enum CombatLogSchema {
    static let migrations = [
        Migration("001_combatlog") { sql in
            """
            CREATE TABLE combatlog_uploads (
                id TEXT PRIMARY KEY,
                guild_id INTEGER NOT NULL,
                guild_name TEXT NOT NULL,
                key_id INTEGER,
                uploaded_by TEXT NOT NULL,
                file_name TEXT NOT NULL,
                bytes INTEGER NOT NULL,
                status TEXT NOT NULL,
                progress REAL NOT NULL,
                bytes_parsed INTEGER NOT NULL DEFAULT 0,
                events INTEGER NOT NULL DEFAULT 0,
                encounters INTEGER NOT NULL DEFAULT 0,
                summary TEXT,
                error TEXT,
                created_at TEXT NOT NULL,
                finished_at TEXT
            );
            CREATE INDEX combatlog_uploads_by_guild ON combatlog_uploads (guild_id, created_at);
            CREATE TABLE combatlog_encounters (
                id \(sql.autoIncrementingKey),
                guild_id INTEGER NOT NULL,
                upload_id TEXT NOT NULL,
                encounter_id INTEGER NOT NULL,
                boss_name TEXT NOT NULL,
                instance_id INTEGER NOT NULL,
                instance_name TEXT,
                difficulty_id INTEGER NOT NULL,
                difficulty TEXT NOT NULL,
                group_size INTEGER NOT NULL,
                success INTEGER NOT NULL,
                complete INTEGER NOT NULL,
                start_time TEXT NOT NULL,
                duration_ms INTEGER NOT NULL,
                events INTEGER NOT NULL,
                total_damage INTEGER NOT NULL,
                total_healing INTEGER NOT NULL,
                deaths INTEGER NOT NULL
            );
            CREATE INDEX combatlog_encounters_by_guild_start ON combatlog_encounters (guild_id, start_time DESC);
            CREATE INDEX combatlog_encounters_by_guild_boss ON combatlog_encounters (guild_id, boss_name);
            CREATE TABLE combatlog_characters (
                id \(sql.autoIncrementingKey),
                guild_id INTEGER NOT NULL,
                guid TEXT NOT NULL,
                name TEXT NOT NULL,
                class TEXT,
                spec TEXT,
                first_seen TEXT NOT NULL,
                last_seen TEXT NOT NULL,
                UNIQUE (guild_id, guid)
            );
            CREATE INDEX combatlog_characters_by_guild_name ON combatlog_characters (guild_id, name);
            CREATE TABLE combatlog_metrics (
                guild_id INTEGER NOT NULL,
                encounter_id INTEGER NOT NULL,
                character_id INTEGER NOT NULL,
                damage_done INTEGER NOT NULL,
                healing_done INTEGER NOT NULL,
                overhealing INTEGER NOT NULL,
                absorbs_done INTEGER NOT NULL,
                damage_taken INTEGER NOT NULL,
                deaths INTEGER NOT NULL,
                active_time_ms INTEGER NOT NULL,
                dps REAL NOT NULL,
                hps REAL NOT NULL,
                PRIMARY KEY (guild_id, encounter_id, character_id)
            );
            CREATE INDEX combatlog_metrics_by_character ON combatlog_metrics (guild_id, character_id)
            """
        },
        // The specialisation id as the log wrote it, kept when the name table does not know it.
        Migration("002_spec_id", "ALTER TABLE combatlog_characters ADD COLUMN spec_id INTEGER"),
    ]
}
