-- The event log, the entity catalog and the delivery outbox.
CREATE TABLE entities (
    id         varchar(64)  NOT NULL PRIMARY KEY,
    name       varchar(200) NOT NULL,
    kind       varchar(16)  NOT NULL,
    tags       jsonb        NOT NULL DEFAULT '[]',
    head       bigint       NOT NULL DEFAULT 0,  -- the entity's last event sequence; its row lock orders appends
    created_at timestamptz  NOT NULL DEFAULT now(),
    updated_at timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE links (
    from_entity varchar(64)      NOT NULL REFERENCES entities (id),
    to_entity   varchar(64)      NOT NULL REFERENCES entities (id),
    weight      double precision NOT NULL CHECK (weight > 0 AND weight <= 1),
    relation    varchar(64)      NOT NULL,
    PRIMARY KEY (from_entity, to_entity)
);

CREATE INDEX ix_links_to ON links (to_entity);

-- seq orders the whole log; entity_seq numbers each entity's events 1, 2, 3, … without gaps.
CREATE TABLE events (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    varchar(200) NOT NULL UNIQUE,
    entity      varchar(64)  NOT NULL,
    entity_seq  bigint       NOT NULL,
    type        varchar(32)  NOT NULL,
    occurred_at bigint       NOT NULL,  -- UTC ticks
    recorded_at timestamptz  NOT NULL DEFAULT now(),
    body        text         NOT NULL,  -- the normalised event JSON
    UNIQUE (entity, entity_seq)
);

CREATE INDEX ix_events_entity_time ON events (entity, occurred_at);

-- One row per acknowledged append whose delivery to the entity grains is not yet confirmed. If the process that
-- appended dies first, another silo claims the row and makes the grains catch up from the log.
CREATE TABLE pending_deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz,
    entities      text[]      NOT NULL,
    through       bigint[]    NOT NULL   -- the last sequence appended for each entity
);
