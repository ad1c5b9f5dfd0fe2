-- Invoices whose subscription does not exist: must be none.
SELECT i.id, i.subscription_id
FROM invoices i LEFT JOIN subscriptions s ON s.id = i.subscription_id
WHERE s.id IS NULL
ORDER BY i.id
