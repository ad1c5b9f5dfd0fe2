-- The plan's "API response times < 200 ms (p95)": a run cannot measure the API, so
-- this checks what that figure rests on: an index leading with customer_id exists for
-- the invoice lookup by customer and date. (It is not a latency measurement.)
SELECT count(*) FROM information_schema.statistics
WHERE table_schema = DATABASE() AND table_name = 'invoices'
  AND index_name = 'idx_invoices_customer_issued' AND seq_in_index = 1
  AND column_name = 'customer_id'
