-- The event log, version 2 (docs/performance.md): appends need no row lock and write fewer, smaller index entries.
--   event_log: keyed by (entity, entity_seq); each silo's writer numbers the entities it owns from memory, and the key
--     turns a rare concurrent writer (ownership moving between silos) into a retry instead of a gap or a double.
--   ix_event_log_id: duplicate detection on md5(event_id) as a uuid (EventIdHash) instead of the text.
--   ix_event_log_time: an entity's events by occurrence (listing, as-of reads).
-- The body is the codec's binary form (EventCodec); rows of version 1 keep their JSON, which the codec still reads.
-- The global seq and the entities' head column, whose row locks ordered every append, are gone.
CREATE TABLE event_log (
    entity      varchar(64)  COLLATE "C" NOT NULL,
    entity_seq  bigint       NOT NULL,
    occurred_at bigint       NOT NULL,  -- UTC ticks
    id_hash     uuid         NOT NULL,
    event_id    varchar(200) NOT NULL,
    recorded_at timestamptz  NOT NULL DEFAULT now(),
    body        bytea        NOT NULL,
    PRIMARY KEY (entity, entity_seq)
);

INSERT INTO event_log (entity, entity_seq, occurred_at, id_hash, event_id, recorded_at, body)
SELECT entity, entity_seq, occurred_at, md5(event_id)::uuid, event_id, recorded_at, convert_to(body, 'UTF8') FROM events;

CREATE UNIQUE INDEX ix_event_log_id ON event_log (id_hash);
CREATE INDEX ix_event_log_time ON event_log (entity, occurred_at);

DROP TABLE events;
ALTER TABLE entities DROP COLUMN head;
