-- The main control-panel database (MySQL/MariaDB): the source of truth for master data.
CREATE TABLE discount_groups (
    code VARCHAR(20) NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    percent DECIMAL(5,2) NOT NULL
);
CREATE TABLE customers (
    id INT NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(190) NOT NULL,
    discount_group VARCHAR(20) NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    balance DECIMAL(12,2) NOT NULL DEFAULT 0,
    note TEXT NULL,
    updated_at DATETIME(3) NOT NULL,
    FOREIGN KEY (discount_group) REFERENCES discount_groups (code)
);
CREATE TABLE services (
    id INT NOT NULL PRIMARY KEY,
    slug VARCHAR(50) NOT NULL UNIQUE,
    name VARCHAR(100) NOT NULL,
    monthly_price DECIMAL(10,2) NOT NULL,
    updated_at DATETIME(3) NOT NULL
);
CREATE TABLE connectors (
    id INT NOT NULL PRIMARY KEY,
    service_id INT NOT NULL,
    kind VARCHAR(20) NOT NULL,
    config JSON NULL,
    enabled BOOLEAN NOT NULL,
    FOREIGN KEY (service_id) REFERENCES services (id)
);
CREATE TABLE service_costs (
    service_id INT NOT NULL,
    connector_id INT NOT NULL,
    valid_from DATE NOT NULL,
    cost DECIMAL(12,4) NOT NULL,
    PRIMARY KEY (service_id, connector_id, valid_from)
);

INSERT INTO discount_groups VALUES
    ('STD', 'Standard', 0.00),
    ('PARTNER', 'Partner', 12.50),
    ('EDU', 'Education', 25.00),
    ('VIP', 'Very important', 30.00);

INSERT INTO customers VALUES
    (1, 'Acme GmbH', 'billing@acme.example', 'PARTNER', TRUE, 1200.00, NULL, '2024-03-01 09:00:00.000'),
    (2, 'Zoë''s Bakery', 'zoe@bakery.example', 'STD', TRUE, 0.00, '', '2024-03-01 09:00:00.000'),
    (3, 'Universität Nord', 'it@uni-nord.example', 'EDU', TRUE, 95.50, 'invoice yearly', '2024-04-02 10:15:00.250'),
    (4, 'Bits & Bytes', 'ops@bitsbytes.example', 'STD', TRUE, 10.00, NULL, '2024-04-03 08:00:00.000'),
    (5, '東京 Trading', 'info@tokyo-trading.example', 'PARTNER', TRUE, 300.00, NULL, '2024-03-01 09:00:00.000'),
    (6, 'Old Mill Ltd', 'admin@oldmill.example', 'STD', FALSE, 0.00, 'closed', '2024-04-05 17:30:00.000'),
    (8, 'Nordlicht AG', 'it@nordlicht.example', NULL, TRUE, 0.00, NULL, '2024-03-01 09:00:00.000'),
    (9, 'Helios Energy', 'ops@helios.example', 'VIP', TRUE, 5000.00, NULL, '2024-04-06 12:00:00.000'),
    (10, 'Kaffee Klatsch', 'hallo@kaffee.example', 'STD', TRUE, 0.00, NULL, '2024-04-06 12:05:00.000');

INSERT INTO services VALUES
    (1, 'web-basic', 'Web hosting basic', 9.90, '2024-03-01 09:00:00.000'),
    (2, 'web-pro', 'Web hosting pro', 24.90, '2024-04-01 00:00:00.000'),
    (3, 'mail', 'Mail', 4.50, '2024-03-01 09:00:00.000'),
    (4, 'backup', 'Offsite backup', 7.00, '2024-04-04 11:00:00.000');

INSERT INTO connectors VALUES
    (1, 1, 'ftp', '{"port": 21, "tls": true}', TRUE),
    (2, 1, 'ssh', '{"port": 22}', TRUE),
    (3, 2, 'ssh', '{"port": 2222, "keys": ["ed25519"]}', TRUE),
    (4, 3, 'imap', '{"port": 993, "tls": true}', TRUE),
    (6, 4, 's3', '{"bucket": "cp-backup", "region": "eu-central-1"}', TRUE);

INSERT INTO service_costs VALUES
    (1, 1, '2024-01-01', 1.2000),
    (1, 2, '2024-01-01', 1.2000),
    (2, 3, '2024-01-01', 3.5000),
    (2, 3, '2024-04-01', 3.7500),
    (3, 4, '2024-01-01', 0.8000),
    (4, 6, '2024-04-01', 2.1000);
