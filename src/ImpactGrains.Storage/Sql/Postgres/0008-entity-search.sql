-- Trigram indexes over the entities' ids and names, so that a search (IEntityCatalog.PageEntitiesAsync's query) of
-- three characters or more, an ILIKE '%text%', reads the few rows that can match instead of scanning the catalog.
-- pg_trgm is a trusted extension (PostgreSQL 13 and later): the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX ix_entities_id_trgm ON entities USING gin (id gin_trgm_ops);
CREATE INDEX ix_entities_name_trgm ON entities USING gin (name gin_trgm_ops);
