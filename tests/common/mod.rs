//! Shared helpers for the integration tests: an in-process server on an ephemeral
//! port, a real tokio-postgres client over TCP, and short ways to read results.
//!
//! Each test starts its own server (in memory unless it tests durability), so tests
//! are independent and can run in parallel.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};
use troupe::engine::DataDir;
use troupe::server::Server;

/// A server started for one test. `Server::start` and `Server::stop` block (recovery,
/// joining threads), so they run on the blocking pool, never on an executor thread.
pub struct TestServer {
    server: Option<Server>,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// The database to connect to.
    pub dbname: String,
}

/// With `TROUPE_REFERENCE_PG=<port>` the tests run against a real PostgreSQL on that
/// port instead of troupe (each test in a database of its own), to check that the
/// expectations are PostgreSQL's. Tests of troupe-only behaviour skip themselves.
pub fn reference_pg() -> Option<u16> {
    std::env::var("TROUPE_REFERENCE_PG").ok().map(|p| p.parse().expect("a port number"))
}

impl TestServer {
    /// A throwaway in-memory server.
    pub async fn start() -> TestServer {
        Self::start_in(DataDir::InMemory).await
    }

    /// A server whose data lives in `dir` (for restart tests).
    pub async fn start_at(dir: &Path) -> TestServer {
        Self::start_in(DataDir::Path(PathBuf::from(dir))).await
    }

    async fn start_in(dir: DataDir) -> TestServer {
        if let Some(port) = reference_pg() {
            return Self::reference(port, &dir).await;
        }
        // TROUPE_TEST_INDEX=learned runs the suite on the learned index;
        // TROUPE_TEST_PARTITION_KEYS=N splits partitions at N keys (a small N runs
        // every test over tables split into many partitions).
        let index = match std::env::var("TROUPE_TEST_INDEX").as_deref() {
            Ok("learned") => troupe::storage::IndexKind::Learned,
            _ => troupe::storage::IndexKind::BTree,
        };
        let partition_keys = std::env::var("TROUPE_TEST_PARTITION_KEYS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(troupe::storage::DEFAULT_PARTITION_KEYS);
        let options = troupe::storage::StorageOptions { index, partition_keys };
        Self::start_with(dir, options).await
    }

    /// A troupe server (never the reference PostgreSQL) with its data in `dir` (in
    /// memory for `None`) and storage `options`: for tests of storage behaviour itself.
    pub async fn start_storage(
        dir: Option<&Path>,
        options: troupe::storage::StorageOptions,
    ) -> TestServer {
        let dir = dir.map_or(DataDir::InMemory, |d| DataDir::Path(d.to_path_buf()));
        Self::start_with(dir, options).await
    }

    /// How many key-range partitions table `name` is split into (troupe only).
    pub fn partitions(&self, name: &str) -> usize {
        let engine = &self.server.as_ref().expect("a troupe server").engine;
        let def = engine.catalog.table("public", name).expect("the table exists");
        engine.storage.table(def.id).expect("its store").partitions()
    }

    async fn start_with(dir: DataDir, options: troupe::storage::StorageOptions) -> TestServer {
        let server = tokio::task::spawn_blocking(move || {
            Server::start_with_storage("127.0.0.1:0".parse().unwrap(), dir, options)
                .expect("server starts")
        })
        .await
        .unwrap();
        let port = server.addr.port();
        TestServer { server: Some(server), port, dbname: "postgres".into() }
    }

    /// A fresh database on the reference PostgreSQL (the same one again for the same
    /// data directory, so that restart tests see their data).
    async fn reference(port: u16, dir: &DataDir) -> TestServer {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dbname = match dir {
            DataDir::Path(p) => format!("troupe_{}", p.file_name().unwrap().to_string_lossy())
                .to_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            DataDir::InMemory => {
                format!("troupe_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
            }
        };
        let admin = TestServer { server: None, port, dbname: "postgres".into() };
        let c = admin.connect().await;
        let exists = c.query("SELECT 1 FROM pg_database WHERE datname = $1", &[&dbname]).await;
        if exists.unwrap().is_empty() {
            c.batch_execute(&format!("CREATE DATABASE {dbname}")).await.unwrap();
        }
        TestServer { server: None, port, dbname }
    }

    /// A new connection (its driver task runs in the background).
    pub async fn connect(&self) -> Client {
        self.connect_with_driver().await.0
    }

    /// A new connection and its driver task: aborting the task drops the socket
    /// without a Terminate message, as a crashed client would.
    pub async fn connect_with_driver(&self) -> (Client, tokio::task::JoinHandle<()>) {
        let conninfo =
            format!("host=127.0.0.1 port={} user=postgres dbname={}", self.port, self.dbname);
        let (client, connection) = tokio_postgres::connect(&conninfo, NoTls).await.unwrap();
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        (client, driver)
    }

    /// Stops the server: closes connections and drains the WAL.
    pub async fn stop(mut self) {
        let Some(server) = self.server.take() else { return };
        tokio::task::spawn_blocking(move || server.stop()).await.unwrap();
    }
}

/// The rows of a simple-protocol query, every value as PostgreSQL's text output
/// (`None` for NULL). Panics if the query fails.
pub async fn rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let messages =
        client.simple_query(sql).await.unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)));
    messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => {
                Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect()
}

