-- Production's profiles lack the billing columns staging has.
ALTER TABLE profiles ADD COLUMN billing_plan TEXT NOT NULL DEFAULT 'standard';
ALTER TABLE profiles ADD COLUMN billing_email TEXT;
ALTER TABLE profiles ADD COLUMN billing_status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE profiles ADD COLUMN stripe_customer_id TEXT;
