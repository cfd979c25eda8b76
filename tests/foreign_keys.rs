//! FOREIGN KEY under concurrent transactions, with PostgreSQL's outcomes (each test
//! also passes against PostgreSQL: `TROUPE_REFERENCE_PG=<port> cargo test --test
//! foreign_keys -- --test-threads=1`). The single-session behaviour is in
//! `tests/slt/constraints/foreign_keys.slt`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{detail, lines, message, TestServer};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// How long to let a statement reach its lock wait before checking it is blocked.
const BLOCK: Duration = Duration::from_millis(200);

async fn parent_and_child() -> (TestServer, Client) {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "DROP TABLE IF EXISTS c; DROP TABLE IF EXISTS p;
         CREATE TABLE p (id int PRIMARY KEY, v int);
         CREATE TABLE c (id int PRIMARY KEY, p_id int REFERENCES p);
         INSERT INTO p VALUES (1, 0), (2, 0)",
    )
    .await
    .unwrap();
    (db, c)
}

/// Runs `sql` on `c` in the background and lets it reach its lock wait.
async fn started(
    c: Client,
    sql: &'static str,
) -> tokio::task::JoinHandle<(Client, Result<u64, tokio_postgres::Error>)> {
    let task = tokio::spawn(async move {
        let r = c.execute(sql, &[]).await;
        (c, r)
    });
    tokio::time::sleep(BLOCK).await;
    task
}

// [A] inserts a child of p 1 (uncommitted): it holds p 1 FOR KEY SHARE.
// [B] DELETE p 1 waits for A; A commits; B fails with 23503 (the child is there now).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_delete_waits_for_a_child_insert_then_fails() {
    let (db, a) = parent_and_child().await;
    a.batch_execute("BEGIN; INSERT INTO c VALUES (1, 1)").await.unwrap();
    let delete = started(db.connect().await, "DELETE FROM p WHERE id = 1").await;
    assert!(!delete.is_finished(), "the delete waits for the child's inserter");
    a.batch_execute("COMMIT").await.unwrap();
    let (_b, r) = delete.await.unwrap();
    let err = r.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    assert_eq!(
        message(&err),
        "update or delete on table \"p\" violates foreign key constraint \"c_p_id_fkey\" on table \"c\""
    );
    assert_eq!(detail(&err).as_deref(), Some("Key (id)=(1) is still referenced from table \"c\"."));

    // The same, but the inserter rolls back: the delete goes through.
    a.batch_execute("BEGIN; INSERT INTO c VALUES (2, 2)").await.unwrap();
    let delete = started(db.connect().await, "DELETE FROM p WHERE id = 2").await;
    assert!(!delete.is_finished());
    a.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(delete.await.unwrap().1.unwrap(), 1);
}

// [A] deletes p 1 (uncommitted). [B]'s child insert waits for A; A commits: 23503;
// had A rolled back, the insert would go in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_insert_waits_for_a_parent_delete() {
    let (db, a) = parent_and_child().await;
    a.batch_execute("BEGIN; DELETE FROM p WHERE id = 1").await.unwrap();
    let insert = started(db.connect().await, "INSERT INTO c VALUES (1, 1)").await;
    assert!(!insert.is_finished(), "the insert waits for the parent's deleter");
    a.batch_execute("COMMIT").await.unwrap();
    let (b, r) = insert.await.unwrap();
    let err = r.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    assert_eq!(detail(&err).as_deref(), Some("Key (p_id)=(1) is not present in table \"p\"."));

    a.batch_execute("BEGIN; DELETE FROM p WHERE id = 2").await.unwrap();
    let insert = started(b, "INSERT INTO c VALUES (2, 2)").await;
    assert!(!insert.is_finished());
    a.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(insert.await.unwrap().1.unwrap(), 1);
}

