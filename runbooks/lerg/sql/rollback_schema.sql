-- Schema rollback: back to lerg_codes alone and the old profiles. Undoes V3, V2 and
-- V1 and forgets them, keeping every profile row (lerg_codes is never changed before
-- the cleanup phase, so it is still the legacy table as it was).
DROP TABLE IF EXISTS enhanced_lerg;
ALTER TABLE profiles DROP COLUMN trial_expires_at;
ALTER TABLE profiles DROP COLUMN stripe_customer_id;
ALTER TABLE profiles DROP COLUMN billing_status;
ALTER TABLE profiles DROP COLUMN billing_email;
ALTER TABLE profiles DROP COLUMN billing_plan;
DELETE FROM refinery_schema_history WHERE version IN (1, 2, 3);
