-- The sealed intervals of entity timelines (ITimelineStore), beside the grain snapshots in snapshots.db.
CREATE TABLE IF NOT EXISTS timeline_chunks (
    entity     TEXT    NOT NULL,
    generation TEXT    NOT NULL,  -- the timeline's model identity and build: a rebuilt timeline starts a new one
    chunk      INTEGER NOT NULL,
    version    INTEGER NOT NULL,  -- the snapshot that names this version is the one that wrote it
    data       BLOB    NOT NULL,
    PRIMARY KEY (entity, generation, chunk, version)
) WITHOUT ROWID;
