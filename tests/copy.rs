//! COPY … FROM STDIN in text format, as psql, pgbench -i and drivers send it.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::{code, describe, lines, scalar, sqlstate, TestServer};
use futures::SinkExt;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// Sends `data` in the given chunks through COPY FROM STDIN; returns the row count.
async fn copy_in(c: &Client, sql: &str, chunks: &[&str]) -> Result<u64, tokio_postgres::Error> {
    let sink = c.copy_in(sql).await?;
    futures::pin_mut!(sink);
    for chunk in chunks {
        sink.send(Bytes::copy_from_slice(chunk.as_bytes())).await?;
    }
    sink.finish().await
}

async fn table(c: &Client) {
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY, name text, score float8)").await.unwrap();
}

// Text format: tab-separated columns, `\N` is NULL, backslash escapes decode, and the
// last line may lack its newline; the count is the number of rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_text_with_nulls_and_escapes() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    table(&c).await;
    let data = [
        "1\tplain\t1.5\n2\t\\N\t\\N\n",
        "3\ttab\\there\t-2\n4\tback\\\\slash\t0\n",
        "5\tnew\\nline\t3",
    ];
    assert_eq!(copy_in(&c, "COPY t FROM STDIN", &data).await.unwrap(), 5);
    let rows = common::rows(&c, "SELECT id, name, score FROM t ORDER BY id").await;
    let text = |s: &str| Some(s.to_owned());
    assert_eq!(
        rows,
        [
            vec![text("1"), text("plain"), text("1.5")],
            vec![text("2"), None, None],
            vec![text("3"), text("tab\there"), text("-2")],
            vec![text("4"), text("back\\slash"), text("0")],
            vec![text("5"), text("new\nline"), text("3")],
        ]
    );
}

// A column list fills the other columns with NULL; rows may be split across CopyData
// messages anywhere, and a `\.` line ends the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_with_columns_split_chunks_and_terminator() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    table(&c).await;
    let data = ["1\tab", "c\n2\t", "de\n\\.\n"];
    assert_eq!(copy_in(&c, "COPY t (id, name) FROM STDIN", &data).await.unwrap(), 2);
    assert_eq!(
        lines(&c, "SELECT id, name, score FROM t ORDER BY id").await,
        ["1|abc|NULL", "2|de|NULL"]
    );
}

// An empty COPY copies 0 rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_nothing() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    table(&c).await;
    assert_eq!(copy_in(&c, "COPY t FROM STDIN", &[]).await.unwrap(), 0);
    assert_eq!(scalar(&c, "SELECT count(*) FROM t").await.as_deref(), Some("0"));
}

// A bad row fails the whole COPY: nothing is inserted. A wrong column count is 22P04,
// a bad value 22P02, a duplicate key 23505.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_row_fails_whole_copy() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    table(&c).await;
    let cases: [(&[&str], SqlState); 4] = [
        (&["1\ta\t1\n2\tb\n"], SqlState::BAD_COPY_FILE_FORMAT),
        (&["1\ta\t1\n2\tb\t2\textra\n"], SqlState::BAD_COPY_FILE_FORMAT),
        (&["1\ta\t1\nx\tb\t2\n"], SqlState::INVALID_TEXT_REPRESENTATION),
        (&["1\ta\t1\n1\tb\t2\n"], SqlState::UNIQUE_VIOLATION),
    ];
    for (data, expected) in cases {
        let e = copy_in(&c, "COPY t FROM STDIN", data).await.unwrap_err();
        assert_eq!(code(&e), expected, "{data:?}: {}", describe(&e));
        assert_eq!(scalar(&c, "SELECT count(*) FROM t").await.as_deref(), Some("0"));
    }
    // The connection is usable afterwards.
    assert_eq!(copy_in(&c, "COPY t FROM STDIN", &["1\ta\t1\n"]).await.unwrap(), 1);
}

// COPY into a missing table or column fails before any data is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_into_missing_table_or_column() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    table(&c).await;
    // (Through the simple protocol: tokio-postgres's copy_in reports an error at this
    // point as an unexpected message, with PostgreSQL too.)
    assert_eq!(sqlstate(&c, "COPY nope FROM STDIN").await, SqlState::UNDEFINED_TABLE);
    assert_eq!(sqlstate(&c, "COPY t (id, nope) FROM STDIN").await, SqlState::UNDEFINED_COLUMN);
    assert_eq!(copy_in(&c, "COPY t FROM STDIN", &["1\ta\t1\n"]).await.unwrap(), 1);
}

// COPY inside a transaction block is undone by ROLLBACK, kept by COMMIT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_in_transaction_block() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    table(&c).await;
    c.batch_execute("BEGIN").await.unwrap();
    assert_eq!(copy_in(&c, "COPY t FROM STDIN", &["1\ta\t1\n2\tb\t2\n"]).await.unwrap(), 2);
    assert_eq!(scalar(&c, "SELECT count(*) FROM t").await.as_deref(), Some("2"));
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(scalar(&c, "SELECT count(*) FROM t").await.as_deref(), Some("0"));
    c.batch_execute("BEGIN").await.unwrap();
    copy_in(&c, "COPY t FROM STDIN", &["3\tc\t3\n"]).await.unwrap();
    c.batch_execute("COMMIT").await.unwrap();
    assert_eq!(lines(&c, "SELECT id FROM t").await, ["3"]);
}
