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
-- ALTER TABLE … ADD FOREIGN KEY and what depends on a key (issue 3).
CREATE TABLE fa_p (id int PRIMARY KEY, u int UNIQUE, v int);
CREATE TABLE fa_c (id int PRIMARY KEY, p_id int, x int);
INSERT INTO fa_p VALUES (1, 10, 0), (2, 20, 0);
INSERT INTO fa_c VALUES (1, 1, 10), (2, 7, 20);
ALTER TABLE fa_c ADD FOREIGN KEY (p_id) REFERENCES fa_p;
UPDATE fa_c SET p_id = 2 WHERE id = 2;
ALTER TABLE fa_c ADD FOREIGN KEY (p_id) REFERENCES fa_p, ADD CONSTRAINT fa_c_x FOREIGN KEY (x) REFERENCES fa_p (u) ON DELETE CASCADE;
\d fa_c
\d fa_p
ALTER TABLE fa_p DROP COLUMN u;
ALTER TABLE fa_p DROP CONSTRAINT fa_p_pkey;
DROP TABLE fa_p;
ALTER TABLE fa_p DROP COLUMN u CASCADE;
DROP TABLE fa_p CASCADE;
\d fa_c
DROP TABLE fa_c;
-- \d+, \d of a sequence, an index and a view, \dn+, \di, \ds (issue 3).
CREATE TABLE dp_t (id serial PRIMARY KEY, name varchar(20) NOT NULL DEFAULT 'x', qty int CHECK (qty > 0), price numeric(8,2), n bigint GENERATED ALWAYS AS IDENTITY, code char(3) UNIQUE, note text);
CREATE INDEX dp_t_name_idx ON dp_t (name, qty);
CREATE SEQUENCE dp_seq AS int INCREMENT BY 5 MINVALUE 3 MAXVALUE 100 START 10 CYCLE;
CREATE VIEW dp_v AS SELECT id, name AS nm, price FROM dp_t WHERE id > 1 AND (qty + 1 > 2 OR note = 'x') ORDER BY id DESC LIMIT 5;
CREATE VIEW dp_w (c, total) AS SELECT t.code, sum(t.qty) FROM dp_t t WHERE t.name = 'a' AND t.price > 1 GROUP BY t.code HAVING count(*) > 1;
\d+ dp_t
\d dp_seq
\d dp_t_id_seq
\d dp_t_n_seq
\d dp_t_name_idx
\d dp_t_pkey
\d+ dp_v
\d+ dp_w
CREATE SCHEMA dp_app;
\dn+
\di
\ds
DROP SCHEMA dp_app;
DROP VIEW dp_v, dp_w;
DROP TABLE dp_t;
DROP SEQUENCE dp_seq;
-- Foreign keys across schemas; DROP SCHEMA … CASCADE drops the keys that reference its tables, its notice's DETAIL lists them.
CREATE SCHEMA fx;
CREATE TABLE fx.p (id int PRIMARY KEY);
CREATE TABLE fx_c (id int PRIMARY KEY, p_id int REFERENCES fx.p);
CREATE TABLE fx.q (id int PRIMARY KEY, c_id int REFERENCES fx_c);
CREATE TABLE fx.r (id int PRIMARY KEY);
CREATE TABLE fx_d (id int PRIMARY KEY, r_id int REFERENCES fx.r, p_id int REFERENCES fx.p);
\d fx_c
\d fx.p
DROP TABLE fx.p;
ALTER TABLE fx.p RENAME TO p2;
\d fx_d
DROP SCHEMA fx;
DROP SCHEMA fx CASCADE;
\d fx_c
DROP TABLE fx_c, fx_d;
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
