//! The PostgreSQL wire protocol as a client sees it: simple and extended query,
//! parameter type inference, binary results, portals, pipelining, the ReadyForQuery
//! status seen through behaviour, and errors with their SQLSTATEs.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use common::{code, counts, describe, detail, lines, message, scalar, sqlstate, TestServer};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::SimpleQueryMessage;

// PostgreSQL runs every statement of a simple Query string, in order, and reports one
// CommandComplete per statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_query_runs_several_statements() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10), (2, 20);",
    )
    .await
    .unwrap();
    let messages = c
        .simple_query("INSERT INTO t VALUES (3, 30); UPDATE t SET v = v + 1; SELECT id FROM t ORDER BY id; DELETE FROM t WHERE id = 3")
        .await
        .unwrap();
    let mut seen = Vec::new();
    for m in messages {
        match m {
            SimpleQueryMessage::Row(r) => seen.push(format!("row {}", r.get(0).unwrap())),
            SimpleQueryMessage::CommandComplete(n) => seen.push(format!("done {n}")),
            _ => {}
        }
    }
    assert_eq!(
        seen,
        ["done 1", "done 3", "row 1", "row 2", "row 3", "done 3", "done 1"].map(String::from)
    );
}

// PostgreSQL infers the types of untyped parameters from context: `v + $1` with v int4
// makes $1 int4, `id = $2` makes $2 int4.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untyped_parameters_are_inferred() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10)")
        .await
        .unwrap();
    let stmt = c.prepare("UPDATE t SET v = v + $1 WHERE id = $2").await.unwrap();
    assert_eq!(stmt.params(), &[Type::INT4, Type::INT4]);
    let n = c.execute(&stmt, &[&5i32, &1i32]).await.unwrap();
    assert_eq!(n, 1);
    let row = c.query_one("SELECT v FROM t WHERE id = $1", &[&1i32]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 15);
}

// PostgreSQL describes each result column's type and sends binary values on request
// (tokio-postgres asks for binary results): each type decodes to its Rust value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_results_of_each_type() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (a int2, b int4, c int8, d float8, e bool, f text, g varchar(10), \
         h char(5), i timestamp, j date);
         INSERT INTO t VALUES (-2, 40000, 5000000000, 2.5, true, 'héllo', 'var', 'ab', \
         '2024-02-29 13:45:06.123456', '2024-02-29')",
    )
    .await
    .unwrap();
    let row = c.query_one("SELECT a, b, c, d, e, f, g, h, i, j FROM t", &[]).await.unwrap();
    let types: Vec<Type> = row.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(
        types,
        [
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::FLOAT8,
            Type::BOOL,
            Type::TEXT,
            Type::VARCHAR,
            Type::BPCHAR,
            Type::TIMESTAMP,
            Type::DATE
        ]
    );
    assert_eq!(row.get::<_, i16>(0), -2);
    assert_eq!(row.get::<_, i32>(1), 40000);
    assert_eq!(row.get::<_, i64>(2), 5_000_000_000);
    assert_eq!(row.get::<_, f64>(3), 2.5);
    assert!(row.get::<_, bool>(4));
    assert_eq!(row.get::<_, &str>(5), "héllo");
    assert_eq!(row.get::<_, &str>(6), "var");
    assert_eq!(row.get::<_, &str>(7), "ab   "); // char(n) is blank-padded
    let ts = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap().and_hms_micro_opt(13, 45, 6, 123456);
    assert_eq!(row.get::<_, NaiveDateTime>(8), ts.unwrap());
    assert_eq!(row.get::<_, NaiveDate>(9), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
}

// PostgreSQL's text output of the same values (simple protocol).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_results_of_each_type() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (a int2, d float8, e bool, h char(5), i timestamp, j date);
         INSERT INTO t VALUES (-2, 2.5, false, 'ab', '2024-02-29 13:45:06.5', '2024-02-29')",
    )
    .await
    .unwrap();
    assert_eq!(
        lines(&c, "SELECT a, d, e, h, i, j FROM t").await,
        ["-2|2.5|f|ab   |2024-02-29 13:45:06.5|2024-02-29"]
    );
}

// Parameters bound as binary values (typed by the client) round-trip, and NULL
// parameters are NULL: `$1 IS NULL` is true, `= NULL` matches nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_and_typed_parameters() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int8 PRIMARY KEY, name text, at timestamp)").await.unwrap();
    let at = NaiveDate::from_ymd_opt(2023, 1, 2).unwrap().and_hms_opt(3, 4, 5).unwrap();
    let insert = c.prepare("INSERT INTO t VALUES ($1, $2, $3)").await.unwrap();
    assert_eq!(insert.params(), &[Type::INT8, Type::TEXT, Type::TIMESTAMP]);
    c.execute(&insert, &[&1i64, &"one", &at]).await.unwrap();
    c.execute(&insert, &[&2i64, &None::<&str>, &None::<NaiveDateTime>]).await.unwrap();
    let row = c.query_one("SELECT name, at FROM t WHERE id = $1", &[&2i64]).await.unwrap();
    assert_eq!(row.get::<_, Option<&str>>(0), None);
    assert_eq!(row.get::<_, Option<NaiveDateTime>>(1), None);
    let row = c.query_one("SELECT name, at FROM t WHERE id = $1", &[&1i64]).await.unwrap();
    assert_eq!(row.get::<_, Option<&str>>(0), Some("one"));
    assert_eq!(row.get::<_, Option<NaiveDateTime>>(1), Some(at));
    let n = c.query("SELECT id FROM t WHERE name = $1", &[&None::<&str>]).await.unwrap();
    assert!(n.is_empty());
}

