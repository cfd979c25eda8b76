//! ALTER TABLE and CREATE VIEW beyond one connection: they survive a restart on the
//! same data directory, and a concurrent transaction never sees a half-changed table
//! (the rule is in `src/session/alter.rs`: an ALTER fails with 55006 while another
//! transaction has uncommitted writes in the table; a statement planned against the
//! old definition gets 40001 and, when implicit, is re-planned).
#![allow(clippy::unwrap_used)]

mod common;

use common::{lines, sqlstate, TestServer};
use tokio_postgres::error::SqlState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_tables_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, a int, b text);
         INSERT INTO t VALUES (1, 10, 'x'), (2, 20, 'y');
         CREATE TABLE nokey (v int);
         INSERT INTO nokey VALUES (1), (2)",
    )
    .await
    .unwrap();
    for ddl in [
        "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 7, DROP COLUMN a",
        "ALTER TABLE t RENAME COLUMN b TO bee",
        "ALTER TABLE t ADD CONSTRAINT c_small CHECK (c < 100), ADD UNIQUE (bee)",
        "ALTER TABLE t RENAME TO t2",
        "ALTER TABLE nokey ADD COLUMN w text DEFAULT 'w'",
    ] {
        c.batch_execute(ddl).await.unwrap();
    }
    c.batch_execute("INSERT INTO t2 VALUES (3, 'z', 8); INSERT INTO nokey VALUES (3)")
        .await
        .unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(sqlstate(&c, "SELECT * FROM t").await, SqlState::UNDEFINED_TABLE);
    assert_eq!(
        lines(&c, "SELECT id, bee, c FROM t2 ORDER BY id").await,
        ["1|x|7", "2|y|7", "3|z|8"]
    );
    assert_eq!(lines(&c, "SELECT v, w FROM nokey ORDER BY v").await, ["1|w", "2|w", "3|w"]);
    assert_eq!(sqlstate(&c, "INSERT INTO t2 VALUES (4, 'x', 1)").await, SqlState::UNIQUE_VIOLATION);
    assert_eq!(
        sqlstate(&c, "INSERT INTO t2 VALUES (4, 'q', 100)").await,
        SqlState::CHECK_VIOLATION
    );
    assert_eq!(sqlstate(&c, "INSERT INTO t2 VALUES (1, 'q', 1)").await, SqlState::UNIQUE_VIOLATION);
    // Hidden row ids continue after the rewrite: no new row collides with an old one.
    c.batch_execute("INSERT INTO nokey VALUES (4), (5)").await.unwrap();
    assert_eq!(lines(&c, "SELECT count(*) FROM nokey").await, ["5"]);
    drop(c);
    db.stop().await;
}

// [A] BEGIN; writes t  /  [B] ALTER TABLE t → 55006, t unchanged  /  [A] COMMIT;
// [B] ALTER TABLE t succeeds; [A]'s next statement sees the new shape whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_fails_on_uncommitted_writes_and_never_shows_half_a_change() {
    if common::reference_pg().is_some() {
        return; // PostgreSQL's ALTER waits for an ACCESS EXCLUSIVE lock instead
    }
    let db = TestServer::start().await;
    let a = db.connect().await;
    let b = db.connect().await;
    a.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1)")
        .await
        .unwrap();
    a.batch_execute("BEGIN; INSERT INTO t VALUES (2, 2)").await.unwrap();
    assert_eq!(
        sqlstate(&b, "ALTER TABLE t ADD COLUMN w int DEFAULT 0").await,
        SqlState::OBJECT_IN_USE
    );
    assert_eq!(lines(&a, "SELECT * FROM t ORDER BY id").await, ["1|1", "2|2"]);
    a.batch_execute("COMMIT").await.unwrap();
    b.batch_execute("ALTER TABLE t ADD COLUMN w int DEFAULT 0").await.unwrap();
    assert_eq!(lines(&a, "SELECT * FROM t ORDER BY id").await, ["1|1|0", "2|2|0"]);

    // A transaction that began before the ALTER: its next statements are planned
    // against the new definition, and read its snapshot's rows in the new shape.
    a.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM t").await.unwrap();
    b.batch_execute("ALTER TABLE t DROP COLUMN v").await.unwrap();
    assert_eq!(lines(&a, "SELECT * FROM t ORDER BY id").await, ["1|0", "2|0"]);
    a.batch_execute("INSERT INTO t VALUES (3, 3)").await.unwrap();
    a.batch_execute("COMMIT").await.unwrap();
    assert_eq!(lines(&b, "SELECT * FROM t ORDER BY id").await, ["1|0", "2|0", "3|3"]);
}

