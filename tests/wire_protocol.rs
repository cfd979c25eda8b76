//! The wire front end over real sockets, against a fake session.
//!
//! The fake understands a handful of statements:
//! * `SELECT n` / `SELECT $1`: n rows of one int4 column `n` holding 1..=n;
//! * `BEGIN`, `COMMIT`, `ROLLBACK`: tracked for the ReadyForQuery status byte;
//! * `ERROR`: fails with 42601 (at Parse in the extended protocol);
//! * `SLEEP`: waits until its session is cancelled, then fails with 57014;
//! * `COPY …`: COPY FROM STDIN counting lines; a line `BAD` fails with 22P04.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures::SinkExt;
use pgwire::messages::extendedquery::{Bind, Describe, Execute, Parse, Sync};
use pgwire::messages::startup::Startup;
use pgwire::messages::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};
use troupe::wire::{
    self, Backend, BackendFactory, CancelSignal, Field, Flow, Responses, TxnStatus,
};
use troupe::{Error, ErrorKind};

// ---------------------------------------------------------------------------------
// The fake session.

#[derive(Default)]
struct Observed {
    terminated: AtomicUsize,
    sleeping: Notify,
}

struct Factory {
    observed: Arc<Observed>,
}

impl BackendFactory for Factory {
    type Backend = Fake;
    fn session(&self, _pid: i32, cancel: CancelSignal) -> Fake {
        Fake {
            observed: Arc::clone(&self.observed),
            cancel,
            status: TxnStatus::Idle,
            statements: HashMap::new(),
            portals: HashMap::new(),
            copy: Copy::default(),
        }
    }
}

struct Portal {
    sql: String,
    rows: usize,
    sent: usize,
    binary: bool,
}

#[derive(Default)]
struct Copy {
    rows: usize,
    error: Option<Error>,
}

struct Fake {
    observed: Arc<Observed>,
    cancel: CancelSignal,
    status: TxnStatus,
    statements: HashMap<String, String>,
    portals: HashMap<String, Portal>,
    copy: Copy,
}

fn int4(name: &str, binary: bool) -> Field {
    Field {
        name: name.into(),
        table_oid: 0,
        column: 0,
        type_oid: 23,
        type_size: 4,
        type_modifier: -1,
        format: i16::from(binary),
    }
}

fn rows_of(sql: &str) -> Option<usize> {
    sql.strip_prefix("SELECT ")?.trim().parse().ok()
}

impl Fake {
    /// Runs a statement that does not return rows; Ok(Some(tag)) or a COPY start.
    async fn command(&mut self, sql: &str) -> Result<Option<&'static str>, Error> {
        match sql {
            "BEGIN" | "START TRANSACTION" => {
                self.status = TxnStatus::InBlock;
                Ok(Some("BEGIN"))
            }
            "COMMIT" | "ROLLBACK" => {
                let tag = if sql == "COMMIT" && self.status == TxnStatus::InBlock {
                    "COMMIT"
                } else {
                    "ROLLBACK"
                };
                self.status = TxnStatus::Idle;
                Ok(Some(tag))
            }
            "SLEEP" => {
                self.cancel.clear();
                self.observed.sleeping.notify_one();
                match tokio::time::timeout(Duration::from_secs(10), self.cancel.cancelled()).await {
                    Ok(()) => Err(Error::new(
                        ErrorKind::QueryCanceled,
                        "canceling statement due to user request",
                    )),
                    Err(_) => Ok(Some("SLEEP")),
                }
            }
            s if s.starts_with("COPY") => {
                self.copy = Copy::default();
                Ok(None)
            }
            _ => Err(Error::syntax(format!("syntax error at or near \"{sql}\""))),
        }
    }

    fn rows(out: &mut Responses, from: usize, to: usize, binary: bool) {
        for i in from + 1..=to {
            let row = out.begin_row(1);
            if binary {
                out.field(Some(&(i as i32).to_be_bytes()));
            } else {
                out.field(Some(i.to_string().as_bytes()));
            }
            out.end_row(row);
        }
    }

    fn fail(&mut self, e: &Error, out: &mut Responses) {
        out.error(e);
        if self.status == TxnStatus::InBlock {
            self.status = TxnStatus::Failed;
        }
    }
}

