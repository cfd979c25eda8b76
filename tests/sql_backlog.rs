//! Behaviour from the differential suite's backlog that a row-by-row `.slt` record
//! cannot show: a statement that must end (a WITH RECURSIVE without a stop condition
//! under LIMIT), and pg_sleep ended by a CancelRequest and by statement_timeout while
//! the connection stays usable. The row expectations are in `tests/slt/**`; every
//! expectation here also holds against PostgreSQL 15 (`TROUPE_REFERENCE_PG=<port>`).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{lines, sqlstate, TestServer};
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

/// Fails the test (rather than hanging the suite) if `f` does not finish in time.
async fn within<T>(secs: u64, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f).await.expect("finished in time")
}

// A recursive CTE with no stop condition ends under a LIMIT directly over it, as in
// PostgreSQL, whose recursive union is evaluated lazily.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursive_cte_without_stop_condition_ends_under_limit() {
    let server = TestServer::start().await;
    let c = server.connect().await;
    let got = within(
        10,
        lines(&c, "WITH RECURSIVE n AS (SELECT 1 i UNION ALL SELECT i + 1 FROM n) SELECT i FROM n LIMIT 3"),
    )
    .await;
    assert_eq!(got, ["1", "2", "3"]);
    let got = within(
        10,
        lines(
            &c,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i * 2 FROM n) SELECT i + 0 FROM n LIMIT 2 OFFSET 3",
        ),
    )
    .await;
    assert_eq!(got, ["8", "16"]);
    server.stop().await;
}

// pg_sleep is interrupted by a CancelRequest (57014), promptly, and the session goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_sleep_is_cancelled_by_a_cancel_request() {
    let server = TestServer::start().await;
    let c = std::sync::Arc::new(server.connect().await);
    let started = Instant::now();
    let running = tokio::spawn({
        let c = c.clone();
        async move { c.simple_query("SELECT pg_sleep(30)").await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.cancel_token().cancel_query(NoTls).await.unwrap();
    let err = within(10, running).await.unwrap().unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(lines(&c, "SELECT 1").await, ["1"]);
    server.stop().await;
}

// statement_timeout ends a pg_sleep (57014); without it the sleep runs to its end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_sleep_honours_statement_timeout() {
    let server = TestServer::start().await;
    let c = server.connect().await;
    c.batch_execute("SET statement_timeout = '200ms'").await.unwrap();
    let state = within(10, sqlstate(&c, "SELECT pg_sleep(30)")).await;
    assert_eq!(state, SqlState::QUERY_CANCELED);
    c.batch_execute("RESET statement_timeout").await.unwrap();
    let started = Instant::now();
    assert_eq!(lines(&c, "SELECT pg_sleep(0.2), 'done'").await.len(), 1);
    assert!(started.elapsed() >= Duration::from_millis(200));
    server.stop().await;
}
