-- Groups (portfolios): named sets of entities with an aggregation method.
CREATE TABLE entity_groups (
    id         varchar(64)  NOT NULL PRIMARY KEY,
    name       varchar(200) NOT NULL,
    method     varchar(16)  NOT NULL,  -- max | weighted-sum | noisy-or
    members    jsonb        NOT NULL,  -- [{"entity": id, "weight": w}]
    created_at timestamptz  NOT NULL DEFAULT now(),
    updated_at timestamptz  NOT NULL DEFAULT now()
);
