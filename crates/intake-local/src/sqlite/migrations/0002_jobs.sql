-- The job queue, and the jobs it gave up on.
CREATE TABLE jobs (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    object_key     TEXT NOT NULL UNIQUE,
    due_ms         INTEGER NOT NULL,
    free_at_ms     INTEGER NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    lease_token    INTEGER,
    lease_until_ms INTEGER,
    again_ms       INTEGER,
    last_error     TEXT
);
CREATE INDEX jobs_by_free_at ON jobs (free_at_ms, seq);
CREATE TABLE dead_jobs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    object_key   TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    buried_at_ms INTEGER NOT NULL
);
