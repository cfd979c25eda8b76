//! The query surface over the wire: subqueries, set operations, WITH [RECURSIVE],
//! every join kind, DISTINCT ON, aggregates and functions — checked for what a client
//! sees besides the rows (column names and types in RowDescription, SQLSTATEs), and
//! for joins and subqueries over tables large enough that a nested loop would show.
//! `tests/slt/query/*.slt` hold the row-by-row expectations; every expectation here
//! also holds against PostgreSQL 15 (`TROUPE_REFERENCE_PG=<port>`).
#![allow(clippy::unwrap_used)]

mod common;

use common::{lines, scalar, sqlstate, TestServer};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

async fn setup(c: &Client) {
    c.batch_execute(
        "CREATE TABLE emp (id int PRIMARY KEY, name text, dept int, salary numeric, boss int);
         CREATE TABLE dept (id int PRIMARY KEY, dname text);
         INSERT INTO dept VALUES (1, 'eng'), (2, 'ops'), (3, 'empty');
         INSERT INTO emp VALUES (1, 'ann', 1, 100, NULL), (2, 'bob', 1, 80, 1),
           (3, 'cid', 2, 70, 1), (4, 'dan', NULL, 50, 2), (5, 'eve', 2, NULL, 3);",
    )
    .await
    .unwrap();
}

/// (name, type) of each result column, from the statement's RowDescription.
async fn described(c: &Client, sql: &str) -> Vec<(String, Type)> {
    let st = c.prepare(sql).await.unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    st.columns().iter().map(|c| (c.name().to_owned(), c.type_().clone())).collect()
}

fn cols(v: &[(&str, Type)]) -> Vec<(String, Type)> {
    v.iter().map(|(n, t)| (n.to_string(), t.clone())).collect()
}

// Result columns are named and typed as PostgreSQL names and types them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_names_and_types_are_postgres() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    setup(&c).await;
    assert_eq!(
        described(
            &c,
            "SELECT count(*), sum(id), sum(id::bigint), avg(id), min(name), string_agg(name, ','), \
             bool_and(id > 0), array_agg(id) FROM emp"
        )
        .await,
        cols(&[
            ("count", Type::INT8),
            ("sum", Type::INT8),
            ("sum", Type::NUMERIC),
            ("avg", Type::NUMERIC),
            ("min", Type::TEXT),
            ("string_agg", Type::TEXT),
            ("bool_and", Type::BOOL),
            ("array_agg", Type::INT4_ARRAY),
        ])
    );
    assert_eq!(
        described(
            &c,
            "SELECT 1 + 1, coalesce(dept, 0), nullif(id, 1), greatest(id, 2), \
             CASE WHEN id > 1 THEN 'x' END, (SELECT dname FROM dept d WHERE d.id = e.dept), \
             EXISTS (SELECT 1), id IN (SELECT 1), substring(name from 1 for 1), \
             extract(year from now()), round(2.5), round(2), left(name, 1) FROM emp e"
        )
        .await,
        cols(&[
            ("?column?", Type::INT4),
            ("coalesce", Type::INT4),
            ("nullif", Type::INT4),
            ("greatest", Type::INT4),
            ("case", Type::TEXT),
            ("dname", Type::TEXT),
            ("exists", Type::BOOL),
            ("?column?", Type::BOOL),
            ("substring", Type::TEXT),
            ("extract", Type::NUMERIC),
            ("round", Type::NUMERIC),
            ("round", Type::FLOAT8),
            ("left", Type::TEXT),
        ])
    );
    // A set operation takes its names from the left side and resolves the types.
    assert_eq!(
        described(&c, "SELECT 1 AS a, NULL AS b UNION SELECT 2.5, 'x'").await,
        cols(&[("a", Type::NUMERIC), ("b", Type::TEXT)])
    );
    // USING merges the key column in front.
    assert_eq!(
        described(&c, "SELECT * FROM emp JOIN dept USING (id)").await,
        cols(&[
            ("id", Type::INT4),
            ("name", Type::TEXT),
            ("dept", Type::INT4),
            ("salary", Type::NUMERIC),
            ("boss", Type::INT4),
            ("dname", Type::TEXT),
        ])
    );
}

// Subqueries with parameters, over the extended protocol: the parameter's type is
// inferred inside the subquery, and a correlated subquery sees each outer row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subqueries_with_parameters() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    setup(&c).await;
    let rows = c
        .query(
            "SELECT e.name FROM emp e WHERE e.dept IN (SELECT id FROM dept WHERE dname = $1) \
             AND e.salary > (SELECT avg(salary) FROM emp x WHERE x.dept = e.dept) - $2::int \
             ORDER BY e.name",
            &[&"eng", &30i32],
        )
        .await
        .unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["ann", "bob"]);
    // NOT IN over a set with a NULL is never true.
    assert_eq!(
        lines(&c, "SELECT count(*) FROM emp WHERE id NOT IN (SELECT boss FROM emp)").await,
        ["0"]
    );
    assert_eq!(sqlstate(&c, "SELECT (SELECT id FROM emp)").await, SqlState::CARDINALITY_VIOLATION);
    assert_eq!(sqlstate(&c, "SELECT (SELECT id, name FROM emp)").await, SqlState::SYNTAX_ERROR);
}

