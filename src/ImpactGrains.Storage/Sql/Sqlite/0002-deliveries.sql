-- One row per acknowledged append whose delivery to the entity grains is not yet confirmed.
CREATE TABLE pending_deliveries (
    id            INTEGER NOT NULL PRIMARY KEY,
    created_at    INTEGER NOT NULL,  -- UTC ticks
    claimed_until INTEGER,           -- UTC ticks
    targets       TEXT    NOT NULL   -- JSON object: entity → last sequence appended
);
