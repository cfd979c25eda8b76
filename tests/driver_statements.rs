//! What drivers send on their own (shared/compat/clients.md), over a real socket:
//! PREPARE/EXECUTE/DEALLOCATE, asyncpg's pool reset (`SELECT pg_advisory_unlock_all();
//! CLOSE ALL; UNLISTEN *; RESET ALL;`), DISCARD ALL, advisory locks contending between
//! connections, binary COPY FROM STDIN (also sent before CopyInResponse, as asyncpg
//! does), asyncpg's quoted client_encoding and pgjdbc's dates with a zone.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{code, raw_simple_query, scalar, TestServer};
use futures::SinkExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_execute_deallocate() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE pe (id int4 PRIMARY KEY, name text)").await.unwrap();
    c.batch_execute("INSERT INTO pe VALUES (1, 'one'), (2, 'two')").await.unwrap();
    c.batch_execute("PREPARE get (int4) AS SELECT name FROM pe WHERE id = $1").await.unwrap();
    let rows = c.simple_query("EXECUTE get (2)").await.unwrap();
    let name = rows.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
        _ => None,
    });
    assert_eq!(name.as_deref(), Some("two"));
    // Through the extended protocol: Describe gives the statement's columns.
    let row = c.query_one("EXECUTE get (1)", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "one");
    // Untyped parameters take their types from the statement's use.
    c.batch_execute("PREPARE ins AS INSERT INTO pe VALUES ($1, $2)").await.unwrap();
    c.batch_execute("EXECUTE ins (3, 'three')").await.unwrap();
    assert_eq!(scalar(&c, "SELECT name FROM pe WHERE id = 3").await.as_deref(), Some("three"));
    let dup = c.batch_execute("PREPARE get AS SELECT 1").await.unwrap_err();
    assert_eq!(code(&dup), SqlState::DUPLICATE_PSTATEMENT);
    let arity = c.batch_execute("EXECUTE get (1, 2)").await.unwrap_err();
    assert_eq!(code(&arity), SqlState::SYNTAX_ERROR);
    // Prepared statements belong to their session.
    let tags = raw_simple_query(
        &db,
        &[
            "EXECUTE get (1)",
            "PREPARE get AS SELECT 1; PREPARE two AS SELECT $1::int4",
            "DEALLOCATE get",
            "DEALLOCATE PREPARE ALL",
            "EXECUTE two (4)",
        ],
    )
    .await;
    assert_eq!(tags[0], ["E 26000", "Z I"]);
    assert_eq!(tags[1], ["C PREPARE", "C PREPARE", "Z I"]);
    assert_eq!(tags[2], ["C DEALLOCATE", "Z I"]);
    assert_eq!(tags[3], ["C DEALLOCATE ALL", "Z I"]);
    assert_eq!(tags[4], ["E 26000", "Z I"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_reset_discard_all_and_reset_all() {
    let db = TestServer::start().await;
    let tags = raw_simple_query(
        &db,
        &[
            "SET application_name = 'dirty'; PREPARE p AS SELECT 1",
            "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;",
            "SHOW application_name",
            "BEGIN; DISCARD ALL",
            "ROLLBACK",
            "DISCARD ALL",
            "EXECUTE p",
            "CLOSE c",
        ],
    )
    .await;
    assert_eq!(tags[1], ["D", "C SELECT 1", "C CLOSE CURSOR ALL", "C UNLISTEN", "C RESET", "Z I"]);
    assert_eq!(tags[2], ["D", "C SHOW", "Z I"]);
    assert_eq!(tags[3], ["C BEGIN", "E 25001", "Z E"]);
    assert_eq!(tags[5], ["C DISCARD ALL", "Z I"]);
    assert_eq!(tags[6], ["E 26000", "Z I"]);
    assert_eq!(tags[7], ["E 34000", "Z I"]);
    let c = db.connect().await;
    c.batch_execute("SET application_name = 'x'; RESET ALL").await.unwrap();
    assert_eq!(scalar(&c, "SHOW application_name").await.as_deref(), Some(""));
}

async fn bool_of(c: &tokio_postgres::Client, sql: &str) -> bool {
    c.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisory_locks_block_wake_and_end_with_the_session() {
    let db = TestServer::start().await;
    let a = db.connect().await;
    let b = std::sync::Arc::new(db.connect().await);
    a.batch_execute("SELECT pg_advisory_lock(7); SELECT pg_advisory_lock(7)").await.unwrap();
    assert!(!bool_of(&b, "SELECT pg_try_advisory_lock(7)").await);
    assert!(bool_of(&b, "SELECT pg_try_advisory_lock(7, 0)").await, "the pair form is another key");
    let b2 = b.clone();
    let waiter = tokio::spawn(async move { b2.batch_execute("SELECT pg_advisory_lock(7)").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished(), "b waits while a holds key 7");
    assert!(bool_of(&a, "SELECT pg_advisory_unlock(7)").await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiter.is_finished(), "a locked key 7 twice: one unlock is not enough");
    assert!(bool_of(&a, "SELECT pg_advisory_unlock(7)").await);
    tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap().unwrap();
    assert!(!bool_of(&a, "SELECT pg_advisory_unlock(7)").await, "a no longer holds it");
    // Shared holders share; the session's locks go when it disconnects.
    drop(b);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(bool_of(&a, "SELECT pg_try_advisory_lock_shared(7)").await);
    let c = db.connect().await;
    assert!(bool_of(&c, "SELECT pg_try_advisory_lock_shared(7)").await);
    assert!(!bool_of(&c, "SELECT pg_try_advisory_lock(7)").await, "a and c share it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xact_advisory_lock_ends_with_the_transaction_and_waits_cancel() {
    let db = TestServer::start().await;
    let a = db.connect().await;
    let b = db.connect().await;
    a.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(5)").await.unwrap();
    assert!(!bool_of(&b, "SELECT pg_try_advisory_lock(5)").await);
    a.batch_execute("COMMIT").await.unwrap();
    assert!(bool_of(&b, "SELECT pg_try_advisory_xact_lock(5)").await, "free after a's COMMIT");
    // A blocked pg_advisory_lock is canceled with 57014 and the connection goes on.
    a.batch_execute("SELECT pg_advisory_lock(6)").await.unwrap();
    let token = b.cancel_token();
    let canceler = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        token.cancel_query(tokio_postgres::NoTls).await.unwrap();
    });
    let err = b.batch_execute("SELECT pg_advisory_lock(6)").await.unwrap_err();
    assert_eq!(code(&err), SqlState::QUERY_CANCELED);
    canceler.await.unwrap();
    assert!(!bool_of(&b, "SELECT pg_try_advisory_lock(6)").await, "a still holds it");
    assert!(bool_of(&a, "SELECT pg_advisory_unlock(6)").await);
    assert!(bool_of(&b, "SELECT pg_try_advisory_lock(6)").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_copy_from_stdin() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE bc (id int4 PRIMARY KEY, big int8, name text, f float8)")
        .await
        .unwrap();
    let sink = c.copy_in("COPY bc (id, big, name, f) FROM STDIN (FORMAT binary)").await.unwrap();
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT4, Type::INT8, Type::TEXT, Type::FLOAT8]);
    futures::pin_mut!(writer);
    for i in 0..1000i32 {
        let name = if i % 10 == 0 { None } else { Some(format!("n{i}")) };
        writer
            .as_mut()
            .write(&[&i, &(i64::from(i) << 33), &name, &(f64::from(i) / 2.0)])
            .await
            .unwrap();
    }
    assert_eq!(writer.finish().await.unwrap(), 1000);
    let row =
        c.query_one("SELECT count(*), count(name), sum(big), sum(f) FROM bc", &[]).await.unwrap();
    assert_eq!(row.get::<_, i64>(0), 1000);
    assert_eq!(row.get::<_, i64>(1), 900);
    assert_eq!(row.get::<_, f64>(3), 249_750.0);
    // A bad signature is 22P04 and the connection goes on.
    let sink = c.copy_in("COPY bc FROM STDIN (FORMAT binary)").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"NOTPGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0")).await.unwrap();
    let err = sink.finish().await.unwrap_err();
    assert_eq!(code(&err), SqlState::BAD_COPY_FILE_FORMAT);
    assert_eq!(scalar(&c, "SELECT count(*) FROM bc").await.as_deref(), Some("1000"));
}

