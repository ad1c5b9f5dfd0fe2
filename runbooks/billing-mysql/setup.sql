-- The billing database before the cutover: customers, their subscriptions and the
-- invoices issued against them. Two invoices (ids 9001, 9002) point at subscription
-- 77, which was deleted by hand years ago without its invoices: the orphans the last
-- migration trips over. `cutover` does not run this file; the example's test (and you,
-- trying it out) load it into an empty database first.
CREATE TABLE customers (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(120) NOT NULL,
    email VARCHAR(190) NOT NULL,
    jurisdiction CHAR(5) NOT NULL,
    created_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE subscriptions (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    customer_id INT NOT NULL,
    plan VARCHAR(40) NOT NULL,
    monthly_amount DECIMAL(10,2) NOT NULL,
    started_on DATE NOT NULL,
    CONSTRAINT fk_subscriptions_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE invoices (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    subscription_id INT NOT NULL,
    customer_id INT NOT NULL,
    amount DECIMAL(12,2) NOT NULL,
    issued_at DATETIME(3) NOT NULL,
    status VARCHAR(16) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO customers (id, name, email, jurisdiction, created_at) VALUES
    (1, 'Acme Hauling', 'billing@acme.example', 'US-TX', '2023-01-04 09:00:00.000'),
    (2, 'Bó Ñandú Reciclaje', 'cuentas@bonandu.example', 'US-FL', '2023-02-11 10:30:00.250'),
    (3, 'Clearwater Disposal', 'ap@clearwater.example', 'US-WA', '2023-03-19 16:45:10.000'),
    (4, 'Dunmore Waste', 'finance@dunmore.example', 'US-PA', '2024-06-01 08:00:00.000');

INSERT INTO subscriptions (id, customer_id, plan, monthly_amount, started_on) VALUES
    (10, 1, 'weekly-pickup', 149.00, '2023-01-05'),
    (11, 2, 'biweekly-pickup', 89.50, '2023-02-12'),
    (12, 3, 'weekly-pickup', 149.00, '2023-03-20'),
    (13, 3, 'roll-off', 420.00, '2024-01-02'),
    (14, 4, 'weekly-pickup', 159.00, '2024-06-02');

INSERT INTO invoices (id, subscription_id, customer_id, amount, issued_at, status) VALUES
    (1001, 10, 1, 149.00, '2025-01-01 00:00:00.000', 'paid'),
    (1002, 11, 2, 89.50, '2025-01-01 00:00:00.000', 'paid'),
    (1003, 12, 3, 149.00, '2025-01-01 00:00:00.000', 'paid'),
    (1004, 13, 3, 420.00, '2025-01-01 00:00:00.000', 'open'),
    (1005, 14, 4, 159.00, '2025-01-01 00:00:00.000', 'open'),
    (1006, 10, 1, 149.00, '2025-02-01 00:00:00.000', 'open'),
    (9001, 77, 2, 12.34, '2021-07-01 00:00:00.000', 'void'),
    (9002, 77, 2, 56.78, '2021-08-01 00:00:00.000', 'void');
