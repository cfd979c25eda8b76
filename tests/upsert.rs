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

const UPSERT_EMAIL: &str = "INSERT INTO users (email, n) VALUES ($1, 1)
     ON CONFLICT (email) DO UPDATE SET n = users.n + 1";

// The same with a UNIQUE constraint as the arbiter (the key is a serial id): many
// connections upserting a few emails at once lose no increment and make one row each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_upserts_on_a_unique_constraint_lose_no_increment() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "DROP TABLE IF EXISTS users;
         CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE, n int NOT NULL)",
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for w in 0..6i32 {
        let conn = db.connect().await;
        tasks.push(tokio::spawn(async move {
            let stmt = conn.prepare(UPSERT_EMAIL).await.unwrap();
            for i in 0..30i32 {
                let email = format!("u{}", (w + i) % 3);
                conn.execute(&stmt, &[&email]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(lines(&c, "SELECT count(*), sum(n) FROM users").await, ["3|180"]);
}

// An upsert whose UNIQUE key another transaction has just inserted (under another
// primary key) waits for it, then updates that row or inserts its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_upsert_waits_for_an_uncommitted_insert_of_its_key() {
    let db = TestServer::start().await;
    let a = db.connect().await;
    a.batch_execute(
        "DROP TABLE IF EXISTS users;
         CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE, n int NOT NULL)",
    )
    .await
    .unwrap();
    for (end, want) in [("COMMIT", "7|2"), ("ROLLBACK", "8|1")] {
        a.batch_execute("DELETE FROM users").await.unwrap();
        a.batch_execute("BEGIN; INSERT INTO users VALUES (7, 'x', 1)").await.unwrap();
        let b = db.connect().await;
        let upsert = tokio::spawn(async move {
            b.execute(
                "INSERT INTO users VALUES (8, 'x', 1) ON CONFLICT (email) DO UPDATE SET n = users.n + 1",
                &[],
            )
            .await
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!upsert.is_finished(), "the upsert waits for the inserter");
        a.batch_execute(end).await.unwrap();
        assert_eq!(upsert.await.unwrap().unwrap(), 1);
        assert_eq!(lines(&a, "SELECT id, n FROM users").await, [want], "after {end}");
    }
}
