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
        // Breakdowns per encounter: by ability, deaths with their recap, interrupts and dispels, the timeline.
        Migration("003_breakdowns") { sql in
            """
            CREATE TABLE combatlog_abilities (
                guild_id INTEGER NOT NULL, encounter_id INTEGER NOT NULL, character_id INTEGER NOT NULL, kind TEXT NOT NULL,
                spell_id INTEGER NOT NULL, spell_name TEXT NOT NULL, school INTEGER NOT NULL, pet TEXT, hits INTEGER NOT NULL,
                crits INTEGER NOT NULL, total INTEGER NOT NULL, overkill INTEGER NOT NULL, absorbed INTEGER NOT NULL
            );
            CREATE INDEX combatlog_abilities_by_encounter ON combatlog_abilities (guild_id, encounter_id, character_id, kind);
            CREATE TABLE combatlog_deaths (
                guild_id INTEGER NOT NULL, encounter_id INTEGER NOT NULL, character_id INTEGER NOT NULL, at_ms INTEGER NOT NULL,
                killing_blow TEXT, events TEXT NOT NULL, resurrected_by TEXT, resurrected_at_ms INTEGER
            );
            CREATE INDEX combatlog_deaths_by_encounter ON combatlog_deaths (guild_id, encounter_id, at_ms);
            CREATE TABLE combatlog_interrupts (
                guild_id INTEGER NOT NULL, encounter_id INTEGER NOT NULL, character_id INTEGER NOT NULL, kind TEXT NOT NULL,
                spell_id INTEGER NOT NULL, spell_name TEXT NOT NULL, extra_spell_id INTEGER NOT NULL,
                extra_spell_name TEXT NOT NULL, count INTEGER NOT NULL
            );
            CREATE INDEX combatlog_interrupts_by_encounter ON combatlog_interrupts (guild_id, encounter_id, character_id);
            CREATE TABLE combatlog_timelines (
                guild_id INTEGER NOT NULL, encounter_id INTEGER NOT NULL, character_id INTEGER NOT NULL,
                damage TEXT NOT NULL, healing TEXT NOT NULL,
                PRIMARY KEY (guild_id, encounter_id, character_id)
            )
            """
        },
        // How often an interrupted upload was resumed: one that stopped the server again is failed, not retried.
        Migration("004_upload_resumes", "ALTER TABLE combatlog_uploads ADD COLUMN resumes INTEGER NOT NULL DEFAULT 0"),
    ]
}
