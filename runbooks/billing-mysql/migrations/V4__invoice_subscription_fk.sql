-- Every invoice belongs to a subscription. Fails (error 1452) while orphaned invoices
-- exist; V1..V3 have committed by then (MySQL commits DDL implicitly).
ALTER TABLE invoices ADD CONSTRAINT fk_invoices_subscription
    FOREIGN KEY (subscription_id) REFERENCES subscriptions (id);
