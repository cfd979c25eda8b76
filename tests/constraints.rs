//! DEFAULT, CHECK, SERIAL and identity columns as a client sees them: defaults for
//! omitted columns, `DEFAULT` in VALUES and UPDATE, DEFAULT VALUES, CHECK with
//! PostgreSQL's generated names, 23514 message and failing-row detail, and 428C9 for
//! GENERATED ALWAYS. Expectations checked against PostgreSQL 15
//! (`TROUPE_REFERENCE_PG=<port>`).
#![allow(clippy::unwrap_used)]

mod common;

use common::{code, detail, lines, message, scalar, TestServer};
use tokio_postgres::error::SqlState;

async fn fails(c: &tokio_postgres::Client, sql: &str) -> tokio_postgres::Error {
    match c.batch_execute(sql).await {
        Ok(()) => panic!("{sql}: expected an error"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_fill_omitted_columns_default_keyword_and_default_values() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE d (id int, n int DEFAULT 7, s text DEFAULT 'x' || 'y', f int,
                         at timestamptz DEFAULT now());
         INSERT INTO d (id) VALUES (1);
         INSERT INTO d VALUES (2, DEFAULT, 'given', DEFAULT);
         INSERT INTO d (id, n) VALUES (3, NULL);
         INSERT INTO d DEFAULT VALUES;
         INSERT INTO d (id, s) SELECT 5, 'sel';
         INSERT INTO d VALUES (6)",
    )
    .await
    .unwrap();
    assert_eq!(
        lines(&c, "SELECT id, n, s, f, at IS NOT NULL FROM d ORDER BY id NULLS LAST").await,
        [
            "1|7|xy|NULL|t",
            "2|7|given|NULL|t",
            "3|NULL|xy|NULL|t",
            "5|7|sel|NULL|t",
            "6|7|xy|NULL|t",
            "NULL|7|xy|NULL|t"
        ]
    );
    c.batch_execute("UPDATE d SET n = 1, s = 'changed' WHERE id = 1; UPDATE d SET n = DEFAULT, s = DEFAULT WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(lines(&c, "SELECT n, s FROM d WHERE id = 1").await, ["7|xy"]);
    // A default that does not fit the column fails at INSERT time, as in PostgreSQL.
    c.batch_execute("CREATE TABLE small (v varchar(2) DEFAULT 'abc', k int)").await.unwrap();
    let e = fails(&c, "INSERT INTO small (k) VALUES (1)").await;
    assert_eq!(code(&e), SqlState::STRING_DATA_RIGHT_TRUNCATION);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_constraints_name_message_detail_and_null() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT 7 CHECK (n > 0), m int,
                         CHECK (m < n), CONSTRAINT small CHECK (m < 100))",
    )
    .await
    .unwrap();
    let e = fails(&c, "INSERT INTO t (id, n) VALUES (1, -1)").await;
    assert_eq!(code(&e), SqlState::CHECK_VIOLATION);
    assert_eq!(message(&e), "new row for relation \"t\" violates check constraint \"t_n_check\"");
    assert_eq!(detail(&e).as_deref(), Some("Failing row contains (1, -1, null)."));
    let e = fails(&c, "INSERT INTO t VALUES (2, 5, 10)").await;
    assert_eq!(message(&e), "new row for relation \"t\" violates check constraint \"t_check\"");
    let e = fails(&c, "INSERT INTO t VALUES (2, 500, 200)").await;
    assert_eq!(message(&e), "new row for relation \"t\" violates check constraint \"small\"");
    // NULL passes a CHECK.
    c.batch_execute("INSERT INTO t VALUES (3, NULL, NULL); INSERT INTO t (id, m) VALUES (4, 6)")
        .await
        .unwrap();
    // UPDATE is checked too; a failed statement changes nothing.
    let e = fails(&c, "UPDATE t SET n = 0").await;
    assert_eq!(code(&e), SqlState::CHECK_VIOLATION);
    assert_eq!(detail(&e).as_deref(), Some("Failing row contains (3, 0, null)."));
    let e = fails(&c, "UPDATE t SET m = 9 WHERE id = 4").await;
    assert_eq!(message(&e), "new row for relation \"t\" violates check constraint \"t_check\"");
    assert_eq!(lines(&c, "SELECT id, n, m FROM t ORDER BY id").await, ["3|NULL|NULL", "4|7|6"]);
    // A CHECK must be boolean.
    let e = fails(&c, "CREATE TABLE bad (a int CHECK (a + 1))").await;
    assert_eq!(code(&e), SqlState::DATATYPE_MISMATCH);
    assert_eq!(message(&e), "argument of CHECK must be type boolean, not type integer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_holds_inside_transactions_and_rolls_back_cleanly() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE acct (id int PRIMARY KEY, bal int CHECK (bal >= 0))")
        .await
        .unwrap();
    c.batch_execute("INSERT INTO acct VALUES (1, 10), (2, 0)").await.unwrap();
    // Two sessions withdraw concurrently: the second waits for the first, re-reads the
    // committed balance, and the CHECK fails on the row it would write.
    let a = db.connect().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; UPDATE acct SET bal = bal - 8 WHERE id = 1").await.unwrap();
    let b_update = tokio::spawn(async move {
        let r = b.batch_execute("UPDATE acct SET bal = bal - 8 WHERE id = 1").await;
        r.map_err(|e| code(&e))
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    a.batch_execute("COMMIT").await.unwrap();
    assert_eq!(b_update.await.unwrap(), Err(SqlState::CHECK_VIOLATION));
    assert_eq!(scalar(&c, "SELECT bal FROM acct WHERE id = 1").await.as_deref(), Some("2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_columns_number_rows_and_are_not_null() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE s (id serial PRIMARY KEY, big bigserial, v text);
         INSERT INTO s (v) VALUES ('a'), ('b');
         INSERT INTO s (id, v) VALUES (10, 'explicit');
         INSERT INTO s (v) VALUES ('c')",
    )
    .await
    .unwrap();
    assert_eq!(
        lines(&c, "SELECT id, big, v FROM s ORDER BY id").await,
        ["1|1|a", "2|2|b", "3|4|c", "10|3|explicit"]
    );
    assert_eq!(scalar(&c, "SELECT currval('s_id_seq')").await.as_deref(), Some("3"));
    let e = fails(&c, "INSERT INTO s (id, v) VALUES (NULL, 'x')").await;
    assert_eq!(code(&e), SqlState::NOT_NULL_VIOLATION);
    // DROP TABLE drops the sequences it owns.
    c.batch_execute("DROP TABLE s").await.unwrap();
    let e = fails(&c, "SELECT nextval('s_id_seq')").await;
    assert_eq!(code(&e), SqlState::UNDEFINED_TABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_columns_always_and_by_default() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "CREATE TABLE g (id int GENERATED ALWAYS AS IDENTITY, v text);
         CREATE TABLE b (id bigint GENERATED BY DEFAULT AS IDENTITY (INCREMENT BY 10 START WITH 100), v text);
         INSERT INTO g (v) VALUES ('a')",
    )
    .await
    .unwrap();
    let e = fails(&c, "INSERT INTO g (id, v) VALUES (5, 'b')").await;
    assert_eq!(code(&e), SqlState::GENERATED_ALWAYS);
    assert_eq!(message(&e), "cannot insert a non-DEFAULT value into column \"id\"");
    assert_eq!(
        detail(&e).as_deref(),
        Some("Column \"id\" is an identity column defined as GENERATED ALWAYS.")
    );
    c.batch_execute(
        "INSERT INTO g (id, v) OVERRIDING SYSTEM VALUE VALUES (5, 'b');
         INSERT INTO g (id, v) VALUES (DEFAULT, 'c')",
    )
    .await
    .unwrap();
    let e = fails(&c, "UPDATE g SET id = 3").await;
    assert_eq!(code(&e), SqlState::GENERATED_ALWAYS);
    assert_eq!(message(&e), "column \"id\" can only be updated to DEFAULT");
    assert_eq!(lines(&c, "SELECT id, v FROM g ORDER BY v").await, ["1|a", "5|b", "2|c"]);
    c.batch_execute(
        "INSERT INTO b (v) VALUES ('x'), ('y');
         INSERT INTO b VALUES (7, 'given');
         INSERT INTO b OVERRIDING USER VALUE VALUES (8, 'ignored')",
    )
    .await
    .unwrap();
    assert_eq!(
        lines(&c, "SELECT id, v FROM b ORDER BY id").await,
        ["7|given", "100|x", "110|y", "120|ignored"]
    );
    let e = fails(&c, "INSERT INTO b (v) VALUES (NULL), (NULL); INSERT INTO b VALUES (NULL, 'n')")
        .await;
    assert_eq!(code(&e), SqlState::NOT_NULL_VIOLATION);
    let e = fails(&c, "CREATE TABLE bad (id text GENERATED ALWAYS AS IDENTITY)").await;
    assert_eq!(code(&e), SqlState::INVALID_PARAMETER_VALUE);
    assert_eq!(message(&e), "identity column type must be smallint, integer, or bigint");
}
