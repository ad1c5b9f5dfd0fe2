-- The column the backfill fills: nullable until every order has its customer.
ALTER TABLE consumer_orders ADD COLUMN customer_id INTEGER REFERENCES customers (id);
CREATE INDEX consumer_orders_customer_id ON consumer_orders (customer_id);
