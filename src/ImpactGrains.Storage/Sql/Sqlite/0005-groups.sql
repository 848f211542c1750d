-- Groups (portfolios): named sets of entities with an aggregation method.
CREATE TABLE entity_groups (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    method     TEXT    NOT NULL,  -- max | weighted-sum | noisy-or
    members    TEXT    NOT NULL,  -- JSON array of {"entity": id, "weight": w}
    created_at INTEGER NOT NULL,  -- UTC ticks
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