// Joins of three tables of a thousand rows each on equality keys answer at once (a
// hash join; nested loops would take 10^9 steps), and outer joins keep their rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equi_joins_of_large_tables() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE a (id int PRIMARY KEY, k int);
         CREATE TABLE b (id int PRIMARY KEY, k bigint);
         CREATE TABLE c (k int, v text);",
    )
    .await
    .unwrap();
    let values = |f: &dyn Fn(i32) -> String| (1..=1000).map(f).collect::<Vec<_>>().join(",");
    c.batch_execute(&format!(
        "INSERT INTO a VALUES {}; INSERT INTO b VALUES {}; INSERT INTO c VALUES {};",
        values(&|i| format!("({i}, {})", i % 500)),
        values(&|i| format!("({i}, {})", i + 200)),
        values(&|i| format!("({i}, 'v{i}')")),
    ))
    .await
    .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM a JOIN b ON a.k = b.k JOIN c ON c.k = b.id").await,
        Some("598".into())
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM a FULL JOIN b ON a.k = b.k").await,
        Some("1701".into())
    );
    assert_eq!(
        scalar(&c, "SELECT count(*) FROM a RIGHT JOIN b USING (k) WHERE a.id IS NULL").await,
        Some("701".into())
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
}

// WITH RECURSIVE walks a hierarchy; the malformed forms are PostgreSQL's errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursive_queries() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    setup(&c).await;
    assert_eq!(
        lines(
            &c,
            "WITH RECURSIVE chain(id, path) AS (
               SELECT id, name FROM emp WHERE boss IS NULL
               UNION ALL
               SELECT e.id, c.path || '>' || e.name FROM emp e JOIN chain c ON e.boss = c.id)
             SELECT path FROM chain ORDER BY id"
        )
        .await,
        ["ann", "ann>bob", "ann>cid", "ann>bob>dan", "ann>cid>eve"]
    );
    assert_eq!(
        scalar(
            &c,
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION SELECT n % 4 + 1 FROM r) SELECT sum(n) FROM r"
        )
        .await,
        Some("10".into())
    );
    assert_eq!(
        sqlstate(&c, "WITH RECURSIVE r(n) AS (SELECT n FROM r UNION SELECT 1) SELECT * FROM r")
            .await,
        SqlState::INVALID_RECURSION
    );
    assert_eq!(
        sqlstate(
            &c,
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n::bigint FROM r) SELECT * FROM r"
        )
        .await,
        SqlState::DATATYPE_MISMATCH
    );
}

// Set operations, DISTINCT ON and paging together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_operations_and_distinct_on() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    setup(&c).await;
    assert_eq!(
        lines(
            &c,
            "SELECT dept FROM emp UNION SELECT id FROM dept EXCEPT SELECT 3 ORDER BY 1 NULLS FIRST"
        )
        .await,
        ["NULL", "1", "2"]
    );
    assert_eq!(
        lines(
            &c,
            "SELECT DISTINCT ON (dept) dept, name FROM emp ORDER BY dept, salary DESC NULLS LAST"
        )
        .await,
        ["1|ann", "2|cid", "NULL|dan"]
    );
    assert_eq!(
        lines(&c, "SELECT name FROM emp ORDER BY id LIMIT 2 OFFSET 2").await,
        ["cid", "dan"]
    );
    assert_eq!(sqlstate(&c, "SELECT 1 UNION SELECT 'a'::text").await, SqlState::DATATYPE_MISMATCH);
    assert_eq!(
        sqlstate(&c, "SELECT DISTINCT ON (dept) name FROM emp ORDER BY name").await,
        SqlState::INVALID_COLUMN_REFERENCE
    );
}

// What is not supported yet is refused with 0A000, never approximated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_forms_are_refused() {
    if common::reference_pg().is_some() {
        return;
    }
    let db = TestServer::start().await;
    let c = db.connect().await;
    setup(&c).await;
    // (Subqueries in UPDATE / DELETE are supported now: tests/slt/dml/subquery_dml.slt.)
    // (Numeric sqrt is supported now: tests/slt/query/math.slt.)
    for sql in [
        "SELECT ARRAY[[1, 2], [3, 4]]",
        "SELECT to_char(now(), 'Month')",
        "SELECT format('%5s', 'a')",
    ] {
        assert_eq!(sqlstate(&c, sql).await, SqlState::FEATURE_NOT_SUPPORTED, "{sql}");
    }
}
