-- The event log, version 2: fewer and smaller B-trees written per event (docs/performance.md).
--   event_log: clustered by (entity, entity_seq), so an entity's events are contiguous and appending one touches the
--     tail of its entity's range; the body in the codec's binary form (EventCodec; rows of version 1 keep their JSON).
--   ix_event_log_time: an entity's events by occurrence (listing, as-of reads).
--   event_ids: duplicate detection on a 16-byte hash of the id (EventIdHash) instead of an index on the text.
-- The global seq of version 1 had no reader and is gone: each entity's sequence orders its events.
CREATE TABLE event_log (
    entity      TEXT    NOT NULL,
    entity_seq  INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,  -- UTC ticks
    recorded_at INTEGER NOT NULL,  -- UTC ticks
    event_id    TEXT    NOT NULL,
    body        BLOB    NOT NULL,
    PRIMARY KEY (entity, entity_seq)
) WITHOUT ROWID;

CREATE INDEX ix_event_log_time ON event_log (entity, occurred_at);

CREATE TABLE event_ids (
    hash BLOB NOT NULL PRIMARY KEY
) WITHOUT ROWID;

INSERT INTO event_log (entity, entity_seq, occurred_at, recorded_at, event_id, body)
SELECT entity, entity_seq, occurred_at, recorded_at, event_id, CAST(body AS BLOB) FROM events;

-- event_id_hash is EventIdHash, registered on the migrating connection.
INSERT INTO event_ids (hash) SELECT event_id_hash(event_id) FROM events;

DROP TABLE events;