/// The rows of a query as text with NULL written `NULL`, one `|`-joined string per
/// row: compact to compare (`["1|a", "2|NULL"]`).
pub async fn lines(client: &Client, sql: &str) -> Vec<String> {
    rows(client, sql)
        .await
        .into_iter()
        .map(|r| {
            r.into_iter().map(|v| v.unwrap_or_else(|| "NULL".into())).collect::<Vec<_>>().join("|")
        })
        .collect()
}

/// The single value of a one-row, one-column query, as text.
pub async fn scalar(client: &Client, sql: &str) -> Option<String> {
    let r = rows(client, sql).await;
    assert_eq!(r.len(), 1, "{sql}: expected one row, got {r:?}");
    assert_eq!(r[0].len(), 1, "{sql}: expected one column, got {r:?}");
    r[0][0].clone()
}

/// The row count of each command in a simple Query string (its CommandComplete tags).
pub async fn counts(client: &Client, sql: &str) -> Vec<u64> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(n),
            _ => None,
        })
        .collect()
}

/// Runs `sql` (simple protocol), which must fail; returns the SQLSTATE.
pub async fn sqlstate(client: &Client, sql: &str) -> SqlState {
    match client.batch_execute(sql).await {
        Ok(()) => panic!("{sql}: expected an error, it succeeded"),
        Err(e) => code(&e),
    }
}

/// The SQLSTATE of an error that must be a server error.
pub fn code(e: &tokio_postgres::Error) -> SqlState {
    e.code().unwrap_or_else(|| panic!("not a server error: {e:?}")).clone()
}

/// The server's message text of an error.
pub fn message(e: &tokio_postgres::Error) -> String {
    e.as_db_error().map(|d| d.message().to_owned()).unwrap_or_else(|| format!("{e:?}"))
}

/// The DETAIL of an error, if any.
pub fn detail(e: &tokio_postgres::Error) -> Option<String> {
    e.as_db_error().and_then(|d| d.detail().map(str::to_owned))
}

/// A readable one-liner for assertion messages.
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{}: {}", d.code().code(), d.message()),
        None => format!("{e:?}"),
    }
}

/// What a raw simple Query exchange returned, message by message: `C <tag>` for
/// CommandComplete, `E <sqlstate>` for an error, `N <sqlstate>` for a notice, `D` for a
/// data row, `I` for EmptyQueryResponse, and finally `Z <status>` for ReadyForQuery.
/// tokio-postgres hides command tags and the status byte; this shows them.
pub async fn raw_simple_query(db: &TestServer, queries: &[&str]) -> Vec<Vec<String>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", db.port)).await.unwrap();
    let mut startup = Vec::new();
    startup.extend_from_slice(&196608i32.to_be_bytes());
    startup.extend_from_slice(format!("user\0postgres\0database\0{}\0\0", db.dbname).as_bytes());
    let mut msg = ((startup.len() + 4) as i32).to_be_bytes().to_vec();
    msg.extend_from_slice(&startup);
    s.write_all(&msg).await.unwrap();
    async fn read_until_ready(s: &mut tokio::net::TcpStream) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let tag = s.read_u8().await.unwrap();
            let len = s.read_i32().await.unwrap() as usize;
            let mut body = vec![0u8; len - 4];
            s.read_exact(&mut body).await.unwrap();
            let cstr = |b: &[u8]| {
                String::from_utf8_lossy(b.split(|c| *c == 0).next().unwrap()).into_owned()
            };
            let field = |body: &[u8], code: u8| {
                let mut parts = body.split(|c| *c == 0);
                parts.find(|p| p.first() == Some(&code)).map(|p| cstr(&p[1..])).unwrap_or_default()
            };
            match tag {
                b'C' => out.push(format!("C {}", cstr(&body))),
                b'E' => out.push(format!("E {}", field(&body, b'C'))),
                b'N' => out.push(format!("N {}", field(&body, b'C'))),
                b'D' => out.push("D".into()),
                b'I' => out.push("I".into()),
                b'Z' => {
                    out.push(format!("Z {}", body[0] as char));
                    return out;
                }
                _ => {}
            }
        }
    }
    let _ = read_until_ready(&mut s).await;
    let mut results = Vec::new();
    for q in queries {
        let mut msg = vec![b'Q'];
        msg.extend_from_slice(&((q.len() + 5) as i32).to_be_bytes());
        msg.extend_from_slice(q.as_bytes());
        msg.push(0);
        s.write_all(&msg).await.unwrap();
        results.push(read_until_ready(&mut s).await);
    }
    results
}

/// A server (or reference database) with `t(id int PRIMARY KEY, v int)` holding
/// `(1, 0)` and `(2, 0)`, and a connection to it.
pub async fn with_two_rows() -> (TestServer, Client) {
    let db = TestServer::start().await;
    let c = db.connect().await;
    c.batch_execute(
        "DROP TABLE IF EXISTS t; CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0), (2, 0)",
    )
    .await
    .unwrap();
    (db, c)
}
