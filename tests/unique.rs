//! UNIQUE constraints and indexes under concurrency and across a restart, with
//! PostgreSQL's outcomes (each test also passes against PostgreSQL:
//! `TROUPE_REFERENCE_PG=<port> cargo test --test unique`).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{code, detail, lines, message, TestServer};
use tokio_postgres::error::SqlState;

const SETUP: &str = "DROP TABLE IF EXISTS users; \
    CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE, name text)";

// Two connections insert the same unique value: the second waits for the first, then
// fails with 23505 if the first commits, and succeeds if it rolls back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_insert_of_a_unique_value_waits_for_the_first() {
    let db = TestServer::start().await;
    let a = db.connect().await;
    a.batch_execute(SETUP).await.unwrap();
    for (i, (end, fails)) in [("COMMIT", true), ("ROLLBACK", false)].into_iter().enumerate() {
        let email = format!("x{i}@y");
        a.batch_execute("BEGIN").await.unwrap();
        a.execute("INSERT INTO users VALUES ($1, $2, 'a')", &[&(10 * i as i32), &email])
            .await
            .unwrap();
        let b = db.connect().await;
        let mail = email.clone();
        let second = tokio::spawn(async move {
            b.execute("INSERT INTO users VALUES ($1, $2, 'b')", &[&(10 * i as i32 + 1), &mail])
                .await
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!second.is_finished(), "the second insert waits for the first");
        a.batch_execute(end).await.unwrap();
        let outcome = second.await.unwrap();
        if fails {
            let e = outcome.unwrap_err();
            assert_eq!(code(&e), SqlState::UNIQUE_VIOLATION);
            assert_eq!(
                message(&e),
                "duplicate key value violates unique constraint \"users_email_key\""
            );
            assert_eq!(
                detail(&e).as_deref(),
                Some(format!("Key (email)=({email}) already exists.").as_str())
            );
        } else {
            assert_eq!(outcome.unwrap(), 1);
        }
        let names = lines(&a, &format!("SELECT name FROM users WHERE email = '{email}'")).await;
        assert_eq!(names, [if fails { "a" } else { "b" }], "after {end}");
    }
}

// An UPDATE that moves a row onto a value another transaction has just taken waits for
// it; an UPDATE onto a committed value fails at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_onto_a_taken_unique_value_waits_then_fails() {
    let db = TestServer::start().await;
    let a = db.connect().await;
    a.batch_execute(SETUP).await.unwrap();
    a.batch_execute("INSERT INTO users VALUES (1, 'one@y', 'a'), (2, 'two@y', 'b')").await.unwrap();
    let e = a.execute("UPDATE users SET email = 'one@y' WHERE id = 2", &[]).await.unwrap_err();
    assert_eq!(code(&e), SqlState::UNIQUE_VIOLATION);
    a.batch_execute("BEGIN; UPDATE users SET email = 'new@y' WHERE id = 1").await.unwrap();
    let b = db.connect().await;
    let mover = tokio::spawn(async move {
        b.execute("UPDATE users SET email = 'new@y' WHERE id = 2", &[]).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!mover.is_finished(), "the update waits for the uncommitted holder");
    a.batch_execute("COMMIT").await.unwrap();
    let e = mover.await.unwrap().unwrap_err();
    assert_eq!(code(&e), SqlState::UNIQUE_VIOLATION);
    // 'one@y' was freed by the committed move: now it can be taken.
    assert_eq!(a.execute("UPDATE users SET email = 'one@y' WHERE id = 2", &[]).await.unwrap(), 1);
    assert_eq!(lines(&a, "SELECT id, email FROM users ORDER BY id").await, ["1|new@y", "2|one@y"]);
}

// Many connections race to claim a few unique values: each value is taken exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_inserts_take_each_unique_value_once() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(SETUP).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..6i32 {
        let conn = db.connect().await;
        tasks.push(tokio::spawn(async move {
            let mut won = 0;
            for i in 0..20i32 {
                let email = format!("{}@y", i % 5);
                match conn
                    .execute("INSERT INTO users VALUES ($1, $2, 'x')", &[&(w * 100 + i), &email])
                    .await
                {
                    Ok(_) => won += 1,
                    Err(e) => assert_eq!(code(&e), SqlState::UNIQUE_VIOLATION),
                }
            }
            won
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += t.await.unwrap();
    }
    assert_eq!(won, 5);
    assert_eq!(lines(&c, "SELECT count(DISTINCT email), count(*) FROM users").await, ["5|5"]);
}

// Index definitions survive a restart, and still enforce uniqueness and serve lookups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(SETUP).await.unwrap();
    c.batch_execute(
        "CREATE INDEX users_name_idx ON users (name); \
         INSERT INTO users VALUES (1, 'a@y', 'ann'), (2, 'b@y', 'bob'), (3, NULL, 'ann')",
    )
    .await
    .unwrap();
    drop(c);
    db.stop().await;
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    let e = c.execute("INSERT INTO users VALUES (4, 'a@y', 'x')", &[]).await.unwrap_err();
    assert_eq!(message(&e), "duplicate key value violates unique constraint \"users_email_key\"");
    assert_eq!(lines(&c, "SELECT id FROM users WHERE name = 'ann' ORDER BY id").await, ["1", "3"]);
    assert_eq!(lines(&c, "SELECT id FROM users WHERE email = 'b@y'").await, ["2"]);
    c.batch_execute("DROP INDEX users_name_idx").await.unwrap();
    drop(c);
    db.stop().await;
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    let e = c.execute("DROP INDEX users_name_idx", &[]).await.unwrap_err();
    assert_eq!(code(&e), SqlState::UNDEFINED_OBJECT);
    db.stop().await;
}
