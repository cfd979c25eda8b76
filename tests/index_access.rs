//! The planner's access paths, seen from a client: EXPLAIN (COSTS OFF) names the path
//! it chose (point, IN list, range, ORDER BY … LIMIT in key order, secondary index,
//! sequential scan with a filter, UPDATE / DELETE through the key), and a range or
//! ORDER BY … LIMIT on a 100k-row table gives the right rows through the key path (how
//! much faster that is is measured by `benches/workloads.sh`, not here). Troupe-only: PostgreSQL picks other
//! plans on tables without statistics (a Bitmap Heap Scan, say); the row-by-row
//! differential checks are `tests/slt/index/*.slt`.
#![allow(clippy::unwrap_used)]

mod common;

use common::{lines, scalar, sqlstate, TestServer};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

async fn setup(c: &Client) {
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, b int NOT NULL, c text);
         CREATE INDEX t_b_idx ON t (b);
         INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c'), (4, 10, 'd');",
    )
    .await
    .unwrap();
}

async fn explain(c: &Client, sql: &str) -> Vec<String> {
    lines(c, &format!("EXPLAIN (COSTS OFF) {sql}")).await
}

#[tokio::test]
async fn explain_names_the_path() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    setup(&c).await;
    let cases: &[(&str, &[&str])] = &[
        (
            "SELECT * FROM t WHERE id = 1",
            &["Index Scan using t_pkey on t", "  Index Cond: (id = 1)"],
        ),
        (
            "SELECT * FROM t WHERE id IN (3, 1, 2)",
            &["Index Scan using t_pkey on t", "  Index Cond: (id = ANY ('{3,1,2}'::integer[]))"],
        ),
        (
            "SELECT * FROM t WHERE id BETWEEN 2 AND 4",
            &["Index Scan using t_pkey on t", "  Index Cond: ((id >= 2) AND (id <= 4))"],
        ),
        (
            "SELECT * FROM t WHERE id < 5 AND c = 'v3'",
            &[
                "Index Scan using t_pkey on t",
                "  Index Cond: (id < 5)",
                "  Filter: (c = 'v3'::text)",
            ],
        ),
        ("SELECT * FROM t ORDER BY id LIMIT 3", &["Limit", "  ->  Index Scan using t_pkey on t"]),
        ("SELECT * FROM t ORDER BY b LIMIT 3", &["Limit", "  ->  Index Scan using t_b_idx on t"]),
        (
            "SELECT * FROM t WHERE b = 20",
            &["Index Scan using t_b_idx on t", "  Index Cond: (b = 20)"],
        ),
        (
            "SELECT * FROM t ORDER BY c LIMIT 3",
            &["Limit", "  ->  Sort", "        Sort Key: c", "        ->  Seq Scan on t"],
        ),
        ("SELECT * FROM t WHERE c = 'x'", &["Seq Scan on t", "  Filter: (c = 'x'::text)"]),
        (
            "SELECT * FROM t WHERE id = 5000000000",
            &["Index Scan using t_pkey on t", "  Index Cond: (id = '5000000000'::bigint)"],
        ),
        ("SELECT count(*) FROM t", &["Aggregate", "  ->  Seq Scan on t"]),
        (
            "UPDATE t SET c = 'x' WHERE id > 3",
            &["Update on t", "  ->  Index Scan using t_pkey on t", "        Index Cond: (id > 3)"],
        ),
        (
            "DELETE FROM t WHERE b IN (10, 30)",
            &[
                "Delete on t",
                "  ->  Index Scan using t_b_idx on t",
                "        Index Cond: (b = ANY ('{10,30}'::integer[]))",
            ],
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(explain(&c, sql).await, *want, "{sql}");
    }
    // A numeric literal against an int key is not a key value: full scan, same rows.
    assert_eq!(explain(&c, "SELECT * FROM t WHERE id > 2.5").await[0], "Seq Scan on t");
    assert_eq!(lines(&c, "SELECT id FROM t WHERE id > 2.5 ORDER BY id").await, ["3", "4"]);
    db.stop().await;
}

#[tokio::test]
async fn explain_refuses_costs_and_analyze() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    setup(&c).await;
    for sql in [
        "EXPLAIN SELECT * FROM t",
        "EXPLAIN ANALYZE SELECT * FROM t",
        "EXPLAIN (ANALYZE, COSTS OFF) SELECT 1",
    ] {
        assert_eq!(sqlstate(&c, sql).await, SqlState::FEATURE_NOT_SUPPORTED, "{sql}");
    }
    db.stop().await;
}

