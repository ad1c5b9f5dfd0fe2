-- Tax by jurisdiction: the rate each invoice line is taxed at.
CREATE TABLE tax_rates (
    jurisdiction CHAR(5) NOT NULL PRIMARY KEY,
    rate DECIMAL(6,4) NOT NULL,
    effective_from DATE NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO tax_rates (jurisdiction, rate, effective_from) VALUES
    ('US-TX', 0.0825, '2025-01-01'),
    ('US-FL', 0.0700, '2025-01-01'),
    ('US-WA', 0.1025, '2025-01-01'),
    ('US-PA', 0.0600, '2025-01-01');
