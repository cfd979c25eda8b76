//! Sequences as a client sees them: CREATE/DROP SEQUENCE and its options, nextval /
//! currval / setval / lastval with PostgreSQL's errors, nextval outside transactions
//! (a rollback gives nothing back), no value twice under concurrent sessions, and no
//! value twice after a restart or a SIGKILL (troupe-only: the reference PostgreSQL
//! cannot be restarted from here).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{code, lines, message, reference_pg, scalar, TestServer};
use tokio_postgres::error::SqlState;

async fn fails(c: &tokio_postgres::Client, sql: &str) -> tokio_postgres::Error {
    match c.batch_execute(sql).await {
        Ok(()) => panic!("{sql}: expected an error"),
        Err(e) => e,
    }
}

async fn int(c: &tokio_postgres::Client, sql: &str) -> i64 {
    scalar(c, sql).await.unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nextval_currval_setval_lastval_as_postgres() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE SEQUENCE s MAXVALUE 3").await.unwrap();
    let e = fails(&c, "SELECT currval('s')").await;
    assert_eq!(code(&e), SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE);
    assert_eq!(message(&e), "currval of sequence \"s\" is not yet defined in this session");
    let e = fails(&c, "SELECT lastval()").await;
    assert_eq!(message(&e), "lastval is not yet defined in this session");
    assert_eq!(
        lines(&c, "SELECT nextval('s'), nextval('S'), nextval('public.s')").await,
        ["1|2|3"]
    );
    let e = fails(&c, "SELECT nextval('s')").await;
    assert_eq!(code(&e), SqlState::SEQUENCE_GENERATOR_LIMIT_EXCEEDED);
    assert_eq!(message(&e), "nextval: reached maximum value of sequence \"s\" (3)");
    assert_eq!(lines(&c, "SELECT currval('s'), lastval()").await, ["3|3"]);
    let e = fails(&c, "SELECT setval('s', 10)").await;
    assert_eq!(code(&e), SqlState::NUMERIC_VALUE_OUT_OF_RANGE);
    assert_eq!(message(&e), "setval: value 10 is out of bounds for sequence \"s\" (1..3)");
    assert_eq!(lines(&c, "SELECT setval('s', 2, false)").await, ["2"]);
    assert_eq!(lines(&c, "SELECT nextval('s'), nextval('s')").await, ["2|3"]);
    assert_eq!(lines(&c, "SELECT setval('s', 1)").await, ["1"]);
    assert_eq!(int(&c, "SELECT nextval('s')").await, 2);

    // Other sessions have their own currval.
    let other = db.connect().await;
    let e = fails(&other, "SELECT currval('s')").await;
    assert_eq!(code(&e), SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE);

    // Options in any order, descending, cycling.
    c.batch_execute(
        "CREATE SEQUENCE d START WITH -1 INCREMENT BY -2 MINVALUE -5 MAXVALUE -1 CYCLE;
         CREATE SEQUENCE IF NOT EXISTS d",
    )
    .await
    .unwrap();
    assert_eq!(
        lines(&c, "SELECT nextval('d'), nextval('d'), nextval('d'), nextval('d')").await,
        ["-1|-3|-5|-1"]
    );
    c.batch_execute("CREATE SEQUENCE sm AS smallint START 32766").await.unwrap();
    assert_eq!(lines(&c, "SELECT nextval('sm'), nextval('sm')").await, ["32766|32767"]);
    assert_eq!(
        message(&fails(&c, "SELECT nextval('sm')").await),
        "nextval: reached maximum value of sequence \"sm\" (32767)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_ddl_errors_as_postgres() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE SEQUENCE s; CREATE TABLE t (id serial, v int)").await.unwrap();
    let cases: &[(&str, SqlState, &str)] = &[
        ("CREATE SEQUENCE s", SqlState::DUPLICATE_TABLE, "relation \"s\" already exists"),
        ("CREATE SEQUENCE t", SqlState::DUPLICATE_TABLE, "relation \"t\" already exists"),
        (
            "CREATE SEQUENCE b INCREMENT 0",
            SqlState::INVALID_PARAMETER_VALUE,
            "INCREMENT must not be zero",
        ),
        (
            "CREATE SEQUENCE b MINVALUE 5 MAXVALUE 5",
            SqlState::INVALID_PARAMETER_VALUE,
            "MINVALUE (5) must be less than MAXVALUE (5)",
        ),
        (
            "CREATE SEQUENCE b START 0",
            SqlState::INVALID_PARAMETER_VALUE,
            "START value (0) cannot be less than MINVALUE (1)",
        ),
        ("DROP SEQUENCE nope", SqlState::UNDEFINED_TABLE, "sequence \"nope\" does not exist"),
        ("DROP SEQUENCE t", SqlState::WRONG_OBJECT_TYPE, "\"t\" is not a sequence"),
        (
            "DROP SEQUENCE t_id_seq",
            SqlState::DEPENDENT_OBJECTS_STILL_EXIST,
            "cannot drop sequence t_id_seq because other objects depend on it",
        ),
        ("SELECT nextval('t')", SqlState::WRONG_OBJECT_TYPE, "\"t\" is not a sequence"),
        ("SELECT nextval('nope')", SqlState::UNDEFINED_TABLE, "relation \"nope\" does not exist"),
    ];
    for (sql, state, text) in cases {
        let e = fails(&c, sql).await;
        assert_eq!((&code(&e), message(&e).as_str()), (state, *text), "{sql}");
    }
    c.batch_execute("DROP SEQUENCE IF EXISTS nope; DROP SEQUENCE s").await.unwrap();
    let e = fails(&c, "SELECT nextval('s')").await;
    assert_eq!(code(&e), SqlState::UNDEFINED_TABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nextval_is_not_rolled_back() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE SEQUENCE s").await.unwrap();
    c.batch_execute("BEGIN; SELECT nextval('s'); SELECT nextval('s'); ROLLBACK").await.unwrap();
    assert_eq!(int(&c, "SELECT nextval('s')").await, 3);
    // A failed INSERT used its value too.
    c.batch_execute("CREATE TABLE t (id serial PRIMARY KEY, v int CHECK (v > 0))").await.unwrap();
    let _ = fails(&c, "INSERT INTO t (v) VALUES (-1)").await;
    c.batch_execute("INSERT INTO t (v) VALUES (1)").await.unwrap();
    assert_eq!(lines(&c, "SELECT id FROM t").await, ["2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sessions_never_get_the_same_value() {
    const SESSIONS: usize = 8;
    const EACH: usize = 100;
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE SEQUENCE s; CREATE TABLE t (id bigserial PRIMARY KEY, w int)")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for w in 0..SESSIONS {
        let client = db.connect().await;
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::with_capacity(EACH);
            for _ in 0..EACH {
                let r = client.query_one("SELECT nextval('s')", &[]).await.unwrap();
                got.push(r.get::<_, i64>(0));
                client.execute("INSERT INTO t (w) VALUES ($1)", &[&(w as i32)]).await.unwrap();
            }
            got
        }));
    }
    let mut all = BTreeSet::new();
    for t in tasks {
        for v in t.await.unwrap() {
            assert!(all.insert(v), "{v} handed out twice");
        }
    }
    assert_eq!(all.len(), SESSIONS * EACH);
    assert_eq!(*all.iter().next_back().unwrap(), (SESSIONS * EACH) as i64);
    assert_eq!(
        lines(&c, "SELECT count(*), count(DISTINCT id), max(id) FROM t").await,
        [format!("{0}|{0}|{0}", SESSIONS * EACH)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_never_repeat_after_a_restart() {
    if reference_pg().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE SEQUENCE s INCREMENT 3;
         CREATE SEQUENCE fresh;
         CREATE SEQUENCE later;
         CREATE TABLE t (id serial PRIMARY KEY, v text DEFAULT 'd', CHECK (v <> 'bad'))",
    )
    .await
    .unwrap();
    let mut seen = BTreeSet::new();
    for _ in 0..40 {
        seen.insert(int(&c, "SELECT nextval('s')").await);
    }
    // Values a transaction that never committed used count too.
    c.batch_execute("BEGIN; SELECT nextval('s'); INSERT INTO t DEFAULT VALUES").await.unwrap();
    seen.insert(int(&c, "SELECT currval('s')").await);
    c.batch_execute("INSERT INTO t (v) VALUES ('x')").await.unwrap();
    drop(c);
    let c2 = db.connect().await;
    c2.batch_execute("SELECT setval('later', 500)").await.unwrap();
    drop(c2);
    db.stop().await;

    let db = TestServer::start_at(dir.path()).await;
    let c = db.connect().await;
    let next = int(&c, "SELECT nextval('s')").await;
    assert!(seen.iter().all(|&v| v < next), "{next} is not past {seen:?}");
    assert_eq!((next - 1) % 3, 0, "still steps by 3 from 1");
    assert_eq!(int(&c, "SELECT nextval('fresh')").await, 1);
    assert_eq!(int(&c, "SELECT nextval('later')").await, 501);
    // The table's default, check and serial survived; the uncommitted row did not.
    c.batch_execute("INSERT INTO t DEFAULT VALUES").await.unwrap();
    let ids = lines(&c, "SELECT id, v FROM t ORDER BY id").await;
    assert_eq!(ids.len(), 1);
    assert!(ids[0].ends_with("|d"));
    assert!(ids[0].split('|').next().unwrap().parse::<i64>().unwrap() > 2);
    assert_eq!(
        code(&fails(&c, "INSERT INTO t (v) VALUES ('bad')").await),
        SqlState::CHECK_VIOLATION
    );
    drop(c);
    db.stop().await;
}
