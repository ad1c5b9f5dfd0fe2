-- The local SQLite copy, as it was taken on 2024-03-15 and then left alone: the main
-- database has since gained, changed and deleted rows. Values are stored the way
-- SQLite keeps them (1200.0 for 1200.00, text timestamps, JSON with other spacing):
-- none of that is a difference.
CREATE TABLE discount_groups (
    code TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    percent NUMERIC(5,2) NOT NULL
);
CREATE TABLE customers (
    id INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    discount_group TEXT NULL REFERENCES discount_groups (code),
    active BOOLEAN NOT NULL DEFAULT 1,
    balance NUMERIC(12,2) NOT NULL DEFAULT 0,
    note TEXT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE services (
    id INTEGER NOT NULL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    monthly_price NUMERIC(10,2) NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE connectors (
    id INTEGER NOT NULL PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services (id),
    kind TEXT NOT NULL,
    config JSON NULL,
    enabled BOOLEAN NOT NULL
);
CREATE TABLE service_costs (
    service_id INTEGER NOT NULL,
    connector_id INTEGER NOT NULL,
    valid_from DATE NOT NULL,
    cost NUMERIC(12,4) NOT NULL,
    PRIMARY KEY (service_id, connector_id, valid_from)
);

INSERT INTO discount_groups VALUES
    ('STD', 'Standard', 0),
    ('PARTNER', 'Partner', 12.5),
    ('EDU', 'Education', 25);

INSERT INTO customers VALUES
    (1, 'Acme GmbH', 'billing@acme.example', 'PARTNER', 1, 1200.0, NULL, '2024-03-01T09:00:00Z'),
    (2, 'Zoë''s Bakery', 'zoe@bakery.example', 'STD', 1, 0, '', '2024-03-01 09:00:00'),
    (3, 'Universität Nord', 'it@uni-nord.example', 'EDU', 1, 120, 'invoice yearly', '2024-03-01 09:00:00'),
    (4, 'Bits & Bytes', 'support@bitsbytes.example', 'STD', 1, 10, NULL, '2024-03-01 09:00:00'),
    (5, '東京 Trading', 'info@tokyo-trading.example', 'PARTNER', 1, 300.0, NULL, '2024-03-01 09:00:00.000'),
    (6, 'Old Mill Ltd', 'admin@oldmill.example', 'STD', 1, 0, NULL, '2024-03-01 09:00:00'),
    (7, 'Gone Away Inc', 'bye@gone.example', 'STD', 0, 0, NULL, '2024-03-01 09:00:00'),
    (8, 'Nordlicht AG', 'it@nordlicht.example', NULL, 1, 0, NULL, '2024-03-01 09:00:00');

INSERT INTO services VALUES
    (1, 'web-basic', 'Web hosting basic', 9.9, '2024-03-01 09:00:00'),
    (2, 'web-pro', 'Web hosting pro', 19.9, '2024-03-01 09:00:00'),
    (3, 'mail', 'Mail', 4.5, '2024-03-01 09:00:00');

INSERT INTO connectors VALUES
    (1, 1, 'ftp', '{"tls":true,"port":21}', 1),
    (2, 1, 'ssh', '{"port":22}', 1),
    (3, 2, 'ssh', '{"port":22}', 1),
    (4, 3, 'imap', '{ "port" : 993, "tls" : true }', 1),
    (5, 3, 'pop3', '{"port":995}', 1);

INSERT INTO service_costs VALUES
    (1, 1, '2024-01-01', 1.2),
    (1, 2, '2024-01-01', 1.2),
    (2, 3, '2024-01-01', 3.5),
    (3, 4, '2024-01-01', 0.8),
    (3, 5, '2024-01-01', 0.5);