impl Backend for Fake {
    fn startup(&mut self, params: &[(String, String)]) -> Result<Vec<(String, String)>, Error> {
        let user =
            params.iter().find(|(k, _)| k == "user").map(|(_, v)| v.clone()).unwrap_or_default();
        Ok(vec![
            ("server_version".into(), "15.0 (troupe test)".into()),
            ("client_encoding".into(), "UTF8".into()),
            ("session_authorization".into(), user),
        ])
    }

    async fn query(&mut self, sql: &str, out: &mut Responses) -> Flow {
        for stmt in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            if let Some(n) = rows_of(stmt) {
                out.row_description(&[int4("n", false)]);
                Self::rows(out, 0, n, false);
                out.command_complete(&format!("SELECT {n}"));
                continue;
            }
            match self.command(stmt).await {
                Ok(Some(tag)) => out.command_complete(tag),
                Ok(None) => {
                    out.copy_in_response(1, false);
                    return Flow::CopyIn;
                }
                Err(e) => {
                    self.fail(&e, out);
                    break;
                }
            }
        }
        Flow::Done
    }

    async fn parse(&mut self, name: &str, sql: &str, _types: &[u32]) -> Result<(), Error> {
        if sql.contains("ERROR") {
            return Err(Error::syntax("syntax error at or near \"ERROR\""));
        }
        self.statements.insert(name.into(), sql.into());
        Ok(())
    }

    async fn bind(
        &mut self,
        portal: &str,
        statement: &str,
        param_formats: &[i16],
        params: &[Option<Bytes>],
        result_formats: &[i16],
    ) -> Result<(), Error> {
        let sql = self.statements.get(statement).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidSqlStatementName,
                format!("prepared statement \"{statement}\" does not exist"),
            )
        })?;
        let rows = if sql == "SELECT $1" {
            let value = params.first().cloned().flatten().unwrap_or_default();
            if param_formats.first() == Some(&1) {
                (&value[..]).get_i32() as usize
            } else {
                std::str::from_utf8(&value).unwrap().parse().unwrap()
            }
        } else {
            rows_of(&sql).unwrap_or(0)
        };
        let binary = result_formats.first() == Some(&1);
        self.portals.insert(portal.into(), Portal { sql, rows, sent: 0, binary });
        Ok(())
    }

    fn describe_statement(&mut self, name: &str, out: &mut Responses) -> Result<(), Error> {
        let sql = self
            .statements
            .get(name)
            .ok_or_else(|| Error::new(ErrorKind::InvalidSqlStatementName, "no such statement"))?;
        out.parameter_description(if sql.contains("$1") { &[23] } else { &[] });
        if sql.starts_with("SELECT") {
            out.row_description(&[int4("n", false)]);
        } else {
            out.no_data();
        }
        Ok(())
    }

    fn describe_portal(&mut self, name: &str, out: &mut Responses) -> Result<(), Error> {
        let portal = self
            .portals
            .get(name)
            .ok_or_else(|| Error::new(ErrorKind::InvalidCursorName, "no such portal"))?;
        if portal.sql.starts_with("SELECT") {
            out.row_description(&[int4("n", portal.binary)]);
        } else {
            out.no_data();
        }
        Ok(())
    }

    async fn execute(
        &mut self,
        name: &str,
        max_rows: usize,
        out: &mut Responses,
    ) -> Result<Flow, Error> {
        let portal = self
            .portals
            .get_mut(name)
            .ok_or_else(|| Error::new(ErrorKind::InvalidCursorName, "no such portal"))?;
        if !portal.sql.starts_with("SELECT") {
            let sql = portal.sql.clone();
            return match self.command(&sql).await? {
                Some(tag) => {
                    out.command_complete(tag);
                    Ok(Flow::Done)
                }
                None => {
                    out.copy_in_response(1, false);
                    Ok(Flow::CopyIn)
                }
            };
        }
        let to = if max_rows == 0 { portal.rows } else { portal.rows.min(portal.sent + max_rows) };
        Self::rows(out, portal.sent, to, portal.binary);
        let count = to - portal.sent;
        portal.sent = to;
        if to < portal.rows {
            out.portal_suspended();
            Ok(Flow::Suspended)
        } else {
            out.command_complete(&format!("SELECT {count}"));
            Ok(Flow::Done)
        }
    }

    fn close_statement(&mut self, name: &str) {
        self.statements.remove(name);
    }

    fn close_portal(&mut self, name: &str) {
        self.portals.remove(name);
    }

    async fn sync(&mut self, _out: &mut Responses) {}

    async fn copy_data(&mut self, data: &[u8]) -> Result<(), Error> {
        for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if line == b"BAD" {
                return Err(Error::new(ErrorKind::BadCopyFileFormat, "invalid input syntax: BAD"));
            }
            self.copy.rows += 1;
        }
        Ok(())
    }

    async fn copy_done(&mut self, out: &mut Responses) {
        out.command_complete(&format!("COPY {}", self.copy.rows));
    }

    async fn copy_fail(&mut self, message: &str, out: &mut Responses) {
        self.copy.error = Some(Error::new(
            ErrorKind::QueryCanceled,
            format!("COPY from stdin failed: {message}"),
        ));
        let e = self.copy.error.clone().unwrap();
        self.fail(&e, out);
    }

    fn transaction_status(&self) -> TxnStatus {
        self.status
    }

    async fn terminate(&mut self) {
        self.observed.terminated.fetch_add(1, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------
// Harness.

async fn start() -> (SocketAddr, Arc<Observed>) {
    let listener = wire::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let observed = Arc::new(Observed::default());
    let factory = Arc::new(Factory { observed: Arc::clone(&observed) });
    tokio::spawn(wire::serve(listener, factory, std::future::pending()));
    (addr, observed)
}

async fn connect(addr: SocketAddr) -> Client {
    let conf = format!("host=127.0.0.1 port={} user=alice dbname=test", addr.port());
    let (client, connection) = tokio_postgres::connect(&conf, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Runs a test body with a deadline, so that a protocol hang fails instead of blocking.
async fn within<F: std::future::Future<Output = ()>>(body: F) {
    tokio::time::timeout(Duration::from_secs(20), body).await.expect("test timed out");
}

fn startup_packet(minor: u16, params: &[(&str, &str)]) -> BytesMut {
    let mut startup = Startup::new();
    startup.protocol_number_minor = minor;
    for (k, v) in params {
        startup.parameters.insert((*k).into(), (*v).into());
    }
    let mut buf = BytesMut::new();
    startup.encode(&mut buf).unwrap();
    buf
}

/// Reads one backend message; None at EOF.
async fn read_msg(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let tag = s.read_u8().await.ok()?;
    let len = s.read_i32().await.unwrap() as usize;
    let mut body = vec![0; len - 4];
    s.read_exact(&mut body).await.unwrap();
    Some((tag, body))
}

/// Reads messages up to and including ReadyForQuery.
async fn read_until_ready(s: &mut TcpStream) -> Vec<(u8, Vec<u8>)> {
    let mut got = Vec::new();
    loop {
        let (tag, body) = read_msg(s).await.expect("message before EOF");
        got.push((tag, body));
        if tag == b'Z' {
            return got;
        }
    }
}

fn tags(msgs: &[(u8, Vec<u8>)]) -> String {
    msgs.iter().map(|(t, _)| *t as char).collect()
}

fn error_field(body: &[u8], field: u8) -> String {
    let mut parts = body.split(|&b| b == 0);
    parts
        .find(|p| p.first() == Some(&field))
        .map(|p| String::from_utf8_lossy(&p[1..]).into_owned())
        .unwrap_or_default()
}

async fn raw_session(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&startup_packet(0, &[("user", "raw")])).await.unwrap();
    let greeting = read_until_ready(&mut s).await;
    assert_eq!(greeting.last().unwrap().1, b"I");
    s
}

fn encode(messages: &[&dyn Fn(&mut BytesMut)]) -> BytesMut {
    let mut buf = BytesMut::new();
    for m in messages {
        m(&mut buf);
    }
    buf
}

fn parse(sql: &str) -> impl Fn(&mut BytesMut) + '_ {
    move |b| Parse::new(None, sql.into(), vec![]).encode(b).unwrap()
}
fn bind(b: &mut BytesMut) {
    Bind::new(None, None, vec![], vec![], vec![]).encode(b).unwrap()
}
fn describe_portal(b: &mut BytesMut) {
    Describe::new(b'P', None).encode(b).unwrap()
}
fn execute(b: &mut BytesMut) {
    Execute::new(None, 0).encode(b).unwrap()
}
fn sync(b: &mut BytesMut) {
    Sync::new().encode(b).unwrap()
}

// ---------------------------------------------------------------------------------
// Startup.

#[tokio::test]
async fn ssl_refused_then_startup_greets_with_parameters_and_key() {
    within(async {
        let (addr, _) = start().await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]).await.unwrap(); // SSLRequest
        assert_eq!(s.read_u8().await.unwrap(), b'N');
        s.write_all(&startup_packet(0, &[("user", "bob"), ("database", "db")])).await.unwrap();
        let greeting = read_until_ready(&mut s).await;
        assert_eq!(tags(&greeting), "RSSSKZ");
        assert_eq!(greeting[0].1, [0, 0, 0, 0], "AuthenticationOk");
        assert_eq!(greeting[1].1, b"server_version\x0015.0 (troupe test)\x00");
        assert_eq!(greeting[3].1, b"session_authorization\x00bob\x00");
        let mut key = &greeting[4].1[..];
        assert_eq!(key.len(), 8);
        assert!(key.get_i32() > 0, "pid is positive");
        assert_eq!(greeting[5].1, b"I");
    })
    .await;
}

