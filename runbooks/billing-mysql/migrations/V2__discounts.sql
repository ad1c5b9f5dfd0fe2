-- Discounts, applied after proration and before tax.
CREATE TABLE discounts (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    code VARCHAR(40) NOT NULL UNIQUE,
    kind VARCHAR(16) NOT NULL,
    amount DECIMAL(10,2) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
ALTER TABLE invoices ADD COLUMN discount_id INT NULL, ADD COLUMN tax_amount DECIMAL(12,2) NOT NULL DEFAULT 0.00;
