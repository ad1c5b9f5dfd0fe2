-- The developer's local database (schema.sql, run first): months of real use on a
-- laptop's Docker. Its admin account is the same person as production's (same email),
-- with a development password that must not reach production.

INSERT INTO users (email, full_name, role, password_hash, created_at) VALUES
  ('admin@pem2services.example', 'Office Admin', 'admin', '$argon2id$v=19$local-dev-password', '2024-09-02 08:00:00+00'),
  ('dispatch@pem2services.example', 'Dana Okafor', 'dispatcher', '$argon2id$v=19$local-1', '2024-09-02 08:05:00+00'),
  ('luis@pem2services.example', 'Luis Ferreira', 'technician', '$argon2id$v=19$local-2', '2024-09-03 07:30:00+00'),
  ('mei@pem2services.example', 'Mei Tanaka', 'technician', '$argon2id$v=19$local-3', '2024-10-14 07:30:00+00'),
  ('zoë@pem2services.example', 'Zoë Brennan', 'technician', '$argon2id$v=19$local-4', '2024-11-01 07:30:00+00');

INSERT INTO customers (name, address, phone, created_at) VALUES
  ('Harbor View Condos', '12 Harbor St, Salem MA', '978-555-0101', '2024-09-05 14:00:00+00'),
  ('Dunkin #4471', '400 Main St, Peabody MA', NULL, '2024-09-09 10:30:00+00'),
  ('St. Anne''s Parish', '1 Church Rd, Lynn MA', '781-555-0142', '2024-10-01 16:45:00+00'),
  ('Ocean Deli & Café', '77 Pier Rd, Gloucester MA', '978-555-0199', '2024-12-11 11:15:00+00');

INSERT INTO inventory_items (sku, barcode, descr, unit_cost, on_hand) VALUES
  ('BRK-20A-1P', '012345678905', '20A single-pole breaker', 8.47, 36),
  ('WIRE-12-2-250', '012345678912', '12/2 NM-B wire, 250 ft', 112.99, 4),
  ('GFCI-20A-WR', NULL, 'GFCI receptacle 20A, weather resistant', 21.35, 18),
  ('LED-6IN-RETRO', '012345678929', '6" LED retrofit downlight, 3000K', 11.10, 0),
  ('PANEL-200A', '012345678936', '200A main panel, 40 spaces', 289.00, 1);

INSERT INTO work_orders (customer_id, assigned_to, status, scheduled_at, notes, quoted_total) VALUES
  (1, 3, 'done', '2024-09-12 13:00:00+00', 'Replace corroded breakers, units 2 and 5', 640.00),
  (2, 4, 'done', '2024-10-20 06:00:00+00', NULL, 1285.50),
  (3, 3, 'scheduled', '2025-02-03 14:30:00+00', 'Panel upgrade — permit #B-2025-117 pending', 4890.00),
  (4, NULL, 'open', NULL, 'Quote: walk-in cooler circuit', NULL),
  (1, 5, 'in_progress', '2025-01-28 12:00:00+00', 'GFCI on balconies (12 units)', 1530.25);

INSERT INTO time_entries (work_order_id, user_id, started_at, hours) VALUES
  (1, 3, '2024-09-12 08:55:00', 3.50),
  (1, 3, '2024-09-13 09:10:00', 1.25),
  (2, 4, '2024-10-20 02:00:00', 6.00),
  (5, 5, '2025-01-28 07:00:00', 7.75),
  (5, 3, '2025-01-28 07:00:00', 7.75),
  (5, 5, '2025-01-29 07:15:00', 4.50);
