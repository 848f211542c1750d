-- Entity heads are read from the log's (entity, entity_seq) index instead: updating a head row per entity on every
-- commit made each commit rewrite most of this table.
ALTER TABLE entities DROP COLUMN head;
