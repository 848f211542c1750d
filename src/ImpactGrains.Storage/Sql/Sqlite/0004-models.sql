-- The registered scoring model versions. A row never changes: other parameters need another version name.
CREATE TABLE model_versions (
    name       TEXT    NOT NULL PRIMARY KEY,
    identity   TEXT    NOT NULL,  -- the version name and a hash of every parameter, when registered
    parameters TEXT    NOT NULL,  -- the model's JSON form (ScoringModelJson)
    created_at INTEGER NOT NULL   -- UTC ticks
) WITHOUT ROWID;
