\set k random(1, 1000)
INSERT INTO wl_counters VALUES (:k, 1) ON CONFLICT (k) DO UPDATE SET n = wl_counters.n + 1;