/// asyncpg sends Query, CopyData and CopyDone in one write, before CopyInResponse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_data_before_copy_in_response() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute("CREATE TABLE early (id int4 PRIMARY KEY, name text)").await.unwrap();
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", db.port)).await.unwrap();
    let msg = |tag: u8, body: &[u8]| {
        let mut m = vec![tag];
        m.extend(((body.len() + 4) as i32).to_be_bytes());
        m.extend(body);
        m
    };
    // Start-up with asyncpg's quoted client_encoding.
    let mut startup = 196608i32.to_be_bytes().to_vec();
    startup.extend(
        format!("user\0postgres\0database\0{}\0client_encoding\0'utf-8'\0\0", db.dbname).as_bytes(),
    );
    let mut first = ((startup.len() + 4) as i32).to_be_bytes().to_vec();
    first.extend(startup);
    s.write_all(&first).await.unwrap();
    let mut data = b"PGCOPY\n\xff\r\n\0".to_vec();
    data.extend([0u8; 8]);
    for (id, name) in [(1i32, "a"), (2, "b")] {
        data.extend(2i16.to_be_bytes());
        data.extend(4i32.to_be_bytes());
        data.extend(id.to_be_bytes());
        data.extend((name.len() as i32).to_be_bytes());
        data.extend(name.as_bytes());
    }
    data.extend((-1i16).to_be_bytes());
    let mut batch = msg(b'Q', b"COPY \"early\"(\"id\", \"name\") FROM STDIN (FORMAT binary)\0");
    batch.extend(msg(b'd', &data));
    batch.extend(msg(b'c', b""));
    s.write_all(&batch).await.unwrap();
    let mut seen = Vec::new();
    let mut ready = 0;
    while ready < 2 {
        let tag = s.read_u8().await.unwrap();
        let len = s.read_i32().await.unwrap() as usize;
        let mut body = vec![0u8; len - 4];
        s.read_exact(&mut body).await.unwrap();
        match tag {
            b'Z' => ready += 1,
            b'G' => seen.push(format!("G {}", body[0])),
            b'C' => seen.push(String::from_utf8_lossy(&body[..body.len() - 1]).into_owned()),
            b'E' => seen.push("E".into()),
            _ => {}
        }
    }
    assert_eq!(seen, ["G 1", "COPY 2"]);
    assert_eq!(scalar(&c, "SELECT max(name) FROM early").await.as_deref(), Some("b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_with_a_zone_as_pgjdbc_sends_them() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    assert_eq!(scalar(&c, "SELECT '2024-02-29 +00'::date").await.as_deref(), Some("2024-02-29"));
}

// A statement prepared through the protocol (a named Parse, as tokio-postgres sends)
// is listed in pg_prepared_statements with from_sql false, its text and parameter
// types; closing it removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_statements_are_in_pg_prepared_statements() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    let stmt = c.prepare("SELECT $1::int8 + 1, $2::text").await.unwrap();
    let rows = c
        .query(
            "SELECT statement, cardinality(parameter_types), from_sql FROM pg_prepared_statements WHERE NOT from_sql",
            &[],
        )
        .await
        .unwrap();
    let listed: Vec<(String, i32, bool)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert!(listed.contains(&("SELECT $1::int8 + 1, $2::text".into(), 2, false)), "{listed:?}");
    drop(stmt);
    // The Close goes out with the next message.
    c.batch_execute("SELECT 1").await.unwrap();
    let left = scalar(
        &c,
        "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int8 + 1, $2::text'",
    )
    .await;
    assert_eq!(left.as_deref(), Some("0"));
}
