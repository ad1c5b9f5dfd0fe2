-- Tables whose id sequence would hand out a key that is already taken.
SELECT t, last_value, max_id
FROM (
    SELECT 'users' AS t, (SELECT last_value FROM users_id_seq) AS last_value, (SELECT max(id) FROM users) AS max_id
    UNION ALL SELECT 'customers', (SELECT last_value FROM customers_id_seq), (SELECT max(id) FROM customers)
    UNION ALL SELECT 'inventory_items', (SELECT last_value FROM inventory_items_id_seq), (SELECT max(id) FROM inventory_items)
    UNION ALL SELECT 'work_orders', (SELECT last_value FROM work_orders_id_seq), (SELECT max(id) FROM work_orders)
    UNION ALL SELECT 'time_entries', (SELECT last_value FROM time_entries_id_seq), (SELECT max(id) FROM time_entries)
) s
WHERE max_id IS NOT NULL AND last_value < max_id