#[tokio::test]
async fn newer_minor_protocol_is_negotiated_down_to_3_0() {
    within(async {
        let (addr, _) = start().await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&startup_packet(2, &[("user", "u"), ("_pq_.fancy", "on")])).await.unwrap();
        let greeting = read_until_ready(&mut s).await;
        assert_eq!(tags(&greeting), "vRSSSKZ");
        let mut v = BytesMut::new();
        v.put_i32(3 << 16);
        v.put_i32(1);
        v.put_slice(b"_pq_.fancy\0");
        assert_eq!(greeting[0].1, v.to_vec());
    })
    .await;
}

// ---------------------------------------------------------------------------------
// Queries.

#[tokio::test]
async fn simple_query_with_two_statements() {
    within(async {
        let (addr, _) = start().await;
        let client = connect(addr).await;
        let msgs = client.simple_query("SELECT 2; SELECT 3").await.unwrap();
        let rows: Vec<_> = msgs
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap().to_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(rows, ["1", "2", "1", "2", "3"]);
        let completions =
            msgs.iter().filter(|m| matches!(m, SimpleQueryMessage::CommandComplete(_))).count();
        assert_eq!(completions, 2);
    })
    .await;
}

#[tokio::test]
async fn extended_query_with_a_binary_parameter() {
    within(async {
        let (addr, _) = start().await;
        let client = connect(addr).await;
        let rows = client.query("SELECT $1", &[&3i32]).await.unwrap();
        let values: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(values, [1, 2, 3]);
    })
    .await;
}

