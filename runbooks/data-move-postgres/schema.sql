-- The application's schema, as its migrations create it: the same on the developer's
-- local database and on production (production's deploy ran the migrations, then
-- created its first admin account: production.sql).

CREATE TABLE users (
    id            serial PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    full_name     text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'dispatcher', 'technician')),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id         serial PRIMARY KEY,
    name       text NOT NULL,
    address    text,
    phone      text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inventory_items (
    id         serial PRIMARY KEY,
    sku        text NOT NULL UNIQUE,
    barcode    text UNIQUE,
    descr      text NOT NULL,
    unit_cost  numeric(10, 2) NOT NULL,
    on_hand    integer NOT NULL DEFAULT 0
);

CREATE TABLE work_orders (
    id           serial PRIMARY KEY,
    customer_id  integer NOT NULL REFERENCES customers (id),
    assigned_to  integer REFERENCES users (id),
    status       text NOT NULL DEFAULT 'open',
    scheduled_at timestamptz,
    notes        text,
    quoted_total numeric(12, 2)
);

CREATE TABLE time_entries (
    id            bigserial PRIMARY KEY,
    work_order_id integer NOT NULL REFERENCES work_orders (id),
    user_id       integer NOT NULL REFERENCES users (id),
    started_at    timestamp NOT NULL,
    hours         numeric(5, 2) NOT NULL
);
