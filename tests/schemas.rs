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
    c.batch_execute(
        "CREATE TABLE app.t (id serial PRIMARY KEY, v text);
         INSERT INTO app.t (v) VALUES ('a'), ('b');
         CREATE VIEW app.v AS SELECT count(*) AS n FROM t",
    )
    .await
    .unwrap();
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
    drop(c);
    db.stop().await;

    // The table in app, its sequence and the view (bound under the path it was
    // created with: it reads public.t) are all back.
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute("INSERT INTO app.t (v) VALUES ('c')").await.unwrap();
    assert_eq!(lines(&c, "SELECT v FROM app.t ORDER BY id").await, ["a", "b", "c"]);
    assert_eq!(lines(&c, "SELECT n FROM app.v").await, ["1"]);
    assert_eq!(sqlstate(&c, "DROP SCHEMA app").await, SqlState::DEPENDENT_OBJECTS_STILL_EXIST);
    c.batch_execute("DROP SCHEMA app CASCADE").await.unwrap();
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    assert_eq!(lines(&c, USER_SCHEMAS).await, ["public"]);
    assert_eq!(sqlstate(&c, "SELECT * FROM app.t").await, SqlState::UNDEFINED_TABLE);
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

// Two schemas with a table of the same name: search_path picks one, a qualified name
// the other, and a prepared statement planned under one path resolves again under
// the next, as PostgreSQL re-plans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_path_picks_the_table_and_prepared_statements_follow_it() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE SCHEMA a; CREATE SCHEMA b;
         CREATE TABLE a.t (x int); CREATE TABLE b.t (x int);
         INSERT INTO a.t VALUES (1); INSERT INTO b.t VALUES (2), (2);",
    )
    .await
    .unwrap();
    assert_eq!(sqlstate(&c, "SELECT * FROM t").await, SqlState::UNDEFINED_TABLE);
    assert_eq!(sqlstate(&c, "CREATE TABLE a.t (y int)").await, SqlState::DUPLICATE_TABLE);
    c.batch_execute("SET search_path = a, public").await.unwrap();
    let stmt = c.prepare("SELECT sum(x)::int FROM t").await.unwrap();
    let sum = |rows: Vec<tokio_postgres::Row>| rows[0].get::<_, i32>(0);
    assert_eq!(sum(c.query(&stmt, &[]).await.unwrap()), 1);
    assert_eq!(lines(&c, "SELECT current_schema()").await, ["a"]);
    c.batch_execute("SET search_path = b").await.unwrap();
    assert_eq!(sum(c.query(&stmt, &[]).await.unwrap()), 4);
    // An unqualified CREATE goes into the first schema of the path.
    c.batch_execute("CREATE TABLE u (z int); SET search_path = nosuch").await.unwrap();
    assert_eq!(lines(&c, "SELECT count(*) FROM b.u").await, ["0"]);
    assert_eq!(sqlstate(&c, "CREATE TABLE w (z int)").await, SqlState::INVALID_SCHEMA_NAME);
    c.batch_execute("RESET search_path; DROP SCHEMA a CASCADE; DROP SCHEMA b CASCADE")
        .await
        .unwrap();
    assert_eq!(sqlstate(&c, "SELECT * FROM b.t").await, SqlState::UNDEFINED_TABLE);
    drop(c);
    db.stop().await;
}

// A SERIAL default and a view are bound when they are created: the inserting
// session's search_path (a prepared INSERT planned under one path, run under
// another), a same-named sequence or table created earlier on the path, and a
// restart change nothing about what they use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_and_views_stay_bound_across_paths_and_restart() {
    if common::reference_pg().is_some() {
        return; // restarts troupe's own data directory
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE SCHEMA s;
         CREATE TABLE items (id serial PRIMARY KEY, v text);
         CREATE TABLE src (a int); INSERT INTO src VALUES (1);
         SET search_path = s, public;
         CREATE VIEW s.reader AS SELECT a FROM src;
         SET search_path = s;",
    )
    .await
    .unwrap();
    let insert = c.prepare("INSERT INTO public.items (v) VALUES ($1) RETURNING id").await.unwrap();
    let id = |rows: Vec<tokio_postgres::Row>| rows[0].get::<_, i32>(0);
    assert_eq!(id(c.query(&insert, &[&"a"]).await.unwrap()), 1);
    c.batch_execute(
        "CREATE SEQUENCE items_id_seq START 500;
         CREATE TABLE s.src (a int); INSERT INTO s.src VALUES (2);",
    )
    .await
    .unwrap();
    assert_eq!(id(c.query(&insert, &[&"b"]).await.unwrap()), 2);
    assert_eq!(lines(&c, "SELECT a FROM reader").await, ["1"]);
    drop(c);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute("SET search_path = s").await.unwrap();
    // (A restart may skip the values the sequence had logged ahead; never to 500.)
    let sql = "INSERT INTO public.items (v) VALUES ('c') RETURNING id BETWEEN 3 AND 499";
    assert_eq!(lines(&c, sql).await, ["t"]);
    assert_eq!(lines(&c, "SELECT a FROM reader").await, ["1"]);
    assert_eq!(
        lines(&c, "SELECT column_default FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'id'").await,
        ["nextval('public.items_id_seq'::regclass)"]
    );
    drop(c);
    db.stop().await;
}

// regclass output and pg_table_is_visible follow the session's search_path, also in
// a prepared statement run again after the path changed (they are evaluated when the
// statement runs) and in a regclass result column named at the wire edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visibility_follows_the_path() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE SCHEMA s; CREATE TABLE s.t (a int); CREATE TABLE t (a int); CREATE TABLE s.u (a int)",
    )
    .await
    .unwrap();
    let names = c
        .prepare(
            "SELECT 's.t'::regclass::text, 'public.t'::regclass::text, 's.u'::regclass::text,
                    pg_table_is_visible('s.u'::regclass)",
        )
        .await
        .unwrap();
    let row = |rows: Vec<tokio_postgres::Row>| {
        let r = &rows[0];
        (r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, String>(2), r.get::<_, bool>(3))
    };
    let shown = |a: &str, b: &str, c: &str, v| (a.to_owned(), b.to_owned(), c.to_owned(), v);
    assert_eq!(row(c.query(&names, &[]).await.unwrap()), shown("s.t", "t", "s.u", false));
    c.batch_execute("SET search_path = s, public").await.unwrap();
    assert_eq!(row(c.query(&names, &[]).await.unwrap()), shown("t", "public.t", "u", true));
    let oids = c.simple_query("SELECT 's.u'::regclass, 'public.t'::regclass").await.unwrap();
    let tokio_postgres::SimpleQueryMessage::Row(r) = &oids[1] else { panic!("no row") };
    assert_eq!((r.get(0), r.get(1)), (Some("u"), Some("public.t")));
    c.batch_execute("RESET search_path; DROP SCHEMA s CASCADE; DROP TABLE t").await.unwrap();
    drop(c);
    db.stop().await;
}
