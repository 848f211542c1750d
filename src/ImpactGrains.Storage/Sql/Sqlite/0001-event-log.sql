-- The event log and the entity catalog of the embedded profile.
CREATE TABLE entities (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    tags        TEXT    NOT NULL,            -- JSON array of strings
    head        INTEGER NOT NULL DEFAULT 0,  -- the entity's last event sequence
    created_at  INTEGER NOT NULL,            -- UTC ticks
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE links (
    from_entity TEXT NOT NULL REFERENCES entities (id),
    to_entity   TEXT NOT NULL REFERENCES entities (id),
    weight      REAL NOT NULL CHECK (weight > 0 AND weight <= 1),
    relation    TEXT NOT NULL,
    PRIMARY KEY (from_entity, to_entity)
) WITHOUT ROWID;

CREATE INDEX ix_links_to ON links (to_entity);

-- seq orders the whole log; entity_seq numbers each entity's events 1, 2, 3, … without gaps.
CREATE TABLE events (
    seq          INTEGER NOT NULL PRIMARY KEY,
    event_id     TEXT    NOT NULL UNIQUE,
    entity       TEXT    NOT NULL,
    entity_seq   INTEGER NOT NULL,
    type         TEXT    NOT NULL,
    occurred_at  INTEGER NOT NULL,  -- UTC ticks
    recorded_at  INTEGER NOT NULL,  -- UTC ticks
    body         TEXT    NOT NULL,  -- the normalised event JSON
    UNIQUE (entity, entity_seq)
);

CREATE INDEX ix_events_entity_time ON events (entity, occurred_at);
