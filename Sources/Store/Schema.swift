import GRDB

/// The store's schema, versioned in code. Never edit a shipped migration: add a new one.
///
/// Conventions: times are epoch milliseconds (INTEGER, exact and ordered like ``Timestamp``);
/// JSON documents are TEXT; every lookup of the hot path has an index (see `StoreTests`).
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-golden-records") { db in
            try db.execute(sql: """
                -- Golden records: current values, provenance, the ownership engine's state.
                CREATE TABLE records (
                    id TEXT PRIMARY KEY NOT NULL,
                    entity TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    fields TEXT NOT NULL,
                    provenance TEXT NOT NULL,
                    consent TEXT NOT NULL,
                    policy_state BLOB NOT NULL,
                    deleted_at INTEGER,
                    merged_into TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX records_live_by_entity ON records(entity) WHERE merged_into IS NULL AND deleted_at IS NULL;
                CREATE INDEX records_by_merged_into ON records(merged_into) WHERE merged_into IS NOT NULL;

                -- Crosswalk: (entity, system, external id) -> golden id; re-pointable.
                CREATE TABLE crosswalk (
                    entity TEXT NOT NULL,
                    system TEXT NOT NULL,
                    external_id TEXT NOT NULL,
                    golden_id TEXT NOT NULL,
                    event_id TEXT,
                    linked_at INTEGER NOT NULL,
                    PRIMARY KEY (entity, system, external_id)
                ) WITHOUT ROWID;
                CREATE INDEX crosswalk_by_golden_id ON crosswalk(golden_id);

                -- Identity index: every identifier seen on a live record.
                CREATE TABLE identifiers (
                    entity TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    value TEXT NOT NULL,
                    golden_id TEXT NOT NULL,
                    PRIMARY KEY (entity, kind, value, golden_id)
                ) WITHOUT ROWID;
                CREATE INDEX identifiers_by_golden_id ON identifiers(golden_id);

                -- How many live records carry each identifier (over-shared ones stop matching).
                CREATE TABLE identifier_counts (
                    entity TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    value TEXT NOT NULL,
                    record_count INTEGER NOT NULL,
                    PRIMARY KEY (entity, kind, value)
                ) WITHOUT ROWID;

                -- Remembered event ids and what became of them.
                CREATE TABLE events (
                    system TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    source TEXT,
                    outcome TEXT NOT NULL,
                    golden_id TEXT,
                    seen_at INTEGER NOT NULL,
                    PRIMARY KEY (system, event_id)
                ) WITHOUT ROWID;
                CREATE INDEX events_by_seen_at ON events(seen_at);

                CREATE TABLE merges (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    survivor_id TEXT NOT NULL,
                    absorbed_id TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    event_id TEXT,
                    merged_at INTEGER NOT NULL,
                    absorbed_external_ids TEXT NOT NULL
                );
                CREATE INDEX merges_by_survivor ON merges(survivor_id);
                CREATE INDEX merges_by_absorbed ON merges(absorbed_id);

                CREATE TABLE review_requests (
                    id TEXT PRIMARY KEY NOT NULL,
                    golden_id TEXT,
                    kind TEXT NOT NULL,
                    status TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    candidates TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    resolved_at INTEGER
                );
                CREATE INDEX review_requests_by_status ON review_requests(status, created_at, id);
                CREATE INDEX review_requests_by_golden_id ON review_requests(golden_id);

                -- Transactional outbox, published in id order by the relay.
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    topic TEXT NOT NULL,
                    key BLOB,
                    value BLOB NOT NULL,
                    headers TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    sent_at INTEGER
                );
                CREATE INDEX outbox_unsent ON outbox(id) WHERE sent_at IS NULL;
                CREATE INDEX outbox_by_topic_key ON outbox(topic, key, id);

                CREATE TABLE consumed_offsets (
                    topic TEXT NOT NULL,
                    partition INTEGER NOT NULL,
                    next_offset INTEGER NOT NULL,
                    PRIMARY KEY (topic, partition)
                ) WITHOUT ROWID;

                CREATE TABLE audit_heads (
                    golden_id TEXT PRIMARY KEY NOT NULL,
                    seq INTEGER NOT NULL,
                    last_hash TEXT NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE outcome_counters (
                    source TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    last_at INTEGER,
                    PRIMARY KEY (source, outcome)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2-dead-letter-replay") { db in
            try db.execute(sql: """
                -- One row per `crmsync dlq replay` run (dry runs are not recorded: they change nothing).
                CREATE TABLE dlq_replay_runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    dlq_topic TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    options TEXT NOT NULL,
                    target_topic TEXT,
                    status TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    finished_at INTEGER,
                    scope TEXT NOT NULL,
                    cursor TEXT NOT NULL,
                    scanned INTEGER NOT NULL DEFAULT 0,
                    matched INTEGER NOT NULL DEFAULT 0,
                    replayed INTEGER NOT NULL DEFAULT 0,
                    skipped INTEGER NOT NULL DEFAULT 0,
                    note TEXT
                );
                CREATE INDEX dlq_replay_runs_by_status ON dlq_replay_runs(status, id);

                -- Letters replayed so far, so a later run skips them unless asked `--again`.
                CREATE TABLE dlq_replayed (
                    dlq_topic TEXT NOT NULL,
                    partition INTEGER NOT NULL,
                    offset INTEGER NOT NULL,
                    run_id INTEGER NOT NULL,
                    replayed_at INTEGER NOT NULL,
                    -- Which letter sat there (original position and failure time): a recreated
                    -- DLQ reuses offsets, and its new letters were never replayed.
                    fingerprint TEXT NOT NULL,
                    PRIMARY KEY (dlq_topic, partition, offset)
                ) WITHOUT ROWID;
                """)
        }
        // `crmsync purge` finds records soft-deleted before a cutoff without scanning the table.
        migrator.registerMigration("v3-soft-deleted-index") { db in
            try db.execute(sql: """
                CREATE INDEX records_soft_deleted ON records(deleted_at, id)
                    WHERE deleted_at IS NOT NULL AND merged_into IS NULL;
                """)
        }
        migrator.registerMigration("v4-alarms") { db in
            try db.execute(sql: """
                -- Operator alarms (offset out of range: data expired before it was read).
                CREATE TABLE alarms (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    topic TEXT NOT NULL,
                    partition INTEGER NOT NULL,
                    lost_from INTEGER,
                    lost_to INTEGER,
                    resumed_at INTEGER NOT NULL,
                    detail TEXT NOT NULL,
                    raised_at INTEGER NOT NULL
                );
                CREATE INDEX alarms_by_kind ON alarms(kind, id);
                """)
        }
        migrator.registerMigration("v5-outbox-parking") { db in
            try db.execute(sql: """
                -- Outbox rows the broker will never accept (e.g. larger than message.max.bytes) are
                -- parked, so the rows behind them are published; `crmsync stats` counts them.
                ALTER TABLE outbox ADD COLUMN parked_at INTEGER;
                ALTER TABLE outbox ADD COLUMN park_reason TEXT;
                CREATE INDEX outbox_parked ON outbox(id) WHERE parked_at IS NOT NULL;
                """)
        }
        registerReviewPairMigration(&migrator)
        registerStoreBindingMigration(&migrator)
        migrator.registerMigration("v8-perf-audit-log") { db in
            try db.execute(sql: """
                -- Every audit event as published, for `audit`, `audit verify` and `purge`: the
                -- outbox only holds rows still to publish (the relay deletes delivered rows).
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY,
                    golden_id TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    value BLOB NOT NULL
                );
                CREATE UNIQUE INDEX audit_log_by_record ON audit_log(golden_id, seq);

                -- The audit events stores kept in the outbox so far (whatever the topic's name):
                -- JSON documents with an audit_id, a seq and a prev_hash.
                INSERT OR IGNORE INTO audit_log (id, golden_id, seq, value)
                SELECT id, CAST(key AS TEXT), json_extract(CAST(value AS TEXT), '$.seq'), value FROM outbox
                WHERE key IS NOT NULL AND CASE WHEN json_valid(CAST(value AS TEXT))
                    THEN json_type(CAST(value AS TEXT), '$.audit_id') = 'text'
                         AND json_type(CAST(value AS TEXT), '$.seq') = 'integer'
                         AND json_type(CAST(value AS TEXT), '$.prev_hash') = 'text'
                    ELSE 0 END;

                -- Delivered rows are kept no longer.
                DELETE FROM outbox WHERE sent_at IS NOT NULL AND parked_at IS NULL;
                """)
        }
        registerDeadLetterCounterMigration(&migrator)
        registerLastAppliedMigration(&migrator)
        return migrator
    }
}