#[tokio::test]
async fn pipelined_queries_all_answer_in_order() {
    within(async {
        let (addr, _) = start().await;
        let client = connect(addr).await;
        let stmt = client.prepare("SELECT $1").await.unwrap();
        let (a, b, c) = futures::join!(
            client.query(&stmt, &[&1i32]),
            client.query(&stmt, &[&2i32]),
            client.query(&stmt, &[&3i32]),
        );
        assert_eq!((a.unwrap().len(), b.unwrap().len(), c.unwrap().len()), (1, 2, 3));
    })
    .await;
}

#[tokio::test]
async fn execute_with_a_row_limit_suspends_the_portal() {
    within(async {
        let (addr, _) = start().await;
        let mut client = connect(addr).await;
        let txn = client.transaction().await.unwrap();
        let stmt = txn.prepare("SELECT 5").await.unwrap();
        let portal = txn.bind(&stmt, &[]).await.unwrap();
        let mut sizes = Vec::new();
        let mut seen = Vec::new();
        loop {
            let rows = txn.query_portal(&portal, 2).await.unwrap();
            if rows.is_empty() {
                break;
            }
            sizes.push(rows.len());
            seen.extend(rows.iter().map(|r| r.get::<_, i32>(0)));
        }
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(seen, [1, 2, 3, 4, 5]);
        txn.commit().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn extended_error_skips_until_sync_and_the_connection_survives() {
    within(async {
        let (addr, _) = start().await;
        let client = connect(addr).await;
        let err = client.query("ERROR", &[]).await.unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::SYNTAX_ERROR));
        assert_eq!(client.query("SELECT 2", &[]).await.unwrap().len(), 2);

        // On the wire: after the failed Parse, Bind/Describe/Execute get no answer.
        let mut s = raw_session(addr).await;
        let batch = encode(&[&parse("ERROR"), &bind, &describe_portal, &execute, &sync]);
        s.write_all(&batch).await.unwrap();
        let answer = read_until_ready(&mut s).await;
        assert_eq!(tags(&answer), "EZ");
        assert_eq!(error_field(&answer[0].1, b'C'), "42601");
        assert_eq!(answer[1].1, b"I");

        let batch = encode(&[&parse("SELECT 1"), &bind, &describe_portal, &execute, &sync]);
        s.write_all(&batch).await.unwrap();
        assert_eq!(tags(&read_until_ready(&mut s).await), "12TDCZ");
    })
    .await;
}

#[tokio::test]
async fn a_pipelined_round_trip_is_answered_in_one_burst() {
    within(async {
        let (addr, _) = start().await;
        let mut s = raw_session(addr).await;
        let batch = encode(&[&parse("SELECT 3"), &bind, &describe_portal, &execute, &sync]);
        s.write_all(&batch).await.unwrap();
        // The server writes once, at Sync, so the first read that returns anything
        // already holds everything through ReadyForQuery.
        let mut buf = vec![0u8; 64 * 1024];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].ends_with(b"Z\0\0\0\x05I"), "first read: {:?}", &buf[..n]);
        assert_eq!(buf[0], b'1', "starts with ParseComplete");
    })
    .await;
}