// An UPDATE of the parent's non-key columns holds it FOR NO KEY UPDATE: a child insert
// does not wait for it, and neither waits for the other the other way round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_key_update_of_the_parent_blocks_no_child() {
    let (db, a) = parent_and_child().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE p SET v = 1 WHERE id = 1").await.unwrap();
    let insert =
        tokio::time::timeout(Duration::from_secs(5), b.execute("INSERT INTO c VALUES (1, 1)", &[]));
    assert_eq!(insert.await.expect("no wait").unwrap(), 1);
    a.batch_execute("COMMIT").await.unwrap();
    b.batch_execute("BEGIN; INSERT INTO c VALUES (2, 1)").await.unwrap();
    let update = tokio::time::timeout(
        Duration::from_secs(5),
        a.execute("UPDATE p SET v = 2 WHERE id = 1", &[]),
    );
    assert_eq!(update.await.expect("no wait").unwrap(), 1);
    b.batch_execute("COMMIT").await.unwrap();
    assert_eq!(lines(&a, "SELECT count(*) FROM c").await, ["2"]);
}

// Foreign keys survive a restart, and still hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_keys_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "DROP TABLE IF EXISTS k; DROP TABLE IF EXISTS p;
         CREATE TABLE p (id int PRIMARY KEY, u text UNIQUE);
         CREATE TABLE k (id int PRIMARY KEY, pu text, FOREIGN KEY (pu) REFERENCES p (u) ON DELETE CASCADE);
         INSERT INTO p VALUES (1, 'a'), (2, 'b'); INSERT INTO k VALUES (1, 'a'), (2, 'b')",
    )
    .await
    .unwrap();
    drop(c);
    db.stop().await;
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    let err = c.execute("INSERT INTO k VALUES (3, 'z')", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    c.execute("DELETE FROM p WHERE id = 1", &[]).await.unwrap();
    assert_eq!(lines(&c, "SELECT pu FROM k").await, ["b"]);
    db.stop().await;
}

// ALTER TABLE … ADD FOREIGN KEY checks the rows there (23503 naming the first missing
// key), then holds like a key of CREATE TABLE; the keys follow the parent's dropped
// column and new name, and all of it survives a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_foreign_keys_hold_and_survive_a_restart() {
    if common::reference_pg().is_some() {
        return; // restarts troupe's own data directory
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE p (id int PRIMARY KEY, v int, u text UNIQUE);
         CREATE TABLE k (id int PRIMARY KEY, pu text, p_id int);
         INSERT INTO p VALUES (1, 0, 'a'), (2, 0, 'b');
         INSERT INTO k VALUES (1, 'a', 1), (2, 'zz', 2), (3, NULL, 2)",
    )
    .await
    .unwrap();
    let err = c
        .batch_execute("ALTER TABLE k ADD CONSTRAINT k_pu FOREIGN KEY (pu) REFERENCES p (u)")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    assert_eq!(
        message(&err),
        "insert or update on table \"k\" violates foreign key constraint \"k_pu\""
    );
    assert_eq!(detail(&err).as_deref(), Some("Key (pu)=(zz) is not present in table \"p\"."));
    c.batch_execute("UPDATE k SET pu = 'b' WHERE id = 2").await.unwrap();
    c.batch_execute(
        "ALTER TABLE k ADD CONSTRAINT k_pu FOREIGN KEY (pu) REFERENCES p (u) ON DELETE CASCADE,
                       ADD FOREIGN KEY (p_id) REFERENCES p ON DELETE SET NULL;
         ALTER TABLE p DROP COLUMN v;
         ALTER TABLE p RENAME TO parent",
    )
    .await
    .unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(
        lines(&c, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' ORDER BY conname").await,
        [
            "FOREIGN KEY (p_id) REFERENCES parent(id) ON DELETE SET NULL",
            "FOREIGN KEY (pu) REFERENCES parent(u) ON DELETE CASCADE"
        ]
    );
    let err = c.execute("INSERT INTO k VALUES (4, 'q', NULL)", &[]).await.unwrap_err();
    assert_eq!(detail(&err).as_deref(), Some("Key (pu)=(q) is not present in table \"parent\"."));
    c.execute("DELETE FROM parent WHERE id = 1", &[]).await.unwrap();
    assert_eq!(lines(&c, "SELECT id, pu, p_id FROM k ORDER BY id").await, ["2|b|2", "3|NULL|2"]);
    c.execute("UPDATE k SET pu = NULL WHERE id = 2", &[]).await.unwrap();
    c.execute("DELETE FROM parent WHERE id = 2", &[]).await.unwrap();
    assert_eq!(
        lines(&c, "SELECT id, pu, p_id FROM k ORDER BY id").await,
        ["2|NULL|NULL", "3|NULL|NULL"]
    );
    db.stop().await;
}

