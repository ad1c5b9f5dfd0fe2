-- Phase 5: fresh planner statistics for the lookups the application makes
-- (SQLite and PostgreSQL both take ANALYZE of one table).
ANALYZE enhanced_lerg;
