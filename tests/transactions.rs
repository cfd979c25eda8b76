//! Transactions across several connections: rollback, the failed-block state, READ
//! COMMITTED's re-check after a wait, REPEATABLE READ's snapshot and 40001, the write
//! skew REPEATABLE READ allows, deadlocks, duplicate keys between concurrent inserts,
//! and locks released by a vanished client.
//!
//! A test that needs a transaction to block runs the blocked statement in a spawned
//! task, sleeps briefly to give it time to reach the lock, and checks it has not
//! finished before acting on the transaction it waits for.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{code, describe, lines, raw_simple_query, scalar, sqlstate, TestServer};
use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// How long to let a statement reach its lock wait before checking it is blocked.
const BLOCK: Duration = Duration::from_millis(200);

/// A server with `t(id int PRIMARY KEY, v int)` holding `(1, 0)` and `(2, 0)`.
async fn setup() -> (TestServer, Client) {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0), (2, 0)",
    )
    .await
    .unwrap();
    (db, c)
}

/// Runs `sql` on `client` in a task; the task hands back the client and the row count.
fn spawn_execute(
    client: Client,
    sql: &'static str,
) -> JoinHandle<(Client, Result<u64, tokio_postgres::Error>)> {
    tokio::spawn(async move {
        let r = client.execute(sql, &[]).await;
        (client, r)
    })
}

/// Asserts the task is still waiting after [`BLOCK`].
async fn assert_blocked<T>(handle: &JoinHandle<T>) {
    tokio::time::sleep(BLOCK).await;
    assert!(!handle.is_finished(), "the statement should be waiting for a lock");
}

// ROLLBACK undoes INSERT, UPDATE and DELETE of the block; the table is as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_undoes_everything() {
    let (_db, c) = setup().await;
    c.batch_execute(
        "BEGIN; INSERT INTO t VALUES (3, 3); UPDATE t SET v = 9 WHERE id = 1; DELETE FROM t WHERE id = 2",
    )
    .await
    .unwrap();
    assert_eq!(lines(&c, "SELECT id, v FROM t ORDER BY id").await, ["1|9", "3|3"]);
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(lines(&c, "SELECT id, v FROM t ORDER BY id").await, ["1|0", "2|0"]);
    // The rolled-back insert left no key behind: the same key inserts again.
    c.batch_execute("INSERT INTO t VALUES (3, 30)").await.unwrap();
}

// After an error in a block every statement fails with 25P02; COMMIT ends the block
// but reports ROLLBACK, and nothing of the block is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_block_commit_reports_rollback() {
    let (db, c) = setup().await;
    c.batch_execute("BEGIN; UPDATE t SET v = 5 WHERE id = 1").await.unwrap();
    assert_eq!(sqlstate(&c, "INSERT INTO t VALUES (1, 1)").await, SqlState::UNIQUE_VIOLATION);
    assert_eq!(sqlstate(&c, "SELECT * FROM t").await, SqlState::IN_FAILED_SQL_TRANSACTION);
    c.batch_execute("COMMIT").await.unwrap();
    assert_eq!(lines(&c, "SELECT v FROM t WHERE id = 1").await, ["0"]);

    // The tag and the ReadyForQuery status bytes, as PostgreSQL sends them.
    let r = raw_simple_query(&db, &["BEGIN", "SELECT 1/0", "SELECT 1", "COMMIT", "SELECT 1"]).await;
    assert_eq!(r[0], ["C BEGIN", "Z T"]);
    assert_eq!(r[1], ["E 22012", "Z E"]);
    assert_eq!(r[2], ["E 25P02", "Z E"]);
    assert_eq!(r[3], ["C ROLLBACK", "Z I"]);
    assert_eq!(r[4], ["D", "C SELECT 1", "Z I"]);
}

// A simple Query string is one implicit transaction: an error in a later statement
// undoes the earlier ones too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_in_query_string_undoes_it_all() {
    let (_db, c) = setup().await;
    assert_eq!(
        sqlstate(&c, "INSERT INTO t VALUES (3, 3); SELECT 1/0; INSERT INTO t VALUES (4, 4)").await,
        SqlState::DIVISION_BY_ZERO
    );
    assert_eq!(lines(&c, "SELECT id FROM t ORDER BY id").await, ["1", "2"]);
}

