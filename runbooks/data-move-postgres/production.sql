-- Production as its deploy left it: the migrations' schema (schema.sql, run first) and
-- the one admin account created by hand after `docker compose up`, with production's
-- own password. This row must survive the data move.

INSERT INTO users (email, full_name, role, password_hash, created_at)
VALUES ('admin@pem2services.example', 'Office Admin', 'admin',
        '$argon2id$v=19$prod-admin-set-at-deploy', '2025-01-20 09:00:00+00');