// A key to a parent in another schema names it by (schema, name): it holds against
// that table only (not public's of the same name), follows its RENAME TO, and all of
// it survives a restart; DROP SCHEMA … CASCADE then drops the key with the parent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_to_another_schema_follows_its_parent_and_survives_a_restart() {
    if common::reference_pg().is_some() {
        return; // restarts troupe's own data directory
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE SCHEMA s;
         CREATE TABLE s.p (id int PRIMARY KEY);
         CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE k (id int PRIMARY KEY, p_id int);
         INSERT INTO s.p VALUES (1);
         INSERT INTO p VALUES (2);
         INSERT INTO k VALUES (1, 1)",
    )
    .await
    .unwrap();
    // Each on its own: DDL after a write in the same implicit transaction is refused.
    c.batch_execute("ALTER TABLE k ADD FOREIGN KEY (p_id) REFERENCES s.p").await.unwrap();
    c.batch_execute("ALTER TABLE s.p RENAME TO parent").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(
        lines(&c, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'").await,
        ["FOREIGN KEY (p_id) REFERENCES s.parent(id)"]
    );
    let err = c.execute("INSERT INTO k VALUES (2, 2)", &[]).await.unwrap_err();
    assert_eq!(detail(&err).as_deref(), Some("Key (p_id)=(2) is not present in table \"parent\"."));
    let err = c.execute("DELETE FROM s.parent", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    c.execute("DELETE FROM p", &[]).await.unwrap();
    c.batch_execute("DROP SCHEMA s CASCADE").await.unwrap();
    c.execute("INSERT INTO k VALUES (2, 2)", &[]).await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'").await, ["0"]);
    assert_eq!(lines(&c, "SELECT id, p_id FROM k ORDER BY id").await, ["1|1", "2|2"]);
    db.stop().await;
}

// ADD FOREIGN KEY waits for no one: a transaction with uncommitted changes in either
// table makes it fail with 55006 (PostgreSQL would wait for its lock instead); once
// that transaction is over, the key is added and checked against what it committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_foreign_key_fails_on_uncommitted_changes_in_either_table() {
    if common::reference_pg().is_some() {
        return; // PostgreSQL blocks on its lock instead
    }
    let db = TestServer::start().await;
    let a = db.connect().await;
    let b = db.connect().await;
    a.batch_execute(
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE c (id int PRIMARY KEY, p_id int);
         INSERT INTO p VALUES (1), (2); INSERT INTO c VALUES (1, 1)",
    )
    .await
    .unwrap();
    let add = "ALTER TABLE c ADD FOREIGN KEY (p_id) REFERENCES p";
    a.batch_execute("BEGIN; DELETE FROM p WHERE id = 1").await.unwrap();
    let err = b.batch_execute(add).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::OBJECT_IN_USE));
    a.batch_execute("COMMIT").await.unwrap();
    let err = b.batch_execute(add).await.unwrap_err();
    assert_eq!(detail(&err).as_deref(), Some("Key (p_id)=(1) is not present in table \"p\"."));

    a.batch_execute("BEGIN; INSERT INTO c VALUES (2, 7)").await.unwrap();
    let err = b.batch_execute(add).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::OBJECT_IN_USE));
    a.batch_execute("ROLLBACK; UPDATE c SET p_id = 2").await.unwrap();
    b.batch_execute(add).await.unwrap();
    // Both tables are live again, under the key.
    let err = a.execute("DELETE FROM p WHERE id = 2", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    a.execute("INSERT INTO p VALUES (3)", &[]).await.unwrap();
    a.execute("INSERT INTO c VALUES (3, 3)", &[]).await.unwrap();
    db.stop().await;
}

