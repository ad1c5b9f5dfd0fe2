-- Proration: a plan change mid-cycle records where the prorated period starts, and
-- the billing API looks invoices up by customer and date (its p95 depends on this index).
ALTER TABLE subscriptions ADD COLUMN prorated_from DATE NULL;
CREATE INDEX idx_invoices_customer_issued ON invoices (customer_id, issued_at);