// READ COMMITTED: a second UPDATE of the same row waits for the first writer, then
// applies to the newest committed version: two increments add 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_committed_update_waits_then_rechecks() {
    let (db, a) = setup().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET v = v + 1 WHERE id = 1").await.unwrap();
    let waiter = spawn_execute(b, "UPDATE t SET v = v + 1 WHERE id = 1");
    assert_blocked(&waiter).await;
    a.batch_execute("COMMIT").await.unwrap();
    let (_b, r) = waiter.await.unwrap();
    assert_eq!(r.unwrap(), 1);
    assert_eq!(scalar(&a, "SELECT v FROM t WHERE id = 1").await.as_deref(), Some("2"));
}

// READ COMMITTED: after the wait the WHERE clause is re-evaluated on the new version
// (EvalPlanQual); the row no longer matches, so 0 rows are updated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_committed_recheck_can_skip_row() {
    let (db, a) = setup().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET v = 1 WHERE id = 1").await.unwrap();
    let waiter = spawn_execute(b, "UPDATE t SET v = 100 WHERE v = 0");
    assert_blocked(&waiter).await;
    a.batch_execute("COMMIT").await.unwrap();
    let (_b, r) = waiter.await.unwrap();
    // Row 2 (v = 0, not locked) is updated; row 1 now has v = 1 and is skipped.
    assert_eq!(r.unwrap(), 1);
    assert_eq!(lines(&a, "SELECT id, v FROM t ORDER BY id").await, ["1|1", "2|100"]);
}

// REPEATABLE READ: updating a row another transaction changed and committed after our
// snapshot fails with 40001 once that transaction commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeatable_read_concurrent_update_fails() {
    let (db, a) = setup().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM t").await.unwrap();
    b.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM t").await.unwrap();
    a.batch_execute("UPDATE t SET v = 1 WHERE id = 1").await.unwrap();
    let waiter = spawn_execute(b, "UPDATE t SET v = 2 WHERE id = 1");
    assert_blocked(&waiter).await;
    a.batch_execute("COMMIT").await.unwrap();
    let (b, r) = waiter.await.unwrap();
    let e = r.unwrap_err();
    assert_eq!(code(&e), SqlState::T_R_SERIALIZATION_FAILURE, "{}", describe(&e));
    assert_eq!(common::message(&e), "could not serialize access due to concurrent update");
    b.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(scalar(&a, "SELECT v FROM t WHERE id = 1").await.as_deref(), Some("1"));
}

// REPEATABLE READ: when the first writer rolls back, the waiting update goes ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeatable_read_update_after_rollback_succeeds() {
    let (db, a) = setup().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; UPDATE t SET v = 1 WHERE id = 1")
        .await
        .unwrap();
    b.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM t").await.unwrap();
    let waiter = spawn_execute(b, "UPDATE t SET v = 2 WHERE id = 1");
    assert_blocked(&waiter).await;
    a.batch_execute("ROLLBACK").await.unwrap();
    let (b, r) = waiter.await.unwrap();
    assert_eq!(r.unwrap(), 1);
    b.batch_execute("COMMIT").await.unwrap();
    assert_eq!(scalar(&a, "SELECT v FROM t WHERE id = 1").await.as_deref(), Some("2"));
}

// REPEATABLE READ: a row changed and committed after the snapshot cannot be updated
// (40001) even with no wait at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeatable_read_update_of_newer_row_fails_without_wait() {
    let (db, a) = setup().await;
    let b = db.connect().await;
    b.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM t").await.unwrap();
    a.batch_execute("UPDATE t SET v = 7 WHERE id = 1").await.unwrap();
    assert_eq!(
        sqlstate(&b, "UPDATE t SET v = v + 1 WHERE id = 1").await,
        SqlState::T_R_SERIALIZATION_FAILURE
    );
    assert_eq!(sqlstate(&b, "SELECT 1").await, SqlState::IN_FAILED_SQL_TRANSACTION);
    b.batch_execute("ROLLBACK").await.unwrap();
}

