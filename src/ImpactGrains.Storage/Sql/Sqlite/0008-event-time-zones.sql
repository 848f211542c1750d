-- The (entity, occurred_at) index gives way to a time map (EventTimeZones, docs/performance.md): per entity and run of
-- 256 sequence numbers, the earliest and latest occurrence. The index cost the writer a page per entity touched in every
-- commit; a zone row is shared by 256 events. event_time_zone is EventTimeZones.ZoneOf, registered on the migrating
-- connection.
CREATE TABLE event_time_zones (
    entity TEXT    NOT NULL,
    zone   INTEGER NOT NULL,
    min_at INTEGER NOT NULL,  -- UTC ticks
    max_at INTEGER NOT NULL,
    PRIMARY KEY (entity, zone)
) WITHOUT ROWID;

INSERT INTO event_time_zones (entity, zone, min_at, max_at)
SELECT entity, event_time_zone(entity_seq), min(occurred_at), max(occurred_at) FROM event_log
GROUP BY entity, event_time_zone(entity_seq);

DROP INDEX ix_event_log_time;
