-- A trigram index over the entities' ids and names, so that a search (IEntityCatalog.PageEntitiesAsync's query) of
-- three characters or more reads the few rows that can match instead of scanning the catalog. entities is WITHOUT
-- ROWID and FTS5 keys its rows by an integer, so entity_search_rows gives each entity one. The index is contentless
-- (the text stays in entities alone) with contentless_delete, so that a rename can take a row out.
--
-- SqliteEntityCatalog's writes index what they change in their own transaction, a batch in one statement. Triggers
-- would be simpler but cost 5 to 8 times the registration: a trigger runs in a statement savepoint, and FTS5 writes
-- its pending rows to disk at every savepoint, a segment per entity. A row written to entities by any other means is
-- not indexed (nothing else writes them); the search still never returns a row that does not match, since LIKE on
-- entities has the last word.
CREATE TABLE entity_search_rows (
    row INTEGER PRIMARY KEY,
    id  TEXT    NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE entity_search USING fts5 (id, name, content = '', contentless_delete = 1, tokenize = 'trigram');

INSERT INTO entity_search_rows (id) SELECT id FROM entities ORDER BY id;
INSERT INTO entity_search (rowid, id, name) SELECT r.row, e.id, e.name FROM entity_search_rows r JOIN entities e ON e.id = r.id;
