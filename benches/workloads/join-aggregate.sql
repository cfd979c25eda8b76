\set r random(0, 9)
SELECT c.region, count(*), sum(o.amount) FROM wl_orders o JOIN wl_customers c ON c.id = o.customer_id WHERE c.region = :r GROUP BY c.region;
