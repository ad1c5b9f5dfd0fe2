-- The live users' data, column by column, as it was before the cutover.
SELECT id, username, email, full_name, npa, created_at FROM profiles ORDER BY id
