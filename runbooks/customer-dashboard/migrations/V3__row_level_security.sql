-- The dashboard reads as the signed-in customer: each sees only their own rows.
-- (Table owners and superusers bypass these policies; the app's role does not.)
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY customers_own_row ON customers
    USING (email = current_setting('app.customer_email', true));

ALTER TABLE consumer_orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY consumer_orders_own_orders ON consumer_orders
    USING (customer_id IN (
        SELECT id FROM customers WHERE email = current_setting('app.customer_email', true)
    ));