#[tokio::test]
async fn writes_through_key_paths() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    setup(&c).await;
    c.batch_execute(
        "UPDATE t SET c = 'u' WHERE id IN (1, 3, 9);
         DELETE FROM t WHERE id BETWEEN 2 AND 2;
         UPDATE t SET c = c || '!' WHERE b > 15;",
    )
    .await
    .unwrap();
    assert_eq!(lines(&c, "SELECT * FROM t ORDER BY id").await, ["1|10|u", "3|30|u!", "4|10|d"]);
    c.batch_execute("BEGIN").await.unwrap();
    let locked = lines(&c, "SELECT id FROM t WHERE id >= 3 ORDER BY id LIMIT 1 FOR UPDATE").await;
    assert_eq!(locked, ["3"]);
    c.batch_execute("COMMIT").await.unwrap();
    db.stop().await;
}

#[tokio::test]
async fn ranges_on_a_large_table_read_few_rows() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE big (id int PRIMARY KEY, b int NOT NULL, pad text)")
        .await
        .unwrap();
    c.batch_execute("CREATE INDEX big_b_idx ON big (b)").await.unwrap();
    for chunk in 0..100 {
        let values: Vec<String> = (0..1000)
            .map(|i| {
                let id = chunk * 1000 + i;
                format!("({id}, {}, 'row {id}')", 100_000 - id)
            })
            .collect();
        c.batch_execute(&format!("INSERT INTO big VALUES {}", values.join(","))).await.unwrap();
    }
    let range = "SELECT count(*) FROM big WHERE id BETWEEN 50000 AND 50009";
    assert_eq!(scalar(&c, range).await.as_deref(), Some("10"));
    assert_eq!(
        lines(&c, "SELECT id FROM big WHERE b > 99990 ORDER BY b LIMIT 3").await,
        ["9", "8", "7"]
    );
    assert_eq!(
        lines(&c, "SELECT id FROM big ORDER BY b LIMIT 2 OFFSET 1").await,
        ["99998", "99997"]
    );
    assert_eq!(lines(&c, "SELECT id FROM big ORDER BY id LIMIT 2").await, ["0", "1"]);
    // The same count through a filter the key cannot serve reads all 100k rows.
    let full = "SELECT count(*) FROM big WHERE id + 0 BETWEEN 50000 AND 50009";
    assert_eq!(scalar(&c, full).await.as_deref(), Some("10"));
    // Which rows are read is the plan's business: the key range, the index in order.
    let plan = |q: &str| format!("EXPLAIN (COSTS OFF) {q}");
    assert_eq!(
        lines(&c, &plan(range)).await,
        [
            "Aggregate",
            "  ->  Index Scan using big_pkey on big",
            "        Index Cond: ((id >= 50000) AND (id <= 50009))"
        ]
    );
    assert_eq!(
        lines(&c, &plan("SELECT * FROM big ORDER BY b LIMIT 5")).await,
        ["Limit", "  ->  Index Scan using big_b_idx on big"]
    );
    db.stop().await;
}

// A WHERE condition goes below a join to the input whose columns it reads (and there
// picks a key path), instead of filtering the joined rows: the join reads the rows it
// keeps. An outer join's nullable side keeps its condition above the join.
#[tokio::test]
async fn where_conditions_go_below_joins() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE cu (id int PRIMARY KEY, region int NOT NULL);
         CREATE TABLE od (id int PRIMARY KEY, cu_id int NOT NULL, amount numeric(10,2));
         INSERT INTO cu VALUES (1, 1), (2, 2), (3, 1);
         INSERT INTO od VALUES (10, 1, 5), (11, 2, 7), (12, 3, 9), (13, 3, 1)",
    )
    .await
    .unwrap();
    let plan = |q: &str| format!("EXPLAIN (COSTS OFF) {q}");
    let inner =
        "SELECT count(*) FROM od o JOIN cu c ON c.id = o.cu_id WHERE c.region = 1 AND o.id > 10";
    assert_eq!(
        lines(&c, &plan(inner)).await,
        [
            "Aggregate",
            "  ->  Hash Join",
            "        Hash Cond: (id = cu_id)",
            "        ->  Index Scan using od_pkey on od",
            "              Index Cond: (id > 10)",
            "        ->  Hash",
            "              ->  Seq Scan on cu",
            "                    Filter: (region = 1)",
        ]
    );
    assert_eq!(scalar(&c, inner).await.as_deref(), Some("2"));
    let anti = "SELECT o.id FROM od o LEFT JOIN cu c ON c.id = o.cu_id AND c.region = 2 \
                WHERE c.id IS NULL AND o.amount > 2 ORDER BY o.id";
    assert_eq!(lines(&c, anti).await, ["10", "12"]);
    let shown = lines(&c, &plan(anti)).await;
    assert!(shown.iter().any(|l| l.trim() == "Filter: (id IS NULL)"), "{shown:?}");
    db.stop().await;
}
