-- The fix after the failed run: move the orphaned invoices (their subscription no
-- longer exists) to an archive table, keeping every row, so V4's foreign key holds.
-- Run it by hand (`mariadb billing < fix_orphans.sql`), then start a new run.
CREATE TABLE invoices_orphaned AS
    SELECT i.* FROM invoices i
    LEFT JOIN subscriptions s ON s.id = i.subscription_id
    WHERE s.id IS NULL;
DELETE i FROM invoices i
    LEFT JOIN subscriptions s ON s.id = i.subscription_id
    WHERE s.id IS NULL;
