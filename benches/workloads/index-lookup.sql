-- A point lookup through a unique secondary index of the same 100,000 rows.
\set code random(1000001, 1100000)
SELECT payload FROM wl_lookup WHERE code = :code;
