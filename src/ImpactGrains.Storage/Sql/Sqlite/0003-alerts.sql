-- Alert rules, fired alerts and the webhook delivery outbox with its log of attempts.
CREATE TABLE alert_rules (
    id         TEXT    NOT NULL PRIMARY KEY,
    target     TEXT    NOT NULL,            -- entity id, 'group:<id>' or '*'
    metric     TEXT    NOT NULL,
    threshold  REAL    NOT NULL,
    cool_down  INTEGER NOT NULL,            -- ticks
    webhook    TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    created_at INTEGER NOT NULL             -- UTC ticks
) WITHOUT ROWID;

-- Alerts outlive their rules, so rule_id has no foreign key.
CREATE TABLE alerts (
    seq        INTEGER NOT NULL PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,     -- deterministic: rule, target and instant
    rule_id    TEXT    NOT NULL,
    target     TEXT    NOT NULL,            -- what it fired for: the entity id or 'group:<id>'
    metric     TEXT    NOT NULL,
    entity     TEXT,
    group_id   TEXT,
    value      REAL    NOT NULL,
    threshold  REAL    NOT NULL,
    at         INTEGER NOT NULL,            -- UTC ticks
    details    TEXT    NOT NULL,            -- JSON object: the evidence
    created_at INTEGER NOT NULL
);

CREATE INDEX ix_alerts_at ON alerts (at, id);
CREATE INDEX ix_alerts_rule_target ON alerts (rule_id, target, at);

-- The outbox: one row per alert, written in the alert's transaction, settled by the webhook dispatcher.
CREATE TABLE alert_deliveries (
    id            TEXT    NOT NULL PRIMARY KEY,
    alert_id      TEXT    NOT NULL UNIQUE REFERENCES alerts (id),
    rule_id       TEXT    NOT NULL,
    status        TEXT    NOT NULL,         -- pending | delivered | failed | cancelled
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        INTEGER,                  -- UTC ticks; set while pending
    claimed_until INTEGER,                  -- UTC ticks: the lease of the dispatcher working on it
    lease         TEXT,
    created_at    INTEGER NOT NULL,
    completed_at  INTEGER,
    last_error    TEXT
) WITHOUT ROWID;

CREATE INDEX ix_alert_deliveries_due ON alert_deliveries (due_at) WHERE status = 'pending';
CREATE INDEX ix_alert_deliveries_rule ON alert_deliveries (rule_id) WHERE status = 'pending';

-- The delivery log: every HTTP attempt with its outcome.
CREATE TABLE alert_delivery_attempts (
    delivery_id TEXT    NOT NULL REFERENCES alert_deliveries (id),
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,           -- UTC ticks
    succeeded   INTEGER NOT NULL,
    status_code INTEGER,
    error       TEXT,
    duration    INTEGER NOT NULL,           -- ticks
    PRIMARY KEY (delivery_id, attempt)
) WITHOUT ROWID;
