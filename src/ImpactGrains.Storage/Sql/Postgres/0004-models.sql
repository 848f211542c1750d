-- The registered scoring model versions, shared by every silo. A row never changes: other parameters need another
-- version name.
CREATE TABLE model_versions (
    name       varchar(64)  NOT NULL PRIMARY KEY,
    identity   varchar(100) NOT NULL,  -- the version name and a hash of every parameter, when registered
    parameters jsonb        NOT NULL,  -- the model's JSON form (ScoringModelJson)
    created_at timestamptz  NOT NULL DEFAULT clock_timestamp()
);
