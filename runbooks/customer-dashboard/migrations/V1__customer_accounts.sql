-- Account numbers CT-YYYY-NNNNN from a per-year counter, given by a trigger to every
-- new customer and now to the existing ones. Additive: nothing existing changes shape.
CREATE TABLE account_number_counter (
    year INTEGER PRIMARY KEY,
    last_value INTEGER NOT NULL
);

ALTER TABLE customers ADD COLUMN account_number TEXT UNIQUE;
ALTER TABLE customers ADD COLUMN account_status TEXT NOT NULL DEFAULT 'active'
    CHECK (account_status IN ('active', 'suspended', 'closed'));

CREATE FUNCTION generate_account_number() RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    y INTEGER := extract(year FROM now())::INTEGER;
    n INTEGER;
BEGIN
    INSERT INTO account_number_counter (year, last_value) VALUES (y, 1)
    ON CONFLICT (year) DO UPDATE SET last_value = account_number_counter.last_value + 1
    RETURNING last_value INTO n;
    RETURN 'CT-' || y || '-' || lpad(n::TEXT, 5, '0');
END
$$;

CREATE FUNCTION customers_set_account_number() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_number IS NULL THEN
        NEW.account_number := generate_account_number();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER customers_account_number BEFORE INSERT ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_set_account_number();

UPDATE customers SET account_number = generate_account_number() WHERE account_number IS NULL;
