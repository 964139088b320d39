-- The demo schema: the seed's "items" endpoint.
CREATE TABLE items (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    price numeric(10, 2),
    tags text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT '2021-08-19 14:52:12+00'
);
INSERT INTO items (id, name, price, tags) VALUES
    (1, 'foo', 9.99, '{new}'),
    (2, 'bar', 4.50, '{}');
