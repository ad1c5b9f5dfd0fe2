-- Schema rollback: V4..V1 undone in reverse order, every row of the tables that
-- existed before the cutover kept. Each statement tolerates a migration that never
-- ran (IF EXISTS), so it also undoes a partly applied release. Adding V4's foreign
-- key made InnoDB create an index of the same name on invoices: dropped with it.
ALTER TABLE invoices DROP FOREIGN KEY IF EXISTS fk_invoices_subscription;
ALTER TABLE invoices DROP INDEX IF EXISTS fk_invoices_subscription;
ALTER TABLE invoices DROP INDEX IF EXISTS idx_invoices_customer_issued;
ALTER TABLE subscriptions DROP COLUMN IF EXISTS prorated_from;
ALTER TABLE invoices DROP COLUMN IF EXISTS discount_id, DROP COLUMN IF EXISTS tax_amount;
DROP TABLE IF EXISTS discounts;
DROP TABLE IF EXISTS tax_rates;
