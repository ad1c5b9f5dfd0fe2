-- Schema rollback: undo V2 and V1 and forget them, keeping every profile row.
DROP TABLE IF EXISTS enhanced_lerg;
ALTER TABLE profiles DROP COLUMN stripe_customer_id;
ALTER TABLE profiles DROP COLUMN billing_status;
ALTER TABLE profiles DROP COLUMN billing_email;
ALTER TABLE profiles DROP COLUMN billing_plan;
DELETE FROM refinery_schema_history WHERE version IN (1, 2);