// REPEATABLE READ reads one snapshot for the whole transaction; READ COMMITTED takes a
// new one per statement and sees commits made in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_per_transaction_or_per_statement() {
    let (db, writer) = setup().await;
    let rr = db.connect().await;
    let rc = db.connect().await;
    rr.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ").await.unwrap();
    rc.batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED").await.unwrap();
    let sum = "SELECT sum(v) FROM t";
    assert_eq!(scalar(&rr, sum).await.as_deref(), Some("0"));
    assert_eq!(scalar(&rc, sum).await.as_deref(), Some("0"));
    writer
        .batch_execute("UPDATE t SET v = 5 WHERE id = 1; INSERT INTO t VALUES (3, 5)")
        .await
        .unwrap();
    assert_eq!(scalar(&rr, sum).await.as_deref(), Some("0"));
    assert_eq!(scalar(&rr, "SELECT count(*) FROM t").await.as_deref(), Some("2"));
    assert_eq!(scalar(&rc, sum).await.as_deref(), Some("10"));
    assert_eq!(scalar(&rc, "SELECT count(*) FROM t").await.as_deref(), Some("3"));
    rr.batch_execute("COMMIT").await.unwrap();
    rc.batch_execute("COMMIT").await.unwrap();
    assert_eq!(scalar(&rr, sum).await.as_deref(), Some("10"));
}

// Uncommitted changes are invisible to other transactions at every level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dirty_reads() {
    let (db, a) = setup().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET v = 42 WHERE id = 1; INSERT INTO t VALUES (3, 3)")
        .await
        .unwrap();
    assert_eq!(lines(&b, "SELECT id, v FROM t ORDER BY id").await, ["1|0", "2|0"]);
    b.batch_execute("BEGIN ISOLATION LEVEL READ UNCOMMITTED").await.unwrap();
    assert_eq!(lines(&b, "SELECT id, v FROM t ORDER BY id").await, ["1|0", "2|0"]);
    b.batch_execute("COMMIT").await.unwrap();
    a.batch_execute("ROLLBACK").await.unwrap();
}

// Write skew is allowed under REPEATABLE READ, as in PostgreSQL (Hermitage G2-item):
// each transaction reads both rows, updates a different one, and both commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeatable_read_allows_write_skew() {
    let db = TestServer::start().await;
    let a = db.connect().await;
    let b = db.connect().await;
    a.batch_execute(
        "CREATE TABLE doctors (id int PRIMARY KEY, on_call bool);
         INSERT INTO doctors VALUES (1, true), (2, true)",
    )
    .await
    .unwrap();
    let on_call = "SELECT count(*) FROM doctors WHERE on_call";
    a.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ").await.unwrap();
    b.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ").await.unwrap();
    assert_eq!(scalar(&a, on_call).await.as_deref(), Some("2"));
    assert_eq!(scalar(&b, on_call).await.as_deref(), Some("2"));
    a.batch_execute("UPDATE doctors SET on_call = false WHERE id = 1").await.unwrap();
    b.batch_execute("UPDATE doctors SET on_call = false WHERE id = 2").await.unwrap();
    a.batch_execute("COMMIT").await.unwrap();
    b.batch_execute("COMMIT").await.unwrap();
    assert_eq!(scalar(&a, on_call).await.as_deref(), Some("0"));
}

// Two transactions each wait for a row the other holds: one of them gets 40P01 at once
// (troupe checks for a cycle when a wait begins), the other then proceeds and commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlock_has_one_victim() {
    let (db, a) = setup().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET v = 1 WHERE id = 1").await.unwrap();
    b.batch_execute("BEGIN; UPDATE t SET v = 2 WHERE id = 2").await.unwrap();
    let started = Instant::now();
    // Each waiter rolls back at once if it is the victim, which lets the other finish.
    let wait_for = |client: Client, sql: &'static str| {
        tokio::spawn(async move {
            let r = client.execute(sql, &[]).await;
            if r.is_err() {
                client.batch_execute("ROLLBACK").await.unwrap();
            }
            (client, r)
        })
    };
    let a_waits = wait_for(a, "UPDATE t SET v = 1 WHERE id = 2");
    assert_blocked(&a_waits).await;
    let b_waits = wait_for(b, "UPDATE t SET v = 2 WHERE id = 1");
    let both = async { (a_waits.await.unwrap(), b_waits.await.unwrap()) };
    let ((a, ra), (b, rb)) =
        tokio::time::timeout(Duration::from_secs(5), both).await.expect("deadlock resolved");
    let outcomes = [ra, rb];
    let clients = [a, b];
    assert!(started.elapsed() < Duration::from_secs(5));
    let victims: Vec<_> = outcomes.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(victims.len(), 1, "exactly one victim: {outcomes:?}");
    assert_eq!(code(victims[0]), SqlState::T_R_DEADLOCK_DETECTED);
    let winner = outcomes.iter().position(|r| r.is_ok()).unwrap();
    clients[winner].batch_execute("COMMIT").await.unwrap();
    let expected = if winner == 0 { ["1|1", "2|1"] } else { ["1|2", "2|2"] };
    assert_eq!(lines(&clients[0], "SELECT id, v FROM t ORDER BY id").await, expected);
}

