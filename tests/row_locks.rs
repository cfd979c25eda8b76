//! SELECT … FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE [NOWAIT | SKIP LOCKED],
//! the strengths' conflicts, lock_timeout and statement_timeout,
//! across several connections, with PostgreSQL's outcomes (each test also passes
//! against PostgreSQL: `TROUPE_REFERENCE_PG=<port> cargo test --test row_locks`).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{lines, message, sqlstate, with_two_rows, TestServer};
use tokio_postgres::error::SqlState;

/// How long to let a statement reach its lock wait before checking it is blocked.
const BLOCK: Duration = Duration::from_millis(200);

// A row locked FOR UPDATE holds off a writer until the locker ends; a FOR UPDATE that
// waited returns the row as the other transaction committed it (READ COMMITTED).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn for_update_waits_and_returns_the_committed_row() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET v = 5 WHERE id = 1").await.unwrap();
    b.batch_execute("BEGIN").await.unwrap();
    let waiting = tokio::spawn(async move {
        let r = b.query("SELECT v FROM t WHERE id = 1 FOR UPDATE", &[]).await;
        (b, r)
    });
    tokio::time::sleep(BLOCK).await;
    assert!(!waiting.is_finished(), "FOR UPDATE waits for the writer");
    a.batch_execute("COMMIT").await.unwrap();
    let (b, r) = waiting.await.unwrap();
    assert_eq!(r.unwrap()[0].get::<_, i32>(0), 5, "the row as committed, not the snapshot's");

    // Now b holds the row: a's update waits until b commits.
    let c = db.connect().await;
    let update =
        tokio::spawn(async move { c.execute("UPDATE t SET v = v + 1 WHERE id = 1", &[]).await });
    tokio::time::sleep(BLOCK).await;
    assert!(!update.is_finished(), "the locked row holds off the writer");
    b.batch_execute("COMMIT").await.unwrap();
    assert_eq!(update.await.unwrap().unwrap(), 1);
    assert_eq!(lines(&a, "SELECT v FROM t WHERE id = 1").await, ["6"]);
}

// A row that stopped matching the WHERE while we waited is not returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn for_update_rechecks_the_where_after_waiting() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET v = 7 WHERE id = 1").await.unwrap();
    let waiting = tokio::spawn(async move {
        b.query("SELECT id FROM t WHERE v = 0 ORDER BY id FOR UPDATE", &[]).await
    });
    tokio::time::sleep(BLOCK).await;
    a.batch_execute("COMMIT").await.unwrap();
    let ids: Vec<i32> = waiting.await.unwrap().unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(ids, [2]);
}

// NOWAIT fails at once with 55P03 and PostgreSQL's message; SKIP LOCKED passes over
// the held row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nowait_fails_and_skip_locked_skips() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; SELECT * FROM t WHERE id = 1 FOR UPDATE").await.unwrap();
    b.batch_execute("BEGIN").await.unwrap();
    let err = b.query("SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::LOCK_NOT_AVAILABLE));
    assert_eq!(message(&err), "could not obtain lock on row in relation \"t\"");
    b.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(lines(&b, "SELECT id FROM t ORDER BY id FOR UPDATE SKIP LOCKED").await, ["2"]);
    assert_eq!(
        lines(&b, "SELECT id FROM t ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED").await,
        ["2"]
    );
    // A transaction that only locked rows releases them when it commits.
    a.batch_execute("COMMIT").await.unwrap();
    assert_eq!(lines(&b, "SELECT id FROM t ORDER BY id FOR UPDATE NOWAIT").await, ["1", "2"]);
}

