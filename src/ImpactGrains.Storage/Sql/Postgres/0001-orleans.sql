-- Orleans' ADO.NET providers on PostgreSQL: clustering, reminders and grain storage. Orleans' packages ship no SQL;
-- this schema is written against their query contract: the providers read the queries below from OrleansQuery by
-- key, bind the named parameters (@DeploymentId, @Version, …) and read result columns by name (case-insensitively).
-- Every parameter is cast, so that a NULL value still has a type.

CREATE TABLE OrleansQuery (
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

-- Membership: one version row per cluster (deployment), bumped on every membership change (optimistic concurrency).
CREATE TABLE orleans_membership_version (
    deployment_id varchar(150) NOT NULL PRIMARY KEY,
    version       integer      NOT NULL DEFAULT 0,
    updated_at    timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE orleans_membership (
    deployment_id   varchar(150) NOT NULL REFERENCES orleans_membership_version (deployment_id),
    address         varchar(45)  NOT NULL,
    port            integer      NOT NULL,
    generation      integer      NOT NULL,
    silo_name       varchar(150) NOT NULL,
    host_name       varchar(150) NOT NULL,
    status          integer      NOT NULL,
    proxy_port      integer,
    suspect_times   text,
    start_time      timestamptz  NOT NULL,
    i_am_alive_time timestamptz  NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', '
WITH inserted AS (
    INSERT INTO orleans_membership_version (deployment_id) VALUES (CAST(@DeploymentId AS varchar))
    ON CONFLICT DO NOTHING
    RETURNING 1)
SELECT CAST(count(*) AS integer) FROM inserted;'),

-- Insert a silo row and bump the version, but only if the version is the one the caller read; the version row is
-- locked first so that concurrent changes serialise. Answers 1 on success, 0 otherwise (nothing changed).
('InsertMembershipKey', '
WITH current_version AS (
    SELECT version FROM orleans_membership_version WHERE deployment_id = CAST(@DeploymentId AS varchar) FOR UPDATE),
inserted AS (
    INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status, proxy_port, start_time, i_am_alive_time)
    SELECT CAST(@DeploymentId AS varchar), CAST(@Address AS varchar), CAST(@Port AS integer), CAST(@Generation AS integer),
           CAST(@SiloName AS varchar), CAST(@HostName AS varchar), CAST(@Status AS integer), CAST(@ProxyPort AS integer),
           @StartTime, @IAmAliveTime
    FROM current_version WHERE version = CAST(@Version AS integer)
    ON CONFLICT DO NOTHING
    RETURNING 1),
bumped AS (
    UPDATE orleans_membership_version SET version = version + 1, updated_at = now()
    WHERE deployment_id = CAST(@DeploymentId AS varchar) AND EXISTS (SELECT 1 FROM inserted)
    RETURNING 1)
SELECT CAST(count(*) AS integer) FROM bumped;'),

('UpdateMembershipKey', '
WITH current_version AS (
    SELECT version FROM orleans_membership_version WHERE deployment_id = CAST(@DeploymentId AS varchar) FOR UPDATE),
updated AS (
    UPDATE orleans_membership
    SET status = CAST(@Status AS integer), suspect_times = CAST(@SuspectTimes AS text), i_am_alive_time = @IAmAliveTime
    WHERE deployment_id = CAST(@DeploymentId AS varchar) AND address = CAST(@Address AS varchar)
      AND port = CAST(@Port AS integer) AND generation = CAST(@Generation AS integer)
      AND EXISTS (SELECT 1 FROM current_version WHERE version = CAST(@Version AS integer))
    RETURNING 1),
bumped AS (
    UPDATE orleans_membership_version SET version = version + 1, updated_at = now()
    WHERE deployment_id = CAST(@DeploymentId AS varchar) AND EXISTS (SELECT 1 FROM updated)
    RETURNING 1)
SELECT CAST(count(*) AS integer) FROM bumped;'),

('UpdateIAmAlivetimeKey', '
UPDATE orleans_membership SET i_am_alive_time = @IAmAliveTime
WHERE deployment_id = CAST(@DeploymentId AS varchar) AND address = CAST(@Address AS varchar)
  AND port = CAST(@Port AS integer) AND generation = CAST(@Generation AS integer);'),

('MembershipReadRowKey', '
SELECT v.deployment_id AS DeploymentId, m.address AS Address, m.port AS Port, m.generation AS Generation,
       m.silo_name AS SiloName, m.host_name AS HostName, m.status AS Status, m.proxy_port AS ProxyPort,
       m.suspect_times AS SuspectTimes, m.start_time AS StartTime, m.i_am_alive_time AS IAmAliveTime, v.version AS Version
FROM orleans_membership_version v
LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
    AND m.address = CAST(@Address AS varchar) AND m.port = CAST(@Port AS integer) AND m.generation = CAST(@Generation AS integer)
WHERE v.deployment_id = CAST(@DeploymentId AS varchar);'),

('MembershipReadAllKey', '
SELECT v.deployment_id AS DeploymentId, m.address AS Address, m.port AS Port, m.generation AS Generation,
       m.silo_name AS SiloName, m.host_name AS HostName, m.status AS Status, m.proxy_port AS ProxyPort,
       m.suspect_times AS SuspectTimes, m.start_time AS StartTime, m.i_am_alive_time AS IAmAliveTime, v.version AS Version
FROM orleans_membership_version v
LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
WHERE v.deployment_id = CAST(@DeploymentId AS varchar);'),

('GatewaysQueryKey', '
SELECT address AS Address, proxy_port AS ProxyPort, generation AS Generation
FROM orleans_membership
WHERE deployment_id = CAST(@DeploymentId AS varchar) AND status = CAST(@Status AS integer) AND proxy_port > 0;'),

('DeleteMembershipTableEntriesKey', '
DELETE FROM orleans_membership WHERE deployment_id = CAST(@DeploymentId AS varchar);
DELETE FROM orleans_membership_version WHERE deployment_id = CAST(@DeploymentId AS varchar);'),

-- Status 3 is Active: only silos that are no longer active and have not reported for a while are removed.
('CleanupDefunctSiloEntriesKey', '
DELETE FROM orleans_membership
WHERE deployment_id = CAST(@DeploymentId AS varchar) AND i_am_alive_time < @IAmAliveTime AND status <> 3;');

-- Reminders
CREATE TABLE orleans_reminders (
    service_id    varchar(150) NOT NULL,
    grain_id      varchar(150) NOT NULL,
    reminder_name varchar(150) NOT NULL,
    start_time    timestamptz  NOT NULL,
    period        bigint       NOT NULL,  -- milliseconds
    grain_hash    integer      NOT NULL,
    version       integer      NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

CREATE INDEX ix_orleans_reminders_hash ON orleans_reminders (service_id, grain_hash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpsertReminderRowKey', '
INSERT INTO orleans_reminders (service_id, grain_id, reminder_name, start_time, period, grain_hash, version)
VALUES (CAST(@ServiceId AS varchar), CAST(@GrainId AS varchar), CAST(@ReminderName AS varchar), @StartTime,
        CAST(@Period AS bigint), CAST(@GrainHash AS integer), 0)
ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
SET start_time = excluded.start_time, period = excluded.period, grain_hash = excluded.grain_hash,
    version = orleans_reminders.version + 1
RETURNING version AS Version;'),

('ReadReminderRowsKey', '
SELECT grain_id AS GrainId, reminder_name AS ReminderName, start_time AS StartTime, period AS Period, version AS Version
FROM orleans_reminders
WHERE service_id = CAST(@ServiceId AS varchar) AND grain_id = CAST(@GrainId AS varchar);'),

('ReadReminderRowKey', '
SELECT grain_id AS GrainId, reminder_name AS ReminderName, start_time AS StartTime, period AS Period, version AS Version
FROM orleans_reminders
WHERE service_id = CAST(@ServiceId AS varchar) AND grain_id = CAST(@GrainId AS varchar)
  AND reminder_name = CAST(@ReminderName AS varchar);'),

-- The ring range (begin, end] when begin < end …
('ReadRangeRows1Key', '
SELECT grain_id AS GrainId, reminder_name AS ReminderName, start_time AS StartTime, period AS Period, version AS Version
FROM orleans_reminders
WHERE service_id = CAST(@ServiceId AS varchar)
  AND grain_hash > CAST(@BeginHash AS integer) AND grain_hash <= CAST(@EndHash AS integer);'),

-- … and when the range wraps around.
('ReadRangeRows2Key', '
SELECT grain_id AS GrainId, reminder_name AS ReminderName, start_time AS StartTime, period AS Period, version AS Version
FROM orleans_reminders
WHERE service_id = CAST(@ServiceId AS varchar)
  AND (grain_hash > CAST(@BeginHash AS integer) OR grain_hash <= CAST(@EndHash AS integer));'),

('DeleteReminderRowKey', '
WITH deleted AS (
    DELETE FROM orleans_reminders
    WHERE service_id = CAST(@ServiceId AS varchar) AND grain_id = CAST(@GrainId AS varchar)
      AND reminder_name = CAST(@ReminderName AS varchar) AND version = CAST(@Version AS integer)
    RETURNING 1)
SELECT CAST(count(*) AS integer) FROM deleted;'),

('DeleteReminderRowsKey', '
DELETE FROM orleans_reminders WHERE service_id = CAST(@ServiceId AS varchar);');

-- Grain state (entity snapshots). Rows are keyed by the exact grain id and the state name; the hash parameters the
-- provider also binds are not needed with a real primary key.
CREATE TABLE grain_state (
    service_id  varchar(150) NOT NULL,
    state_name  varchar(150) NOT NULL,
    grain_n0    bigint       NOT NULL,
    grain_n1    bigint       NOT NULL,
    grain_key   varchar(512) NOT NULL,  -- the string key, '' when there is none
    payload     bytea,
    version     integer      NOT NULL,
    modified_at timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, state_name, grain_n0, grain_n1, grain_key)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', '
SELECT payload AS PayloadBinary, version AS Version
FROM grain_state
WHERE service_id = CAST(@ServiceId AS varchar) AND state_name = CAST(@GrainTypeString AS varchar)
  AND grain_n0 = CAST(@GrainIdN0 AS bigint) AND grain_n1 = CAST(@GrainIdN1 AS bigint)
  AND grain_key = coalesce(CAST(@GrainIdExtensionString AS varchar), '''');'),

-- First write inserts (expected version NULL); later writes update only the expected version. No row back means a
-- version conflict.
('WriteToStorageKey', '
WITH inserted AS (
    INSERT INTO grain_state (service_id, state_name, grain_n0, grain_n1, grain_key, payload, version)
    SELECT CAST(@ServiceId AS varchar), CAST(@GrainTypeString AS varchar), CAST(@GrainIdN0 AS bigint), CAST(@GrainIdN1 AS bigint),
           coalesce(CAST(@GrainIdExtensionString AS varchar), ''''), CAST(@PayloadBinary AS bytea), 1
    WHERE CAST(@GrainStateVersion AS integer) IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version),
updated AS (
    UPDATE grain_state
    SET payload = CAST(@PayloadBinary AS bytea), version = version + 1, modified_at = now()
    WHERE CAST(@GrainStateVersion AS integer) IS NOT NULL AND version = CAST(@GrainStateVersion AS integer)
      AND service_id = CAST(@ServiceId AS varchar) AND state_name = CAST(@GrainTypeString AS varchar)
      AND grain_n0 = CAST(@GrainIdN0 AS bigint) AND grain_n1 = CAST(@GrainIdN1 AS bigint)
      AND grain_key = coalesce(CAST(@GrainIdExtensionString AS varchar), '''')
    RETURNING version)
SELECT version AS NewGrainStateVersion FROM inserted
UNION ALL
SELECT version FROM updated;'),

('ClearStorageKey', '
UPDATE grain_state
SET payload = NULL, version = version + 1, modified_at = now()
WHERE version = CAST(@GrainStateVersion AS integer)
  AND service_id = CAST(@ServiceId AS varchar) AND state_name = CAST(@GrainTypeString AS varchar)
  AND grain_n0 = CAST(@GrainIdN0 AS bigint) AND grain_n1 = CAST(@GrainIdN1 AS bigint)
  AND grain_key = coalesce(CAST(@GrainIdExtensionString AS varchar), '''')
RETURNING version AS NewGrainStateVersion;');
