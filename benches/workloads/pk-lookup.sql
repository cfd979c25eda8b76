-- A point lookup by primary key in 100,000 rows (see workloads.sh).
\set id random(1, 100000)
SELECT payload FROM wl_lookup WHERE id = :id;
