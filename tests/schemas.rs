//! Schemas made by CREATE SCHEMA are durable: they survive a restart on the same data
//! directory with their oids, a dropped one stays dropped, and oids allocated after
//! the restart do not collide with theirs. (What a data directory written before
//! schemas existed holds — no schema records — loads with the built-in schemas only,
//! which is the first start here.)
#![allow(clippy::unwrap_used)]

mod common;

use common::{lines, sqlstate, TestServer};
use tokio_postgres::error::SqlState;

const USER_SCHEMAS: &str =
    "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY nspname";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_survive_restart() {
    if common::reference_pg().is_some() {
        return; // restarts troupe's own data directory
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, USER_SCHEMAS).await, ["public"]);
    c.batch_execute(
        "CREATE SCHEMA app;
         CREATE SCHEMA \"Gone\";
         CREATE TABLE public.t (id int PRIMARY KEY);
         INSERT INTO t VALUES (1);
         DROP SCHEMA \"Gone\"",
    )
    .await
    .unwrap();
    let app_oid = lines(&c, "SELECT oid FROM pg_namespace WHERE nspname = 'app'").await;
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, USER_SCHEMAS).await, ["app", "public"]);
    assert_eq!(lines(&c, "SELECT oid FROM pg_namespace WHERE nspname = 'app'").await, app_oid);
    assert_eq!(sqlstate(&c, "CREATE SCHEMA app").await, SqlState::DUPLICATE_SCHEMA);
    assert_eq!(sqlstate(&c, "CREATE TABLE app.t2 (a int)").await, SqlState::FEATURE_NOT_SUPPORTED);
    assert_eq!(lines(&c, "SELECT count(*) FROM public.t").await, ["1"]);
    // A relation made after the restart gets an oid past the schema's.
    c.batch_execute("CREATE TABLE t3 (a int)").await.unwrap();
    assert_eq!(
        lines(
            &c,
            "SELECT (SELECT oid FROM pg_class WHERE relname = 't3') > (SELECT oid FROM pg_namespace WHERE nspname = 'app')"
        )
        .await,
        ["t"]
    );
    c.batch_execute("DROP SCHEMA app").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, USER_SCHEMAS).await, ["public"]);
    drop(c);
    db.stop().await;
}

// COPY into a name in another schema finds no table there (it once loaded public's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_into_another_schema_finds_nothing() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE SCHEMA other; CREATE TABLE same (a int)").await.unwrap();
    let e = c.copy_in::<_, bytes::Bytes>("COPY other.same FROM STDIN").await.err().unwrap();
    assert_eq!(e.code(), Some(&SqlState::UNDEFINED_TABLE), "{e}");
    assert_eq!(lines(&c, "SELECT count(*) FROM same").await, ["0"]);
    c.batch_execute("DROP TABLE same; DROP SCHEMA other").await.unwrap();
    drop(c);
    db.stop().await;
}
