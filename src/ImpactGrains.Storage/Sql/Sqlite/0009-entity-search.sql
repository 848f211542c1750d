-- A trigram index over the entities' ids and names, so that a search (IEntityCatalog.PageEntitiesAsync's query) of
-- three characters or more reads the few rows that can match instead of scanning the catalog. entities is WITHOUT
-- ROWID and FTS5 keys its rows by an integer, so entity_search_rows gives each entity one. The index is contentless
-- (the text stays in entities alone) with contentless_delete, so that a rename or a removal can take a row out.
CREATE TABLE entity_search_rows (
    row INTEGER PRIMARY KEY,
    id  TEXT    NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE entity_search USING fts5 (id, name, content = '', contentless_delete = 1, tokenize = 'trigram');

-- Triggers keep the index in step with every write to entities, single or bulk, in the writer's own transaction.
CREATE TRIGGER entity_search_insert AFTER INSERT ON entities BEGIN
    INSERT INTO entity_search_rows (id) VALUES (new.id);
    INSERT INTO entity_search (rowid, id, name) SELECT row, new.id, new.name FROM entity_search_rows WHERE id = new.id;
END;

-- An upsert sets the name whether or not it changed; only a real change is reindexed.
CREATE TRIGGER entity_search_update AFTER UPDATE OF id, name ON entities
WHEN old.id IS NOT new.id OR old.name IS NOT new.name BEGIN
    UPDATE entity_search_rows SET id = new.id WHERE id = old.id;
    UPDATE entity_search SET id = new.id, name = new.name WHERE rowid = (SELECT row FROM entity_search_rows WHERE id = new.id);
END;

CREATE TRIGGER entity_search_delete AFTER DELETE ON entities BEGIN
    DELETE FROM entity_search WHERE rowid = (SELECT row FROM entity_search_rows WHERE id = old.id);
    DELETE FROM entity_search_rows WHERE id = old.id;
END;

INSERT INTO entity_search_rows (id) SELECT id FROM entities ORDER BY id;
INSERT INTO entity_search (rowid, id, name) SELECT r.row, e.id, e.name FROM entity_search_rows r JOIN entities e ON e.id = r.id;
