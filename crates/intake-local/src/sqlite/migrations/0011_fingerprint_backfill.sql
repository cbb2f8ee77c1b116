-- Whether the fingerprint index was filled from the records stored before it existed (one row once
-- it was: when, and how many images it put), so that the local server does it once.
CREATE TABLE fingerprint_backfill (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    finished_at TEXT NOT NULL,
    images      INTEGER NOT NULL
);