// A named prepared statement can be executed many times with different parameters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_statement_is_reused() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v text)").await.unwrap();
    let insert = c.prepare("INSERT INTO t VALUES ($1, $2)").await.unwrap();
    for i in 0..20i32 {
        assert_eq!(c.execute(&insert, &[&i, &format!("v{i}")]).await.unwrap(), 1);
    }
    let select = c.prepare("SELECT v FROM t WHERE id = $1").await.unwrap();
    for i in [0i32, 7, 19] {
        let row = c.query_one(&select, &[&i]).await.unwrap();
        assert_eq!(row.get::<_, String>(0), format!("v{i}"));
    }
    assert_eq!(scalar(&c, "SELECT count(*) FROM t").await.as_deref(), Some("20"));
}

// Execute with a row limit suspends the portal (PortalSuspended); the next Execute
// continues where it stopped: 5 rows fetched 2 at a time give 2, 2, 1, then none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_with_row_limit() {
    let db = TestServer::start().await;
    let mut c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3), (4), (5)",
    )
    .await
    .unwrap();
    let tx = c.transaction().await.unwrap();
    let stmt = tx.prepare("SELECT id FROM t WHERE id >= $1 ORDER BY id").await.unwrap();
    let portal = tx.bind(&stmt, &[&1i32]).await.unwrap();
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..4 {
        let batch = tx.query_portal(&portal, 2).await.unwrap();
        sizes.push(batch.len());
        ids.extend(batch.iter().map(|r| r.get::<_, i32>(0)));
    }
    assert_eq!(sizes, [2, 2, 1, 0]);
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    tx.commit().await.unwrap();
}

// Several queries sent without waiting (pipelined) each get their own result, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_queries() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v int)").await.unwrap();
    let insert = c.prepare("INSERT INTO t VALUES ($1, $2)").await.unwrap();
    let values: Vec<(i32, i32)> = (0..10).map(|i| (i, i * 10)).collect();
    let (c, insert) = (&c, &insert);
    let inserts = values.iter().map(|(id, v)| async move { c.execute(insert, &[id, v]).await });
    let done = futures::future::join_all(inserts).await;
    assert!(done.into_iter().all(|r| r.unwrap() == 1));
    let select = c.prepare("SELECT v FROM t WHERE id = $1").await.unwrap();
    let (a, b, d) = futures::join!(
        c.query_one(&select, &[&3i32]),
        c.query_one(&select, &[&7i32]),
        c.query_one("SELECT count(*) FROM t", &[]),
    );
    assert_eq!(a.unwrap().get::<_, i32>(0), 30);
    assert_eq!(b.unwrap().get::<_, i32>(0), 70);
    assert_eq!(d.unwrap().get::<_, i64>(0), 10);
}

// After an error inside BEGIN, PostgreSQL rejects every statement with 25P02 until
// the block ends; ROLLBACK returns to idle and statements work again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_block_until_rollback() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY)").await.unwrap();
    c.batch_execute("BEGIN").await.unwrap();
    assert_eq!(sqlstate(&c, "SELECT * FROM missing").await, SqlState::UNDEFINED_TABLE);
    assert_eq!(sqlstate(&c, "SELECT 1").await, SqlState::IN_FAILED_SQL_TRANSACTION);
    let e = c.query("SELECT $1::int", &[&1i32]).await.unwrap_err();
    assert_eq!(code(&e), SqlState::IN_FAILED_SQL_TRANSACTION);
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(scalar(&c, "SELECT 1").await.as_deref(), Some("1"));
}

// DROP TABLE IF EXISTS on a missing table succeeds with a notice, not an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_if_exists_missing_is_not_an_error() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("DROP TABLE IF EXISTS missing").await.unwrap();
    c.batch_execute("DROP TABLE IF EXISTS a, b").await.unwrap();
    assert_eq!(sqlstate(&c, "DROP TABLE missing").await, SqlState::UNDEFINED_TABLE);
}

