-- The outbox (see `repository/outbox.rs`): the events each write of a record reports, inserted in
-- the same transaction as the write, in commit order, until they are published.
CREATE TABLE outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    type     TEXT NOT NULL,
    time_ms  INTEGER NOT NULL,
    owner    TEXT NOT NULL,
    image_id BLOB NOT NULL,
    body     TEXT NOT NULL
);
