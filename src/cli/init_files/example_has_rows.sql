-- A check's query: its single value is compared with the step's `expect`.
-- 1 when the example table was created and filled by V1__example.sql.
SELECT CASE WHEN count(*) > 0 THEN 1 ELSE 0 END FROM example_items
