//! What survives a restart on the same data directory: committed rows, tables,
//! primary keys, DROP TABLE and ALTER TABLE ADD PRIMARY KEY; rolled-back rows do not.
#![allow(clippy::unwrap_used)]

mod common;

use common::{lines, sqlstate, TestServer};
use tokio_postgres::error::SqlState;

// Committed rows, the table definition and its primary key all survive a restart;
// rows of a rolled-back transaction never appear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_rows_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, at timestamp, n numeric(6,2));
         INSERT INTO t VALUES (1, 'one', '2024-01-01 10:00:00', 1.5), (2, 'two', NULL, NULL);
         UPDATE t SET name = 'uno' WHERE id = 1;
         CREATE TABLE nokey (v int);
         INSERT INTO nokey VALUES (1), (1), (2)",
    )
    .await
    .unwrap();
    c.batch_execute(
        "BEGIN; INSERT INTO t VALUES (3, 'three'); DELETE FROM t WHERE id = 2; ROLLBACK",
    )
    .await
    .unwrap();
    c.batch_execute("DELETE FROM nokey WHERE v = 2").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(
        lines(&c, "SELECT id, name, at, n FROM t ORDER BY id").await,
        ["1|uno|2024-01-01 10:00:00|1.50", "2|two|NULL|NULL"]
    );
    assert_eq!(lines(&c, "SELECT v FROM nokey").await, ["1", "1"]);
    assert_eq!(sqlstate(&c, "INSERT INTO t VALUES (1, 'dup')").await, SqlState::UNIQUE_VIOLATION);
    assert_eq!(sqlstate(&c, "INSERT INTO t VALUES (4, NULL)").await, SqlState::NOT_NULL_VIOLATION);
    // New writes after recovery work and survive the next restart too.
    c.batch_execute("INSERT INTO t VALUES (3, 'three'); INSERT INTO nokey VALUES (3)")
        .await
        .unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, "SELECT id FROM t ORDER BY id").await, ["1", "2", "3"]);
    assert_eq!(lines(&c, "SELECT v FROM nokey ORDER BY v").await, ["1", "1", "3"]);
    drop(c);
    db.stop().await;
}

// DROP TABLE survives a restart: the table is gone, and its name can be reused.
// (DDL runs in Query strings of its own: see sql_queries::ddl_after_dml_in_one_query_string.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_table_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE gone (id int PRIMARY KEY); INSERT INTO gone VALUES (1);
         CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept VALUES (1)",
    )
    .await
    .unwrap();
    c.batch_execute("DROP TABLE gone").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(sqlstate(&c, "SELECT * FROM gone").await, SqlState::UNDEFINED_TABLE);
    assert_eq!(lines(&c, "SELECT id FROM kept").await, ["1"]);
    c.batch_execute("CREATE TABLE gone (x text); INSERT INTO gone VALUES ('new')").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, "SELECT * FROM gone").await, ["new"]);
    drop(c);
    db.stop().await;
}

// ALTER TABLE ADD PRIMARY KEY survives a restart: duplicates are still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_primary_key_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int, v text); INSERT INTO t VALUES (2, 'b'), (1, 'a')")
        .await
        .unwrap();
    c.batch_execute("ALTER TABLE t ADD PRIMARY KEY (id)").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(sqlstate(&c, "INSERT INTO t VALUES (1, 'dup')").await, SqlState::UNIQUE_VIOLATION);
    assert_eq!(lines(&c, "SELECT id, v FROM t ORDER BY id").await, ["1|a", "2|b"]);
    c.batch_execute("UPDATE t SET v = 'z' WHERE id = 2").await.unwrap();
    assert_eq!(lines(&c, "SELECT v FROM t WHERE id = 2").await, ["z"]);
    drop(c);
    db.stop().await;
}

// TRUNCATE survives a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2); TRUNCATE t",
    )
    .await
    .unwrap();
    c.batch_execute("INSERT INTO t VALUES (3)").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, "SELECT id FROM t").await, ["3"]);
    drop(c);
    db.stop().await;
}

// A table created after a restart never reuses the storage id of a table dropped
// before it: otherwise its committed rows would be deleted at the next start along
// with the dropped table's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_table_after_drop_and_restart_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE a (id int)").await.unwrap();
    c.batch_execute("CREATE TABLE b (id int)").await.unwrap();
    c.batch_execute("DROP TABLE b").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE c (id int)").await.unwrap();
    c.batch_execute("INSERT INTO c VALUES (1), (2)").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, "SELECT id FROM c ORDER BY id").await, ["1", "2"]);
    drop(c);
    db.stop().await;
}
