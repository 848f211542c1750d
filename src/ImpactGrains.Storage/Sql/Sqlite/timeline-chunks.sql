-- The sealed intervals of entity timelines (ITimelineStore), beside the grain snapshots in snapshots.db.
CREATE TABLE IF NOT EXISTS timeline_chunks (
    entity     TEXT    NOT NULL,
    generation TEXT    NOT NULL,  -- the timeline's model identity and build: a rebuilt timeline starts a new one
    chunk      INTEGER NOT NULL,
    version    INTEGER NOT NULL,  -- the snapshot that names this version is the one that wrote it
    data       BLOB    NOT NULL,
    PRIMARY KEY (entity, generation, chunk, version)
) WITHOUT ROWID;

-- Every entity's last leaderboard standing (IStandingStore), which its partition loads when it activates.
CREATE TABLE IF NOT EXISTS standings (
    partition INTEGER NOT NULL,
    entity    TEXT    NOT NULL,
    data      BLOB    NOT NULL,
    PRIMARY KEY (partition, entity)
) WITHOUT ROWID;