// Each class of error carries PostgreSQL's SQLSTATE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_postgres_sqlstates() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)").await.unwrap();
    c.batch_execute("INSERT INTO t VALUES (1, 1)").await.unwrap();
    let cases = [
        ("SELEC 1", SqlState::SYNTAX_ERROR),
        ("SELECT * FROM nope", SqlState::UNDEFINED_TABLE),
        ("SELECT nope FROM t", SqlState::UNDEFINED_COLUMN),
        ("SELECT 'abc'::int", SqlState::INVALID_TEXT_REPRESENTATION),
        ("SELECT 1/0", SqlState::DIVISION_BY_ZERO),
        ("INSERT INTO t VALUES (2, NULL)", SqlState::NOT_NULL_VIOLATION),
        ("INSERT INTO t (id) VALUES (3)", SqlState::NOT_NULL_VIOLATION),
        ("UPDATE t SET v = NULL", SqlState::NOT_NULL_VIOLATION),
        ("INSERT INTO t VALUES (1, 2)", SqlState::UNIQUE_VIOLATION),
        ("UPDATE t SET nope = 1", SqlState::UNDEFINED_COLUMN),
    ];
    for (sql, expected) in cases {
        let e = c.batch_execute(sql).await.unwrap_err();
        assert_eq!(code(&e), expected, "{sql}: {}", describe(&e));
    }
    // Nothing of the failed statements is left behind.
    assert_eq!(lines(&c, "SELECT id, v FROM t").await, ["1|1"]);
}

// The same errors through the extended protocol (Parse/Bind/Execute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_in_extended_protocol() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, v int)").await.unwrap();
    let e = c.prepare("SELEC 1").await.unwrap_err();
    assert_eq!(code(&e), SqlState::SYNTAX_ERROR);
    let e = c.prepare("SELECT * FROM nope").await.unwrap_err();
    assert_eq!(code(&e), SqlState::UNDEFINED_TABLE);
    let e = c.prepare("SELECT nope FROM t WHERE id = $1").await.unwrap_err();
    assert_eq!(code(&e), SqlState::UNDEFINED_COLUMN);
    let insert = c.prepare("INSERT INTO t VALUES ($1, $2)").await.unwrap();
    c.execute(&insert, &[&1i32, &1i32]).await.unwrap();
    let e = c.execute(&insert, &[&1i32, &2i32]).await.unwrap_err();
    assert_eq!(code(&e), SqlState::UNIQUE_VIOLATION);
    let e = c.query("SELECT 10 / $1", &[&0i32]).await.unwrap_err();
    assert_eq!(code(&e), SqlState::DIVISION_BY_ZERO);
    assert_eq!(c.execute(&insert, &[&2i32, &2i32]).await.unwrap(), 1);
}

// A duplicate key reports the constraint and the key: PostgreSQL's message is
// `duplicate key value violates unique constraint "t_pkey"`, detail `Key (id)=(1) already exists.`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_key_message_and_detail() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)").await.unwrap();
    let e = c.batch_execute("INSERT INTO t VALUES (1)").await.unwrap_err();
    assert_eq!(code(&e), SqlState::UNIQUE_VIOLATION);
    assert_eq!(message(&e), r#"duplicate key value violates unique constraint "t_pkey""#);
    assert_eq!(detail(&e).as_deref(), Some("Key (id)=(1) already exists."));
}

// troupe refuses SERIALIZABLE (DESIGN §3) with 0A000 rather than run something weaker;
// READ COMMITTED and REPEATABLE READ are accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serializable_is_refused() {
    if common::reference_pg().is_some() {
        return; // PostgreSQL runs SSI here
    }
    let db = TestServer::start().await;
    let c = db.connect().await;
    assert_eq!(
        sqlstate(&c, "BEGIN ISOLATION LEVEL SERIALIZABLE").await,
        SqlState::FEATURE_NOT_SUPPORTED
    );
    c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; COMMIT").await.unwrap();
    c.batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED; COMMIT").await.unwrap();
    c.batch_execute("START TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; COMMIT").await.unwrap();
}

// A malformed or failing statement never closes the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_never_kill_the_connection() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    for sql in ["", ";", "SELECT (", "'", "SELECT 1 1", "\u{1}", "CREATE TABLE", "COMMIT"] {
        let _ = c.batch_execute(sql).await;
        assert!(!c.is_closed(), "{sql:?} closed the connection");
    }
    assert_eq!(scalar(&c, "SELECT 2").await.as_deref(), Some("2"));
    assert_eq!(counts(&c, "SELECT 1; SELECT 2").await, [1, 1]);
}

// A syntax error carries PostgreSQL's position (1-based character index in the whole
// Query string), which psql turns into `LINE 1:` and a caret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syntax_errors_report_their_position() {
    use tokio_postgres::error::ErrorPosition;
    let db = TestServer::start().await;
    let c = db.connect().await;
    let position = |e: tokio_postgres::Error| e.as_db_error().and_then(|d| d.position().cloned());
    let e = c.batch_execute("SELEC 1").await.unwrap_err();
    assert_eq!(position(e), Some(ErrorPosition::Original(1)));
    // The second statement's error counts from the start of the string.
    let e = c.batch_execute("select 1; select 2 frm x").await.unwrap_err();
    assert_eq!(position(e), Some(ErrorPosition::Original(24)));
    let e = c.batch_execute("select (1").await.unwrap_err();
    assert_eq!(position(e), Some(ErrorPosition::Original(10)));
}