// A statement prepared before the key was added is held to it afterwards: the
// catalog change makes it bind again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_prepared_before_add_foreign_key_is_held_to_it() {
    let (db, c) = parent_and_child().await;
    c.batch_execute("ALTER TABLE c DROP CONSTRAINT c_p_id_fkey; INSERT INTO c VALUES (1, 1)")
        .await
        .unwrap();
    let delete = c.prepare("DELETE FROM p WHERE id = $1").await.unwrap();
    let insert = c.prepare("INSERT INTO c VALUES ($1, $2)").await.unwrap();
    c.batch_execute("ALTER TABLE c ADD FOREIGN KEY (p_id) REFERENCES p").await.unwrap();
    let err = c.execute(&delete, &[&1i32]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    let err = c.execute(&insert, &[&2i32, &9i32]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::FOREIGN_KEY_VIOLATION));
    c.execute(&delete, &[&2i32]).await.unwrap();
    db.stop().await;
}

/// The relations in a 2BP01's message and DETAIL are named as PostgreSQL's object
/// descriptions name them: bare where visible on the session's search_path,
/// schema-qualified where not (in a schema off the path, or hidden by a relation of
/// the same name earlier on it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependency_messages_qualify_only_what_the_path_does_not_show() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE SCHEMA vis;
         CREATE TABLE vis.p (id int PRIMARY KEY);
         CREATE TABLE vis.c (id int PRIMARY KEY, p_id int REFERENCES vis.p);
         CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE d (id int PRIMARY KEY, p_id int REFERENCES public.p)",
    )
    .await
    .unwrap();
    let refused = |sql: &'static str| {
        let c = &c;
        async move {
            let e = c.batch_execute(sql).await.unwrap_err();
            assert_eq!(e.code(), Some(&SqlState::DEPENDENT_OBJECTS_STILL_EXIST), "{sql}");
            (message(&e), detail(&e).unwrap_or_default())
        }
    };
    // Off the path: qualified.
    assert_eq!(
        refused("DROP TABLE vis.p").await,
        (
            "cannot drop table vis.p because other objects depend on it".to_owned(),
            "constraint c_p_id_fkey on table vis.c depends on table vis.p".to_owned()
        )
    );
    // vis first on the path: its relations bare, public.p hidden by vis.p.
    c.batch_execute("SET search_path = vis, public").await.unwrap();
    assert_eq!(
        refused("DROP TABLE p").await,
        (
            "cannot drop table p because other objects depend on it".to_owned(),
            "constraint c_p_id_fkey on table c depends on table p".to_owned()
        )
    );
    assert_eq!(
        refused("ALTER TABLE p DROP COLUMN id").await.0,
        "cannot drop column id of table p because other objects depend on it"
    );
    assert_eq!(
        refused("DROP TABLE public.p").await,
        (
            "cannot drop table public.p because other objects depend on it".to_owned(),
            "constraint d_p_id_fkey on table d depends on table public.p".to_owned()
        )
    );
    assert_eq!(
        refused("ALTER TABLE public.p DROP CONSTRAINT p_pkey").await.0,
        "cannot drop constraint p_pkey on table public.p because other objects depend on it"
    );
    c.batch_execute("RESET search_path; DROP SCHEMA vis CASCADE; DROP TABLE d, p").await.unwrap();
}
