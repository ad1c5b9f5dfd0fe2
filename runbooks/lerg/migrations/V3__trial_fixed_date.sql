-- The trial period ends on a fixed date instead of N days after sign-up; existing
-- users get theirs from the runbook's backfill (set-trial-dates).
ALTER TABLE profiles ADD COLUMN trial_expires_at TEXT;
