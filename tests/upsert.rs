//! INSERT … ON CONFLICT under concurrency, with PostgreSQL's outcomes (each test also
//! passes against PostgreSQL: `TROUPE_REFERENCE_PG=<port> cargo test --test upsert`).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{lines, TestServer};

const UPSERT: &str =
    "INSERT INTO counters VALUES ($1, 1) ON CONFLICT (k) DO UPDATE SET n = counters.n + 1";

// Many connections upserting the same few keys at once: no error, no lost increment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_upserts_lose_no_increment() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "DROP TABLE IF EXISTS counters; CREATE TABLE counters (k int PRIMARY KEY, n int NOT NULL)",
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for w in 0..8i32 {
        let conn = db.connect().await;
        tasks.push(tokio::spawn(async move {
            let stmt = conn.prepare(UPSERT).await.unwrap();
            for i in 0..40i32 {
                conn.execute(&stmt, &[&((w + i) % 4)]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(lines(&c, "SELECT count(*), sum(n) FROM counters").await, ["4|320"]);
}

// An upsert on a key another transaction has just inserted waits for it: it updates the
// row if that transaction commits, and inserts its own if it rolls back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_waits_for_an_uncommitted_insert_of_its_key() {
    let db = TestServer::start().await;
    let a = db.connect().await;
    a.batch_execute(
        "DROP TABLE IF EXISTS counters; CREATE TABLE counters (k int PRIMARY KEY, n int NOT NULL)",
    )
    .await
    .unwrap();
    for (end, want) in [("COMMIT", "2"), ("ROLLBACK", "1")] {
        a.batch_execute("DELETE FROM counters").await.unwrap();
        a.batch_execute("BEGIN; INSERT INTO counters VALUES (1, 1)").await.unwrap();
        let b = db.connect().await;
        let upsert = tokio::spawn(async move { b.execute(UPSERT, &[&1i32]).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!upsert.is_finished(), "the upsert waits for the inserter");
        a.batch_execute(end).await.unwrap();
        assert_eq!(upsert.await.unwrap().unwrap(), 1);
        assert_eq!(lines(&a, "SELECT n FROM counters WHERE k = 1").await, [want], "after {end}");
    }
}