// The job-queue pattern: workers claim the first job nobody holds; every job is done
// exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_locked_job_queue_hands_each_job_to_one_worker() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "DROP TABLE IF EXISTS jobs; CREATE TABLE jobs (id int PRIMARY KEY, done bool NOT NULL, worker int)",
    )
    .await
    .unwrap();
    let values: Vec<String> = (1..=60).map(|i| format!("({i}, false, NULL)")).collect();
    c.batch_execute(&format!("INSERT INTO jobs VALUES {}", values.join(", "))).await.unwrap();
    let mut workers = Vec::new();
    for w in 0..6i32 {
        let conn = db.connect().await;
        workers.push(tokio::spawn(async move {
            let mut claimed = Vec::new();
            loop {
                conn.batch_execute("BEGIN").await.unwrap();
                let rows = conn
                    .query(
                        "SELECT id FROM jobs WHERE NOT done ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
                        &[],
                    )
                    .await
                    .unwrap();
                let Some(row) = rows.first() else {
                    conn.batch_execute("COMMIT").await.unwrap();
                    return claimed;
                };
                let id: i32 = row.get(0);
                conn.execute("UPDATE jobs SET done = true, worker = $1 WHERE id = $2", &[&w, &id])
                    .await
                    .unwrap();
                conn.batch_execute("COMMIT").await.unwrap();
                claimed.push(id);
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let distinct: HashSet<i32> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "no job claimed twice");
    assert_eq!(distinct.len(), 60, "every job claimed");
    assert_eq!(
        lines(&c, "SELECT count(*) FROM jobs WHERE done AND worker IS NOT NULL").await,
        ["60"]
    );
}

// REPEATABLE READ: a lock taken and released since the snapshot is not a change (no
// 40001), an update committed since it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeatable_read_ignores_locks_but_not_updates() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM t").await.unwrap();
    b.batch_execute("BEGIN; SELECT * FROM t WHERE id = 1 FOR UPDATE; COMMIT").await.unwrap();
    a.batch_execute("UPDATE t SET v = 1 WHERE id = 1").await.unwrap();
    b.batch_execute("UPDATE t SET v = 2 WHERE id = 2").await.unwrap();
    assert_eq!(
        sqlstate(&a, "SELECT * FROM t WHERE id = 2 FOR UPDATE").await,
        SqlState::T_R_SERIALIZATION_FAILURE
    );
    a.batch_execute("ROLLBACK").await.unwrap();
}

// What PostgreSQL refuses, and what troupe does not do yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn for_update_refusals() {
    let (_db, c) = with_two_rows().await;
    let err = c.query("SELECT count(*) FROM t FOR UPDATE", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::FEATURE_NOT_SUPPORTED));
    assert_eq!(message(&err), "FOR UPDATE is not allowed with aggregate functions");
    let err = c.query("SELECT DISTINCT v FROM t FOR UPDATE", &[]).await.unwrap_err();
    assert_eq!(message(&err), "FOR UPDATE is not allowed with DISTINCT clause");
    let err = c.query("SELECT count(*) FROM t FOR KEY SHARE", &[]).await.unwrap_err();
    assert_eq!(message(&err), "FOR KEY SHARE is not allowed with aggregate functions");
    let err = c.query("SELECT DISTINCT v FROM t FOR NO KEY UPDATE", &[]).await.unwrap_err();
    assert_eq!(message(&err), "FOR NO KEY UPDATE is not allowed with DISTINCT clause");
    if common::reference_pg().is_none() {
        assert_eq!(
            sqlstate(&c, "SELECT * FROM t FOR SHARE FOR UPDATE").await,
            SqlState::FEATURE_NOT_SUPPORTED
        );
    }
}

/// Runs `sql` on `c` in the background; true if it is still waiting after [`BLOCK`].
async fn blocks(
    c: tokio_postgres::Client,
    sql: &'static str,
) -> tokio::task::JoinHandle<(tokio_postgres::Client, Result<u64, tokio_postgres::Error>)> {
    let task = tokio::spawn(async move {
        let r = c.execute(sql, &[]).await;
        (c, r)
    });
    tokio::time::sleep(BLOCK).await;
    task
}

// FOR SHARE: two sharers hold one row at once; a writer waits for both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharers_hold_a_row_together_and_hold_off_writers() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; SELECT * FROM t WHERE id = 1 FOR SHARE").await.unwrap();
    b.batch_execute("BEGIN").await.unwrap();
    assert_eq!(lines(&b, "SELECT v FROM t WHERE id = 1 FOR SHARE NOWAIT").await, ["0"]);
    assert_eq!(lines(&b, "SELECT v FROM t WHERE id = 1 FOR KEY SHARE NOWAIT").await, ["0"]);
    let err = b.query("SELECT * FROM t WHERE id = 2 FOR SHARE", &[]).await;
    assert!(err.is_ok(), "an unlocked row");
    let update = blocks(db.connect().await, "UPDATE t SET v = 1 WHERE id = 1").await;
    assert!(!update.is_finished(), "a writer waits for the sharers");
    a.batch_execute("COMMIT").await.unwrap();
    tokio::time::sleep(BLOCK).await;
    assert!(!update.is_finished(), "one sharer is still there");
    b.batch_execute("COMMIT").await.unwrap();
    assert_eq!(update.await.unwrap().1.unwrap(), 1);

    // A sharer holds off FOR UPDATE / NO KEY UPDATE, not FOR KEY SHARE.
    a.batch_execute("BEGIN; SELECT * FROM t WHERE id = 1 FOR SHARE").await.unwrap();
    let c = db.connect().await;
    c.batch_execute("BEGIN").await.unwrap();
    for sql in [
        "SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT",
        "SELECT * FROM t WHERE id = 1 FOR NO KEY UPDATE NOWAIT",
    ] {
        c.batch_execute("SAVEPOINT s").await.unwrap();
        let err = c.query(sql, &[]).await.unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::LOCK_NOT_AVAILABLE), "{sql}");
        c.batch_execute("ROLLBACK TO SAVEPOINT s").await.unwrap();
    }
    assert_eq!(
        lines(&c, "SELECT id FROM t ORDER BY id FOR NO KEY UPDATE SKIP LOCKED").await,
        ["2"]
    );
    c.batch_execute("COMMIT").await.unwrap();
    a.batch_execute("COMMIT").await.unwrap();
}

