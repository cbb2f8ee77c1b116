-- Webhook subscriptions and their deliveries (see `webhooks.rs`): a delivery is pending while
-- `free_at_ms` (when it may be leased: its due time, or its lease's end) is set.
CREATE TABLE webhooks (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id        TEXT NOT NULL UNIQUE,
    owner             TEXT NOT NULL,
    url               TEXT NOT NULL,
    events            TEXT NOT NULL,
    secret            TEXT NOT NULL,
    description       TEXT,
    created_ms        INTEGER NOT NULL,
    disabled_ms       INTEGER,
    disabled_reason   TEXT,
    failures_in_a_row INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhooks_by_owner ON webhooks (owner, seq);
CREATE TABLE webhook_deliveries (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_ms          INTEGER,
    free_at_ms      INTEGER,
    lease_token     INTEGER,
    last_attempt_ms INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_by_free_at ON webhook_deliveries (free_at_ms, seq)
    WHERE free_at_ms IS NOT NULL;
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, seq);
