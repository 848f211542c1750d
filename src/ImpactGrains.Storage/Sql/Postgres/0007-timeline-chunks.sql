-- The sealed intervals of entity timelines (ITimelineStore), beside the grain snapshots.
CREATE TABLE timeline_chunks (
    entity     varchar(64) COLLATE "C" NOT NULL,
    generation varchar(200) NOT NULL,  -- the timeline's model identity and build: a rebuilt timeline starts a new one
    chunk      integer      NOT NULL,
    version    integer      NOT NULL,  -- the snapshot that names this version is the one that wrote it
    data       bytea        NOT NULL,
    PRIMARY KEY (entity, generation, chunk, version)
);

-- Every entity's last leaderboard standing (IStandingStore), which its partition loads when it activates.
CREATE TABLE standings (
    partition integer     NOT NULL,
    entity    varchar(64) COLLATE "C" NOT NULL,
    data      bytea       NOT NULL,
    PRIMARY KEY (partition, entity)
);