// FOR KEY SHARE (a foreign-key check's lock) lets an UPDATE of non-key columns through
// but holds off a DELETE, a key change and FOR UPDATE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_share_only_holds_off_key_changes() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; SELECT * FROM t WHERE id = 1 FOR KEY SHARE").await.unwrap();
    assert_eq!(b.execute("UPDATE t SET v = 3 WHERE id = 1", &[]).await.unwrap(), 1);
    b.batch_execute("BEGIN").await.unwrap();
    let err = b.query("SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::LOCK_NOT_AVAILABLE));
    b.batch_execute("ROLLBACK").await.unwrap();
    let delete = blocks(b, "DELETE FROM t WHERE id = 1").await;
    assert!(!delete.is_finished(), "a DELETE waits for the key sharer");
    a.batch_execute("COMMIT").await.unwrap();
    let (b, deleted) = delete.await.unwrap();
    assert_eq!(deleted.unwrap(), 1);

    // An uncommitted non-key UPDATE does not hold off FOR KEY SHARE; a DELETE does.
    b.batch_execute("BEGIN; UPDATE t SET v = 9 WHERE id = 2").await.unwrap();
    a.batch_execute("BEGIN").await.unwrap();
    assert_eq!(lines(&a, "SELECT v FROM t WHERE id = 2 FOR KEY SHARE NOWAIT").await, ["0"]);
    let err = a.query("SELECT * FROM t WHERE id = 2 FOR SHARE NOWAIT", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::LOCK_NOT_AVAILABLE));
    a.batch_execute("ROLLBACK").await.unwrap();
    // (Not the same transaction: PostgreSQL's NOWAIT waits anyway when it follows an
    // update chain to a deleted version.)
    b.batch_execute("ROLLBACK; BEGIN; DELETE FROM t WHERE id = 2").await.unwrap();
    a.batch_execute("BEGIN").await.unwrap();
    let err = a.query("SELECT * FROM t WHERE id = 2 FOR KEY SHARE NOWAIT", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::LOCK_NOT_AVAILABLE));
    a.batch_execute("ROLLBACK").await.unwrap();
    b.batch_execute("ROLLBACK").await.unwrap();
}

// lock_timeout ends a lock wait with 55P03; statement_timeout ends a statement with
// 57014; both are shown as PostgreSQL normalises them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_and_statement_timeouts() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET v = 1 WHERE id = 1").await.unwrap();
    b.batch_execute("SET lock_timeout = '150ms'").await.unwrap();
    assert_eq!(lines(&b, "SHOW lock_timeout").await, ["150ms"]);
    let err = b.execute("UPDATE t SET v = 2 WHERE id = 1", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::LOCK_NOT_AVAILABLE));
    assert_eq!(message(&err), "canceling statement due to lock timeout");
    b.batch_execute("SET lock_timeout = 0; SET statement_timeout = 1000").await.unwrap();
    assert_eq!(lines(&b, "SHOW statement_timeout").await, ["1s"]);
    b.batch_execute("SET statement_timeout = '150ms'").await.unwrap();
    let err = b.execute("UPDATE t SET v = 2 WHERE id = 1", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED));
    assert_eq!(message(&err), "canceling statement due to statement timeout");
    assert_eq!(sqlstate(&b, "SET lock_timeout = 'soon'").await, SqlState::INVALID_PARAMETER_VALUE);
    // The session is usable, and the row is free once the holder ends.
    a.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(b.execute("UPDATE t SET v = 2 WHERE id = 1", &[]).await.unwrap(), 1);
}
