//! UPDATE … FROM, DELETE … USING and subqueries in writes under READ COMMITTED
//! concurrency: a write that waited for a concurrent writer re-checks its WHERE — the
//! join condition with the FROM row it found, and its subqueries, re-evaluated — on the
//! row's newest committed version, as PostgreSQL's EvalPlanQual does. Each test also
//! passes against PostgreSQL: `TROUPE_REFERENCE_PG=<port> cargo test --test dml_from`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{lines, TestServer};
use tokio_postgres::Client;

/// How long to let a statement reach its lock wait before checking it is blocked.
const BLOCK: Duration = Duration::from_millis(200);

/// `t` (id, grp, v): rows 1 and 2 in group 1, row 3 in group 2; `s` (grp, newv).
async fn setup() -> (TestServer, Client, Client) {
    let db = TestServer::start().await;
    let a = db.connect().await;
    a.batch_execute(
        "DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS s;
         CREATE TABLE t (id int PRIMARY KEY, grp int, v int);
         CREATE TABLE s (grp int PRIMARY KEY, newv int);
         INSERT INTO t VALUES (1, 1, 0), (2, 1, 0), (3, 2, 0);
         INSERT INTO s VALUES (1, 100), (2, 200)",
    )
    .await
    .unwrap();
    let b = db.connect().await;
    (db, a, b)
}

/// Runs `sql` on `b` while `a` holds row 1 with `a_change`; `a` commits after `b` has
/// blocked. Returns the number of rows `b` wrote.
async fn after_concurrent_change(a: &Client, b: Client, a_change: &str, sql: &str) -> u64 {
    a.batch_execute(&format!("BEGIN; {a_change}")).await.unwrap();
    let sql = sql.to_owned();
    let waiting = tokio::spawn(async move { b.execute(sql.as_str(), &[]).await });
    tokio::time::sleep(BLOCK).await;
    assert!(!waiting.is_finished(), "the write waits for the concurrent writer");
    a.batch_execute("COMMIT").await.unwrap();
    waiting.await.unwrap().unwrap()
}

// The row moved to another group while we waited: the join condition, re-checked on
// the newest version with the FROM row found, no longer holds; the other row of the
// group is updated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_from_rechecks_the_join_on_the_newest_version() {
    let (_db, a, b) = setup().await;
    let n = after_concurrent_change(
        &a,
        b,
        "UPDATE t SET grp = 2 WHERE id = 1",
        "UPDATE t SET v = s.newv FROM s WHERE t.grp = s.grp AND s.grp = 1",
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(
        lines(&a, "SELECT id, grp, v FROM t ORDER BY id").await,
        ["1|2|0", "2|1|100", "3|2|0"]
    );
}

// The concurrent change keeps the row joined: the update builds on the newest version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_from_builds_on_the_committed_change() {
    let (_db, a, b) = setup().await;
    let n = after_concurrent_change(
        &a,
        b,
        "UPDATE t SET v = 5 WHERE id = 1",
        "UPDATE t SET v = t.v + s.newv FROM s WHERE t.id = 1 AND t.grp = s.grp",
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(lines(&a, "SELECT v FROM t WHERE id = 1").await, ["105"]);
}

// DELETE … USING: the row left the joined group while we waited, so it stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_using_rechecks_the_join() {
    let (_db, a, b) = setup().await;
    let n = after_concurrent_change(
        &a,
        b,
        "UPDATE t SET grp = 2 WHERE id = 1",
        "DELETE FROM t USING s WHERE t.grp = s.grp AND s.newv = 100",
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(lines(&a, "SELECT id FROM t ORDER BY id").await, ["1", "3"]);
}

// A correlated subquery in SET is evaluated for the newest version (its new group).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlated_set_subquery_is_reevaluated() {
    let (_db, a, b) = setup().await;
    let n = after_concurrent_change(
        &a,
        b,
        "UPDATE t SET grp = 2 WHERE id = 1",
        "UPDATE t SET v = (SELECT newv FROM s WHERE s.grp = t.grp) WHERE id = 1",
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(lines(&a, "SELECT v FROM t WHERE id = 1").await, ["200"]);
}

// A subquery in WHERE is re-checked on the newest version: the row no longer matches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_subquery_is_rechecked() {
    let (_db, a, b) = setup().await;
    let n = after_concurrent_change(
        &a,
        b,
        "UPDATE t SET grp = 2 WHERE id = 1",
        "DELETE FROM t WHERE grp IN (SELECT grp FROM s WHERE newv = 100)",
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(lines(&a, "SELECT id FROM t ORDER BY id").await, ["1", "3"]);
}

// The plan of a join on the target's primary key: a key lookup per FROM row (a Nested
// Loop over an Index Scan), never a loop over full scans of the target; a join on a
// column without an index reads the target once and hashes. (troupe's plan only:
// PostgreSQL chooses by cost.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_on_the_target_key_is_a_key_lookup() {
    if common::reference_pg().is_some() {
        return;
    }
    let (_db, a, _b) = setup().await;
    let plan =
        lines(&a, "EXPLAIN (COSTS OFF) UPDATE t SET v = s.newv FROM s WHERE t.id = s.grp").await;
    assert_eq!(plan[1].trim(), "->  Nested Loop", "{plan:?}");
    assert!(plan.iter().any(|l| l.contains("Index Scan using t_pkey on t")), "{plan:?}");
    let plan = lines(&a, "EXPLAIN (COSTS OFF) DELETE FROM t USING s WHERE t.grp = s.grp").await;
    assert_eq!(plan[1].trim(), "->  Hash Join", "{plan:?}");
}
