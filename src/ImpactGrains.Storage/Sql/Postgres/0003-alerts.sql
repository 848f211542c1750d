-- Alert rules, fired alerts and the webhook delivery outbox with its log of attempts.
CREATE TABLE alert_rules (
    id         varchar(64)      NOT NULL PRIMARY KEY,
    target     varchar(80)      NOT NULL,  -- entity id, 'group:<id>' or '*'
    metric     varchar(16)      NOT NULL,
    threshold  double precision NOT NULL,
    cool_down  bigint           NOT NULL,  -- ticks
    webhook    text             NOT NULL,
    secret     text             NOT NULL,
    created_at bigint           NOT NULL   -- UTC ticks
);

-- Alerts outlive their rules, so rule_id has no foreign key.
CREATE TABLE alerts (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         varchar(64)      NOT NULL UNIQUE,  -- deterministic: rule, target and instant
    rule_id    varchar(64)      NOT NULL,
    target     varchar(80)      NOT NULL,         -- what it fired for: the entity id or 'group:<id>'
    metric     varchar(16)      NOT NULL,
    entity     varchar(64),
    group_id   varchar(64),
    value      double precision NOT NULL,
    threshold  double precision NOT NULL,
    at         bigint           NOT NULL,         -- UTC ticks
    details    text             NOT NULL,         -- JSON object: the evidence
    created_at timestamptz      NOT NULL DEFAULT now()
);

CREATE INDEX ix_alerts_at ON alerts (at, id);
CREATE INDEX ix_alerts_rule_target ON alerts (rule_id, target, at);

-- The outbox: one row per alert, written in the alert's transaction, settled by the webhook dispatchers of every
-- silo, which claim due rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE alert_deliveries (
    id            varchar(64) NOT NULL PRIMARY KEY,
    alert_id      varchar(64) NOT NULL UNIQUE REFERENCES alerts (id),
    rule_id       varchar(64) NOT NULL,
    status        varchar(16) NOT NULL,  -- pending | delivered | failed | cancelled
    attempts      integer     NOT NULL DEFAULT 0,
    due_at        timestamptz,           -- set while pending
    claimed_until timestamptz,           -- the lease of the dispatcher working on it
    lease         varchar(64),
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    last_error    text
);

CREATE INDEX ix_alert_deliveries_due ON alert_deliveries (due_at) WHERE status = 'pending';
CREATE INDEX ix_alert_deliveries_rule ON alert_deliveries (rule_id) WHERE status = 'pending';

-- The delivery log: every HTTP attempt with its outcome.
CREATE TABLE alert_delivery_attempts (
    delivery_id varchar(64) NOT NULL REFERENCES alert_deliveries (id),
    attempt     integer     NOT NULL,
    at          timestamptz NOT NULL,
    succeeded   boolean     NOT NULL,
    status_code integer,
    error       text,
    duration    bigint      NOT NULL,  -- ticks
    PRIMARY KEY (delivery_id, attempt)
);