// Concurrent inserts of one key: the second waits for the first; if the first commits
// the second fails with 23505.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicate_insert_fails_after_commit() {
    let (db, a) = setup().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; INSERT INTO t VALUES (3, 1)").await.unwrap();
    let waiter = spawn_execute(b, "INSERT INTO t VALUES (3, 2)");
    assert_blocked(&waiter).await;
    a.batch_execute("COMMIT").await.unwrap();
    let (_b, r) = waiter.await.unwrap();
    assert_eq!(code(&r.unwrap_err()), SqlState::UNIQUE_VIOLATION);
    assert_eq!(lines(&a, "SELECT v FROM t WHERE id = 3").await, ["1"]);
}

// ... and if the first rolls back, the second insert succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicate_insert_succeeds_after_rollback() {
    let (db, a) = setup().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; INSERT INTO t VALUES (3, 1)").await.unwrap();
    let waiter = spawn_execute(b, "INSERT INTO t VALUES (3, 2)");
    assert_blocked(&waiter).await;
    a.batch_execute("ROLLBACK").await.unwrap();
    let (_b, r) = waiter.await.unwrap();
    assert_eq!(r.unwrap(), 1);
    assert_eq!(lines(&a, "SELECT v FROM t WHERE id = 3").await, ["2"]);
}

// A client that closes its connection (Terminate) mid-transaction has its transaction
// rolled back and its locks released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_connection_releases_locks() {
    let (db, a) = setup().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET v = 9 WHERE id = 1").await.unwrap();
    let waiter = spawn_execute(b, "UPDATE t SET v = v + 1 WHERE id = 1");
    assert_blocked(&waiter).await;
    drop(a);
    let (b, r) = tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
    assert_eq!(r.unwrap(), 1);
    assert_eq!(scalar(&b, "SELECT v FROM t WHERE id = 1").await.as_deref(), Some("1"));
}

// The same when the socket just goes away (no Terminate), as with a crashed client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vanished_client_releases_locks() {
    let (db, _c) = setup().await;
    let (a, driver) = db.connect_with_driver().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE t SET v = 9 WHERE id = 1").await.unwrap();
    driver.abort();
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        b.execute("UPDATE t SET v = v + 1 WHERE id = 1", &[]),
    )
    .await
    .expect("lock released");
    assert_eq!(r.unwrap(), 1);
    assert_eq!(scalar(&b, "SELECT v FROM t WHERE id = 1").await.as_deref(), Some("1"));
}

// In a failed block PostgreSQL still parses and runs COMMIT/ROLLBACK through the
// extended protocol, reports a syntax error as 42601, and refuses anything else with
// 25P02 before analysing it (so an unknown table is 25P02, not 42P01).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_block_rules_in_the_extended_protocol() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("BEGIN").await.unwrap();
    assert_eq!(
        c.query("SELECT 1/0", &[]).await.unwrap_err().code(),
        Some(&SqlState::DIVISION_BY_ZERO)
    );
    assert_eq!(c.prepare("SELEC 1").await.unwrap_err().code(), Some(&SqlState::SYNTAX_ERROR));
    assert_eq!(
        c.prepare("SELECT * FROM nosuch").await.unwrap_err().code(),
        Some(&SqlState::IN_FAILED_SQL_TRANSACTION)
    );
    let rollback = c.prepare("ROLLBACK").await.unwrap();
    c.execute(&rollback, &[]).await.unwrap();
    assert_eq!(c.query_one("SELECT 1", &[]).await.unwrap().get::<_, i32>(0), 1);
}

/// Sends `msgs` (already framed) on a fresh raw connection and reads until
/// ReadyForQuery; returns the message tags seen (`E` with its SQLSTATE).
async fn raw_pipeline(db: &TestServer, msgs: &[Vec<u8>]) -> Vec<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", db.port)).await.unwrap();
    let mut startup = 196608i32.to_be_bytes().to_vec();
    startup.extend_from_slice(format!("user\0postgres\0database\0{}\0\0", db.dbname).as_bytes());
    let mut first = ((startup.len() + 4) as i32).to_be_bytes().to_vec();
    first.extend_from_slice(&startup);
    s.write_all(&first).await.unwrap();
    let mut seen = Vec::new();
    let mut ready = 0;
    let all: Vec<u8> = msgs.concat();
    loop {
        let tag = s.read_u8().await.unwrap();
        let len = s.read_i32().await.unwrap() as usize;
        let mut body = vec![0u8; len - 4];
        s.read_exact(&mut body).await.unwrap();
        if tag == b'Z' {
            ready += 1;
            if ready == 1 {
                seen.clear(); // the start-up exchange
                s.write_all(&all).await.unwrap();
                continue;
            }
            seen.push(format!("Z{}", body[0] as char));
            return seen;
        }
        if tag == b'E' {
            let code = body.split(|c| *c == 0).find(|p| p.first() == Some(&b'C')).unwrap();
            seen.push(format!("E{}", String::from_utf8_lossy(&code[1..])));
        } else {
            seen.push((tag as char).to_string());
        }
    }
}

fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn parse_msg(sql: &str) -> Vec<u8> {
    frame(b'P', format!("\0{sql}\0\0\0").as_bytes())
}

fn bind_execute_msgs() -> Vec<Vec<u8>> {
    vec![frame(b'B', b"\0\0\0\0\0\0\0\0"), frame(b'E', b"\0\0\0\0\0")]
}

// An error in a Parse after a successful Execute, before Sync, aborts the implicit
// transaction: PostgreSQL rolls back the earlier INSERT at Sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parse_error_rolls_back_the_implicit_transaction_up_to_sync() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int)").await.unwrap();
    let mut msgs = vec![parse_msg("INSERT INTO t VALUES (1)")];
    msgs.extend(bind_execute_msgs());
    msgs.push(parse_msg("INSERT INTO nosuch VALUES (2)"));
    msgs.push(frame(b'S', b""));
    let seen = raw_pipeline(&db, &msgs).await;
    assert_eq!(seen, ["1", "2", "C", "E42P01", "ZI"]);
    assert_eq!(lines(&c, "SELECT count(*) FROM t").await, ["0"]);
}

// The same error inside BEGIN turns the block failed: ReadyForQuery says `E`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parse_error_in_a_block_fails_the_block() {
    let db = TestServer::start().await;
    let mut msgs = vec![parse_msg("BEGIN")];
    msgs.extend(bind_execute_msgs());
    msgs.push(parse_msg("SELECT * FROM nosuch"));
    msgs.push(frame(b'S', b""));
    let seen = raw_pipeline(&db, &msgs).await;
    assert_eq!(seen, ["1", "2", "C", "E42P01", "ZE"]);
}

// Executing a portal whose INSERT already completed is 55000 in PostgreSQL, never a
// second insert; the error rolls the implicit transaction back at Sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_command_portal_cannot_run_twice() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int)").await.unwrap();
    let execute_p = frame(b'E', b"p\0\0\0\0\0");
    let msgs = vec![
        parse_msg("INSERT INTO t VALUES (1)"),
        frame(b'B', b"p\0\0\0\0\0\0\0\0"),
        execute_p.clone(),
        execute_p,
        frame(b'S', b""),
    ];
    let seen = raw_pipeline(&db, &msgs).await;
    assert_eq!(seen, ["1", "2", "C", "E55000", "ZI"]);
    assert_eq!(lines(&c, "SELECT count(*) FROM t").await, ["0"]);
}

// ALTER TABLE ADD PRIMARY KEY rewrites the table; a REPEATABLE READ transaction that
// started before it keeps its snapshot (PostgreSQL would make the ALTER wait for it;
// troupe carries the committed history into the rewritten table): it still reads the
// old value and its update still fails with 40001.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeatable_read_survives_a_primary_key_rewrite() {
    let db = TestServer::start().await;
    let a = db.connect().await;
    let b = db.connect().await;
    b.batch_execute("CREATE TABLE acct (id int, bal int); INSERT INTO acct VALUES (1, 100)")
        .await
        .unwrap();
    a.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ").await.unwrap();
    assert_eq!(lines(&a, "SELECT bal FROM acct WHERE id = 1").await, ["100"]);
    b.batch_execute("UPDATE acct SET bal = 0 WHERE id = 1").await.unwrap();
    b.batch_execute("ALTER TABLE acct ADD PRIMARY KEY (id)").await.unwrap();
    assert_eq!(lines(&a, "SELECT bal FROM acct WHERE id = 1").await, ["100"]);
    assert_eq!(
        sqlstate(&a, "UPDATE acct SET bal = 150 WHERE id = 1").await,
        SqlState::T_R_SERIALIZATION_FAILURE
    );
    a.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(lines(&b, "SELECT bal FROM acct WHERE id = 1").await, ["0"]);
}
