-- Statements of issue 2, through psql. Expected output: psql.expected (PostgreSQL 15).
DROP TABLE IF EXISTS items;
CREATE TABLE items (id int PRIMARY KEY, name varchar(20) NOT NULL, qty int2, price numeric(8,2), ok bool, code char(3), at timestamp, day date, big int8, f float8, note text);
CREATE TABLE IF NOT EXISTS items (id int);
INSERT INTO items VALUES (1, 'apple', 3, 1.5, true, 'ab', '2024-01-02 03:04:05', '2024-01-02', 9000000000, 0.25, NULL),
  (2, 'pear', 5, 2.25, false, 'xyz', '2024-02-03 00:00:00', '2024-02-03', -1, 1e10, 'n'),
  (3, 'fig', NULL, 10, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT * FROM items ORDER BY id;
SELECT name, qty * 2 AS double_qty FROM items WHERE qty IS NOT NULL AND price > 1 ORDER BY name DESC LIMIT 2;
SELECT count(*), sum(qty), min(price), max(name), avg(qty) FROM items;
SELECT ok, count(*) FROM items GROUP BY ok ORDER BY ok NULLS FIRST;
UPDATE items SET qty = qty + 1 WHERE id IN (1, 2);
DELETE FROM items WHERE name LIKE 'f%';
SELECT id, qty FROM items ORDER BY id;
INSERT INTO items (id, name) VALUES (1, 'dup');
INSERT INTO items (id) VALUES (4);
SELECT 1/0;
SELECT 'abc'::int;
SELECT nosuch FROM items;
SELECT * FROM nosuch;
SELEC 1;
BEGIN;
INSERT INTO items (id, name) VALUES (10, 'ten');
SELECT 1/0;
SELECT 1;
ROLLBACK;
SELECT count(*) FROM items WHERE id = 10;
START TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SHOW transaction_isolation;
COMMIT;
SET default_transaction_isolation = 'repeatable read';
SHOW default_transaction_isolation;
RESET default_transaction_isolation;
SHOW default_transaction_isolation;
TRUNCATE items;
SELECT count(*) FROM items;
CREATE TABLE nokey (a int, b text);
INSERT INTO nokey VALUES (1, 'x'), (1, 'y');
ALTER TABLE nokey ADD PRIMARY KEY (a);
DELETE FROM nokey WHERE b = 'y';
ALTER TABLE nokey ADD PRIMARY KEY (a);
INSERT INTO nokey VALUES (1, 'z');
VACUUM nokey;
ANALYZE nokey;
VACUUM ANALYZE nokey;
END;
DROP TABLE items, nokey;
DROP TABLE items;
-- psql's meta-commands over the catalog (issue 3).
CREATE TABLE cat_t (id int PRIMARY KEY, name varchar(20) NOT NULL DEFAULT 'none', qty int DEFAULT 1 CHECK (qty > 0), note text);
\dt
\di
\dn
\l
CREATE INDEX cat_t_name_idx ON cat_t (name);
CREATE TABLE cat_s (id serial PRIMARY KEY, code char(3) UNIQUE, n bigint GENERATED ALWAYS AS IDENTITY, price numeric(8,2), at timestamp);
CREATE UNIQUE INDEX cat_s_price_at ON cat_s (price, at);
\d cat_t
\d cat_s
\d
\du
DROP TABLE cat_t, cat_s;
-- Foreign keys and views in the catalog (issue 3).
CREATE TABLE fk_p (id int PRIMARY KEY, code text UNIQUE);
CREATE TABLE fk_c (id int PRIMARY KEY, p_id int REFERENCES fk_p(id) ON DELETE CASCADE, pc text, CONSTRAINT fk_c_code FOREIGN KEY (pc) REFERENCES fk_p (code) ON UPDATE SET NULL ON DELETE RESTRICT);
\d fk_c
\d fk_p
CREATE VIEW fk_v AS SELECT id, p_id FROM fk_c WHERE id > 1;
\dv
\d fk_v
SELECT conname, contype, conkey, confkey, confrelid::regclass, confupdtype, confdeltype, confmatchtype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'fk_c'::regclass ORDER BY conname;
SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1;
DROP VIEW fk_v;
DROP TABLE fk_c, fk_p;
-- Schemas (issue 3).
CREATE SCHEMA cat_app;
CREATE SCHEMA IF NOT EXISTS cat_app;
\dn
DROP SCHEMA cat_app;
\dn
-- Relations in schemas, listed and described by psql (issue 3).
CREATE SCHEMA cat_s;
CREATE TABLE cat_s.st (id serial PRIMARY KEY, name text UNIQUE, qty int CHECK (qty > 0));
CREATE INDEX st_qty_idx ON cat_s.st (qty);
CREATE TABLE cat_s.sc (id int PRIMARY KEY, st_id int REFERENCES cat_s.st (id));
CREATE TABLE cat_pub (a int);
CREATE TABLE st (b text);
CREATE VIEW cat_s.sv AS SELECT id FROM cat_s.st;
CREATE SEQUENCE cat_s.sq;
\dt
\dt cat_s.*
\dt *.st
\d cat_s.st
\d cat_s.sc
\d cat_s.sv
\di cat_s.*
\dv cat_s.*
\ds cat_s.*
SET search_path = cat_s, public;
\dt
\di
\dv
\ds
\d st
\d public.st
\d
RESET search_path;
DROP VIEW cat_s.sv;
DROP TABLE cat_s.sc, cat_s.st, st, cat_pub;
DROP SEQUENCE cat_s.sq;
DROP SCHEMA cat_s;
