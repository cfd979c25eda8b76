//! UPDATE of a primary key under concurrency: the row moves to a new key (a deletion
//! marked moved at the old key, the new image at the new one), and a writer that built
//! on the old key must not silently miss the row. Where PostgreSQL and troupe agree the
//! tests run against both (`TROUPE_REFERENCE_PG=<port> cargo test --test update_key`);
//! the 40001 for a READ COMMITTED writer that waited on a moved row is troupe's (the
//! equivalent of PostgreSQL's cross-partition move), and its tests skip PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{lines, message, with_two_rows};
use tokio_postgres::error::SqlState;

/// How long to let a statement reach its lock wait before checking it is blocked.
const BLOCK: Duration = Duration::from_millis(200);

// [a] BEGIN; UPDATE t SET id = 10 WHERE id = 1    (the row moves, uncommitted)
//                    [b] BEGIN; UPDATE t SET v = 5 WHERE v = 0   waits for a on row 1
// [a] COMMIT         [b] 40001: the row it waited for lives under another key now
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_committed_writer_that_waited_on_a_moved_row_gets_40001() {
    if common::reference_pg().is_some() {
        return; // PostgreSQL follows the update chain within one table
    }
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET id = 10 WHERE id = 1").await.unwrap();
    b.batch_execute("BEGIN").await.unwrap();
    let waiting = tokio::spawn(async move {
        let r = b.execute("UPDATE t SET v = 5 WHERE v = 0", &[]).await;
        (b, r)
    });
    tokio::time::sleep(BLOCK).await;
    assert!(!waiting.is_finished(), "the writer waits for the mover");
    a.batch_execute("COMMIT").await.unwrap();
    let (b, r) = waiting.await.unwrap();
    let err = r.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::T_R_SERIALIZATION_FAILURE));
    assert_eq!(
        message(&err),
        "tuple to be locked was already moved to another key due to concurrent update"
    );
    b.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(lines(&a, "SELECT id, v FROM t ORDER BY id").await, ["2|0", "10|0"]);
}

// The same for SELECT … FOR UPDATE, and for a write that did not have to wait: the move
// committed after the statement's snapshot but before it reached the row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locking_read_of_a_moved_row_gets_40001() {
    if common::reference_pg().is_some() {
        return;
    }
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET id = 10 WHERE id = 1").await.unwrap();
    b.batch_execute("BEGIN").await.unwrap();
    let waiting = tokio::spawn(async move {
        let r = b.query("SELECT * FROM t WHERE id = 1 FOR UPDATE", &[]).await;
        (b, r)
    });
    tokio::time::sleep(BLOCK).await;
    a.batch_execute("COMMIT").await.unwrap();
    let (b, r) = waiting.await.unwrap();
    assert_eq!(r.unwrap_err().code(), Some(&SqlState::T_R_SERIALIZATION_FAILURE));
    b.batch_execute("ROLLBACK").await.unwrap();
}

// If the mover rolls back, the waiter updates the row where it always was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_waited_on_a_rolled_back_move_updates_the_row() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET id = 10 WHERE id = 1").await.unwrap();
    b.batch_execute("BEGIN").await.unwrap();
    let waiting = tokio::spawn(async move {
        let r = b.execute("UPDATE t SET v = 5 WHERE id = 1", &[]).await;
        (b, r)
    });
    tokio::time::sleep(BLOCK).await;
    assert!(!waiting.is_finished(), "the writer waits for the mover");
    a.batch_execute("ROLLBACK").await.unwrap();
    let (b, r) = waiting.await.unwrap();
    assert_eq!(r.unwrap(), 1);
    b.batch_execute("COMMIT").await.unwrap();
    assert_eq!(lines(&a, "SELECT id, v FROM t ORDER BY id").await, ["1|5", "2|0"]);
}

// An autocommit UPDATE that waited on the move finds the row at its new key and updates
// it, as PostgreSQL does (troupe: the 40001 is retried with a fresh snapshot, which is
// what an implicit transaction may do).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_autocommit_writer_updates_the_moved_row() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET id = 10 WHERE id = 1").await.unwrap();
    let waiting = tokio::spawn(async move { b.execute("UPDATE t SET v = v + 1", &[]).await });
    tokio::time::sleep(BLOCK).await;
    assert!(!waiting.is_finished(), "the writer waits for the mover");
    a.batch_execute("COMMIT").await.unwrap();
    assert_eq!(waiting.await.unwrap().unwrap(), 2);
    assert_eq!(lines(&a, "SELECT id, v FROM t ORDER BY id").await, ["2|1", "10|1"]);
}

// REPEATABLE READ: a row moved after the snapshot is a concurrent update (40001), as in
// PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeatable_read_fails_on_a_row_moved_since_its_snapshot() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    b.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ").await.unwrap();
    assert_eq!(lines(&b, "SELECT count(*) FROM t").await, ["2"]);
    a.batch_execute("UPDATE t SET id = 10 WHERE id = 1").await.unwrap();
    assert_eq!(lines(&b, "SELECT id FROM t ORDER BY id").await, ["1", "2"], "the snapshot");
    let err = b.execute("UPDATE t SET v = 1 WHERE id = 1", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::T_R_SERIALIZATION_FAILURE));
    assert_eq!(message(&err), "could not serialize access due to concurrent update");
    b.batch_execute("ROLLBACK").await.unwrap();
}

// The new key is held by the mover until it ends: an insert of it waits, then fails
// with 23505 once the move commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insert_of_the_new_key_waits_for_the_move() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET id = 10 WHERE id = 1").await.unwrap();
    let waiting = tokio::spawn(async move { b.execute("INSERT INTO t VALUES (10, 9)", &[]).await });
    tokio::time::sleep(BLOCK).await;
    assert!(!waiting.is_finished(), "the insert waits for the mover");
    a.batch_execute("COMMIT").await.unwrap();
    let err = waiting.await.unwrap().unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNIQUE_VIOLATION));
    assert_eq!(message(&err), "duplicate key value violates unique constraint \"t_pkey\"");
    // The old key is free.
    a.batch_execute("INSERT INTO t VALUES (1, 7)").await.unwrap();
    assert_eq!(lines(&a, "SELECT id, v FROM t ORDER BY id").await, ["1|7", "2|0", "10|0"]);
}

// Moving a row onto a key another transaction holds waits for it; its rollback frees
// the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_onto_a_key_being_inserted_waits_for_the_inserter() {
    let (db, a) = with_two_rows().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; INSERT INTO t VALUES (10, 3)").await.unwrap();
    let waiting =
        tokio::spawn(async move { b.execute("UPDATE t SET id = 10 WHERE id = 2", &[]).await });
    tokio::time::sleep(BLOCK).await;
    assert!(!waiting.is_finished(), "the move waits for the inserter");
    a.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(waiting.await.unwrap().unwrap(), 1);
    assert_eq!(lines(&a, "SELECT id, v FROM t ORDER BY id").await, ["1|0", "10|0"]);
}