// Many implicit writers while ALTERs run: every insert lands, with the shape of the
// table when it ran; none is lost to the rewrite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_writers_during_alters_lose_nothing() {
    if common::reference_pg().is_some() {
        return; // PostgreSQL's ALTER waits for an ACCESS EXCLUSIVE lock instead
    }
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY)").await.unwrap();
    let w = db.connect().await;
    let writer = tokio::spawn(async move {
        let mut ok = 0;
        for i in 0..200 {
            match w.batch_execute(&format!("INSERT INTO t (id) VALUES ({i})")).await {
                Ok(()) => ok += 1,
                Err(e) => assert!(
                    matches!(
                        e.code(),
                        Some(&SqlState::T_R_SERIALIZATION_FAILURE) | Some(&SqlState::OBJECT_IN_USE)
                    ),
                    "{e:?}"
                ),
            }
        }
        ok
    });
    let mut altered = 0;
    for i in 0..10 {
        match c.batch_execute(&format!("ALTER TABLE t ADD COLUMN c{i} int DEFAULT {i}")).await {
            Ok(()) => altered += 1,
            Err(e) => assert_eq!(e.code(), Some(&SqlState::OBJECT_IN_USE), "{e:?}"),
        }
    }
    let inserted = writer.await.unwrap();
    let n: usize = lines(&c, "SELECT count(*) FROM t").await[0].parse().unwrap();
    assert_eq!(n, inserted);
    let cols = lines(&c, "SELECT * FROM t LIMIT 1").await;
    assert_eq!(cols[0].split('|').count(), 1 + altered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, a int);
         INSERT INTO t VALUES (1, 10), (2, 20);
         CREATE VIEW v (k, twice) AS SELECT id, a * 2 FROM t;
         CREATE VIEW gone AS SELECT 1 AS one;
         CREATE VIEW star AS SELECT * FROM t",
    )
    .await
    .unwrap();
    c.batch_execute("CREATE OR REPLACE VIEW v (k, twice) AS SELECT id, a * 2 FROM t WHERE a > 10")
        .await
        .unwrap();
    c.batch_execute("DROP VIEW gone; ALTER TABLE t ADD COLUMN b text DEFAULT 'b'").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, "SELECT k, twice FROM v").await, ["2|40"]);
    assert_eq!(lines(&c, "SELECT * FROM star ORDER BY id").await, ["1|10", "2|20"]);
    assert_eq!(sqlstate(&c, "SELECT * FROM gone").await, SqlState::UNDEFINED_TABLE);
    assert_eq!(sqlstate(&c, "DROP TABLE t").await, SqlState::DEPENDENT_OBJECTS_STILL_EXIST);
    // A new relation's oid does not collide with the recovered view's.
    c.batch_execute("CREATE TABLE u (x int)").await.unwrap();
    let oids =
        lines(&c, "SELECT count(DISTINCT oid) FROM pg_class WHERE relname IN ('t', 'u')").await;
    assert_eq!(oids, ["2"]);
    drop(c);
    db.stop().await;
}

// A statement prepared before an ALTER is re-planned against the new definition;
// one whose result columns would change fails as PostgreSQL's does (0A000, "cached
// plan must not change result type"), one whose columns stay runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_follow_an_alter() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, a int); INSERT INTO t VALUES (1, 1)")
        .await
        .unwrap();
    let star = c.prepare("SELECT * FROM t").await.unwrap();
    let ins = c.prepare("INSERT INTO t (id, a) VALUES ($1, $2)").await.unwrap();
    let one = c.prepare("SELECT a FROM t WHERE id = $1").await.unwrap();
    c.batch_execute("ALTER TABLE t ADD COLUMN b int DEFAULT 9").await.unwrap();
    c.execute(&ins, &[&2i32, &2i32]).await.unwrap();
    let a: i32 = c.query_one(&one, &[&2i32]).await.unwrap().get(0);
    assert_eq!(a, 2);
    let e = c.query(&star, &[]).await.unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::FEATURE_NOT_SUPPORTED), "{e:?}");
    assert_eq!(lines(&c, "SELECT * FROM t ORDER BY id").await, ["1|1|9", "2|2|9"]);
}

// DROP TABLE … CASCADE of a parent drops the other tables' foreign keys on it (not
// the tables), and a statement prepared against the child before that is held to the
// child as it is now; all of it survives a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_table_cascade_drops_the_referencing_keys_durably() {
    if common::reference_pg().is_some() {
        return; // restarts troupe's own data directory
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE k (id int PRIMARY KEY, p_id int REFERENCES p);
         INSERT INTO p VALUES (1); INSERT INTO k VALUES (1, 1)",
    )
    .await
    .unwrap();
    let insert = c.prepare("INSERT INTO k VALUES ($1, $2)").await.unwrap();
    assert_eq!(sqlstate(&c, "DROP TABLE p").await, SqlState::DEPENDENT_OBJECTS_STILL_EXIST);
    c.batch_execute("DROP TABLE p CASCADE").await.unwrap();
    c.execute(&insert, &[&2i32, &99i32]).await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'").await, ["0"]);
    assert_eq!(lines(&c, "SELECT id, p_id FROM k ORDER BY id").await, ["1|1", "2|99"]);
    assert_eq!(sqlstate(&c, "SELECT * FROM p").await, SqlState::UNDEFINED_TABLE);
    db.stop().await;
}
