-- A first migration: replace it with yours. Files are V<N>__<name>.sql and run in
-- order of N, each once; never edit one that has run (add V2__... instead).
CREATE TABLE example_items (
    id          INTEGER PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    created_at  TIMESTAMP
);

INSERT INTO example_items (id, name) VALUES (1, 'first');
