-- Grain snapshots for Orleans' ADO.NET grain storage on SQLite. Written against the provider's query contract:
-- it reads WriteToStorageKey, ReadFromStorageKey and ClearStorageKey from OrleansQuery, binds @GrainIdN0, @GrainIdN1,
-- @GrainTypeString (the state name), @GrainIdExtensionString, @ServiceId, @GrainStateVersion and @PayloadBinary,
-- and reads back PayloadBinary, Version and NewGrainStateVersion. A missing NewGrainStateVersion row means a version
-- conflict. Hash parameters are bound too; this schema keys rows by the exact id instead and ignores them.
CREATE TABLE IF NOT EXISTS OrleansQuery (
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS grain_state (
    service_id  TEXT    NOT NULL,
    state_name  TEXT    NOT NULL,
    grain_n0    INTEGER NOT NULL,
    grain_n1    INTEGER NOT NULL,
    grain_key   TEXT    NOT NULL,  -- the string key, '' when there is none
    payload     BLOB,
    version     INTEGER NOT NULL,
    modified_at TEXT    NOT NULL,
    PRIMARY KEY (service_id, state_name, grain_n0, grain_n1, grain_key)
) WITHOUT ROWID;

INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
SELECT payload AS PayloadBinary, version AS Version
FROM grain_state
WHERE service_id = @ServiceId AND state_name = @GrainTypeString
  AND grain_n0 = @GrainIdN0 AND grain_n1 = @GrainIdN1 AND grain_key = coalesce(@GrainIdExtensionString, '''');
');

-- First write inserts (expected version NULL); later writes update only if the stored version is the expected one.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
INSERT INTO grain_state (service_id, state_name, grain_n0, grain_n1, grain_key, payload, version, modified_at)
SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, coalesce(@GrainIdExtensionString, ''''), @PayloadBinary, 1, datetime(''now'')
WHERE @GrainStateVersion IS NULL
ON CONFLICT DO NOTHING
RETURNING version AS NewGrainStateVersion;
UPDATE grain_state
SET payload = @PayloadBinary, version = version + 1, modified_at = datetime(''now'')
WHERE @GrainStateVersion IS NOT NULL AND version = @GrainStateVersion
  AND service_id = @ServiceId AND state_name = @GrainTypeString
  AND grain_n0 = @GrainIdN0 AND grain_n1 = @GrainIdN1 AND grain_key = coalesce(@GrainIdExtensionString, '''')
RETURNING version AS NewGrainStateVersion;
');

INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
UPDATE grain_state
SET payload = NULL, version = version + 1, modified_at = datetime(''now'')
WHERE version = @GrainStateVersion
  AND service_id = @ServiceId AND state_name = @GrainTypeString
  AND grain_n0 = @GrainIdN0 AND grain_n1 = @GrainIdN1 AND grain_key = coalesce(@GrainIdExtensionString, '''')
RETURNING version AS NewGrainStateVersion;
');