#[tokio::test]
async fn transaction_status_byte_follows_begin_and_commit() {
    within(async {
        let (addr, _) = start().await;
        let mut s = raw_session(addr).await;
        for (sql, status) in [("BEGIN", b'T'), ("ERROR", b'E'), ("ROLLBACK", b'I')] {
            let mut q = BytesMut::new();
            pgwire::messages::simplequery::Query::new(sql.into()).encode(&mut q).unwrap();
            s.write_all(&q).await.unwrap();
            let answer = read_until_ready(&mut s).await;
            assert_eq!(answer.last().unwrap().1, [status], "after {sql}");
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------
// COPY.

#[tokio::test]
async fn copy_from_stdin_counts_rows_and_reports_errors_after_the_data() {
    within(async {
        let (addr, _) = start().await;
        let client = connect(addr).await;

        let sink = client.copy_in("COPY t FROM STDIN").await.unwrap();
        futures::pin_mut!(sink);
        sink.send(Bytes::from_static(b"1\n2\n")).await.unwrap();
        sink.send(Bytes::from_static(b"3\n")).await.unwrap();
        assert_eq!(sink.as_mut().finish().await.unwrap(), 3);

        let sink = client.copy_in("COPY t FROM STDIN").await.unwrap();
        futures::pin_mut!(sink);
        sink.send(Bytes::from_static(b"1\nBAD\n")).await.unwrap();
        sink.send(Bytes::from_static(b"more data after the error\n")).await.unwrap();
        let err = sink.as_mut().finish().await.unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::BAD_COPY_FILE_FORMAT));

        assert_eq!(client.query("SELECT 1", &[]).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn simple_query_copy_ends_with_ready_for_query() {
    within(async {
        let (addr, _) = start().await;
        let mut s = raw_session(addr).await;
        let mut q = BytesMut::new();
        pgwire::messages::simplequery::Query::new("COPY t FROM STDIN".into())
            .encode(&mut q)
            .unwrap();
        s.write_all(&q).await.unwrap();
        assert_eq!(read_msg(&mut s).await.unwrap().0, b'G');
        let mut data = BytesMut::new();
        pgwire::messages::copy::CopyData::new(Bytes::from_static(b"a\nb\n"))
            .encode(&mut data)
            .unwrap();
        sync(&mut data); // ignored during COPY
        pgwire::messages::copy::CopyDone::new().encode(&mut data).unwrap();
        s.write_all(&data).await.unwrap();
        let answer = read_until_ready(&mut s).await;
        assert_eq!(tags(&answer), "CZ");
        assert_eq!(answer[0].1, b"COPY 2\0");
    })
    .await;
}

// ---------------------------------------------------------------------------------
// Errors, cancel, terminate.

#[tokio::test]
async fn garbage_gets_fatal_08p01_and_closes_only_that_connection() {
    within(async {
        let (addr, observed) = start().await;
        let client = connect(addr).await;
        let mut s = raw_session(addr).await;
        s.write_all(b"\x01\x00\x00\x00\x08junk").await.unwrap();
        let (tag, body) = read_msg(&mut s).await.unwrap();
        assert_eq!(tag, b'E');
        assert_eq!(error_field(&body, b'S'), "FATAL");
        assert_eq!(error_field(&body, b'C'), "08P01");
        assert!(read_msg(&mut s).await.is_none(), "connection closed after FATAL");
        assert_eq!(client.query("SELECT 2", &[]).await.unwrap().len(), 2);
        while observed.terminated.load(Ordering::SeqCst) < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn an_oversized_length_is_fatal_too() {
    within(async {
        let (addr, _) = start().await;
        let mut s = raw_session(addr).await;
        s.write_all(b"S\x7f\x00\x00\x00").await.unwrap();
        let (tag, body) = read_msg(&mut s).await.unwrap();
        assert_eq!((tag, error_field(&body, b'C')), (b'E', "08P01".to_owned()));
        assert!(read_msg(&mut s).await.is_none());
    })
    .await;
}

#[tokio::test]
async fn cancel_request_reaches_the_running_statement() {
    within(async {
        let (addr, observed) = start().await;
        let client = Arc::new(connect(addr).await);
        let bystander = connect(addr).await;
        let running = tokio::spawn({
            let client = Arc::clone(&client);
            async move { client.simple_query("SLEEP").await }
        });
        observed.sleeping.notified().await;
        client.cancel_token().cancel_query(NoTls).await.unwrap();
        let err = running.await.unwrap().unwrap_err();
        assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED));
        // The connection is still usable, and the other session was not touched.
        assert_eq!(client.query("SELECT 1", &[]).await.unwrap().len(), 1);
        assert_eq!(bystander.query("SELECT 1", &[]).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn terminate_and_eof_end_the_session() {
    within(async {
        let (addr, observed) = start().await;
        let client = connect(addr).await;
        drop(client); // tokio-postgres sends Terminate
        let s = raw_session(addr).await;
        drop(s); // EOF
        while observed.terminated.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}
