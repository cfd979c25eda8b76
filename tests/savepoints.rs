//! SAVEPOINT, ROLLBACK TO SAVEPOINT and RELEASE SAVEPOINT, with PostgreSQL's outcomes
//! (each test also passes against PostgreSQL: `TROUPE_REFERENCE_PG=<port> cargo test
//! --test savepoints`).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{lines, message, sqlstate, with_two_rows};
use tokio_postgres::error::SqlState;

// ROLLBACK TO undoes what came after the savepoint and keeps what came before; the
// transaction goes on and commits the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_to_undoes_only_what_came_after() {
    let (_db, c) = with_two_rows().await;
    c.batch_execute(
        "BEGIN; INSERT INTO t VALUES (3, 3); SAVEPOINT a; INSERT INTO t VALUES (4, 4);
         UPDATE t SET v = 9 WHERE id = 1; DELETE FROM t WHERE id = 3",
    )
    .await
    .unwrap();
    assert_eq!(lines(&c, "SELECT id, v FROM t ORDER BY id").await, ["1|9", "2|0", "4|4"]);
    c.batch_execute("ROLLBACK TO SAVEPOINT a").await.unwrap();
    assert_eq!(lines(&c, "SELECT id, v FROM t ORDER BY id").await, ["1|0", "2|0", "3|3"]);
    // The rolled-back insert's key is free again, in the same transaction.
    c.batch_execute("INSERT INTO t VALUES (4, 40); COMMIT").await.unwrap();
    assert_eq!(lines(&c, "SELECT id, v FROM t ORDER BY id").await, ["1|0", "2|0", "3|3", "4|40"]);
}

// An error inside a savepoint fails the block (25P02) until ROLLBACK TO, which
// recovers it; the work before the savepoint is committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_to_recovers_a_failed_block() {
    let (_db, c) = with_two_rows().await;
    c.batch_execute("BEGIN; INSERT INTO t VALUES (3, 3); SAVEPOINT a").await.unwrap();
    assert_eq!(sqlstate(&c, "INSERT INTO t VALUES (1, 1)").await, SqlState::UNIQUE_VIOLATION);
    assert_eq!(sqlstate(&c, "SELECT 1").await, SqlState::IN_FAILED_SQL_TRANSACTION);
    assert_eq!(sqlstate(&c, "SAVEPOINT b").await, SqlState::IN_FAILED_SQL_TRANSACTION);
    c.batch_execute("ROLLBACK TO a").await.unwrap();
    assert_eq!(lines(&c, "SELECT count(*) FROM t").await, ["3"]);
    // The same savepoint can be rolled back to again.
    c.batch_execute("INSERT INTO t VALUES (5, 5); ROLLBACK TO a; COMMIT").await.unwrap();
    assert_eq!(lines(&c, "SELECT id FROM t ORDER BY id").await, ["1", "2", "3"]);
}

// Nested savepoints, a repeated name (the newest wins), RELEASE, and the errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nesting_names_and_release() {
    let (_db, c) = with_two_rows().await;
    c.batch_execute(
        "BEGIN; SAVEPOINT a; INSERT INTO t VALUES (3, 3); SAVEPOINT a; INSERT INTO t VALUES (4, 4);
         ROLLBACK TO a",
    )
    .await
    .unwrap();
    assert_eq!(lines(&c, "SELECT id FROM t ORDER BY id").await, ["1", "2", "3"]);
    c.batch_execute("RELEASE a; ROLLBACK TO a").await.unwrap();
    assert_eq!(lines(&c, "SELECT id FROM t ORDER BY id").await, ["1", "2"]);
    c.batch_execute("SAVEPOINT b; INSERT INTO t VALUES (6, 6); RELEASE SAVEPOINT b").await.unwrap();
    let err = c.batch_execute("ROLLBACK TO b").await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::S_E_INVALID_SPECIFICATION));
    assert_eq!(message(&err), "savepoint \"b\" does not exist");
    // The error failed the block; savepoint a still exists and recovers it.
    c.batch_execute("ROLLBACK TO a; COMMIT").await.unwrap();
    assert_eq!(lines(&c, "SELECT id FROM t ORDER BY id").await, ["1", "2"]);

    let err = c.batch_execute("SAVEPOINT x").await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::NO_ACTIVE_SQL_TRANSACTION));
    assert_eq!(message(&err), "SAVEPOINT can only be used in transaction blocks");
    let err = c.batch_execute("ROLLBACK TO x").await.unwrap_err();
    assert_eq!(message(&err), "ROLLBACK TO SAVEPOINT can only be used in transaction blocks");
}

// SETs made after a savepoint revert at ROLLBACK TO.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_to_reverts_settings() {
    let (_db, c) = with_two_rows().await;
    c.batch_execute("BEGIN; SET lock_timeout = '1s'; SAVEPOINT a; SET lock_timeout = '2s'")
        .await
        .unwrap();
    assert_eq!(lines(&c, "SHOW lock_timeout").await, ["2s"]);
    c.batch_execute("ROLLBACK TO a").await.unwrap();
    assert_eq!(lines(&c, "SHOW lock_timeout").await, ["1s"]);
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(lines(&c, "SHOW lock_timeout").await, ["0"]);
}

// Row locks taken after a savepoint are released by ROLLBACK TO: a writer blocked by
// them goes on while the transaction is still open; locks taken before it stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_to_releases_row_locks_taken_after_the_savepoint() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute(
        "BEGIN; UPDATE t SET v = 1 WHERE id = 2; SAVEPOINT s; UPDATE t SET v = 1 WHERE id = 1",
    )
    .await
    .unwrap();
    let blocked = tokio::spawn(async move {
        let r = b.execute("UPDATE t SET v = v + 10 WHERE id = 1", &[]).await;
        (b, r)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!blocked.is_finished(), "the row is held by the subtransaction");
    a.batch_execute("ROLLBACK TO s").await.unwrap();
    let (b, r) = tokio::time::timeout(Duration::from_secs(5), blocked).await.unwrap().unwrap();
    assert_eq!(r.unwrap(), 1, "the writer goes on once the savepoint is rolled back");
    // The row updated before the savepoint is still held.
    b.batch_execute("SET lock_timeout = '100ms'").await.unwrap();
    assert_eq!(sqlstate(&b, "UPDATE t SET v = 5 WHERE id = 2").await, SqlState::LOCK_NOT_AVAILABLE);
    a.batch_execute("COMMIT").await.unwrap();
    assert_eq!(lines(&a, "SELECT id, v FROM t ORDER BY id").await, ["1|10", "2|1"]);
}
