//! The differential sqllogictest harness: every `tests/slt/**/*.slt` file, run through a
//! real wire connection, against troupe and (in CI) against PostgreSQL 15 as well.
//!
//! ```text
//!   tests/slt/select/where.slt ──parse──▶ records ──▶ sqllogictest::Runner
//!                                                        │ one Slt connection per
//!                                                        │ `connection NAME` record
//!                                                        ▼
//!        tokio-postgres simple_query ──TCP──▶ troupe (a fresh in-process TestServer)
//!                                      or ──▶ PostgreSQL (TROUPE_REFERENCE_PG=<port>,
//!                                              a fresh database per file)
//! ```
//!
//! The expectations in the files are what PostgreSQL 15 returns. `.ci/run` runs this
//! target twice, once against troupe (`cargo test`) and once against a PostgreSQL it
//! starts (`tests/e2e/reference-pg.sh`), so an expectation can never drift from
//! PostgreSQL's truth.
//!
//! Conventions of the adapter ([`Slt`]):
//! * values are PostgreSQL's text output (the simple protocol); NULL is `NULL`, the
//!   empty string `(empty)`, a value of only spaces (char(n) of '') `(blank)`; lines are
//!   compared with whitespace collapsed (the crate's default validator);
//! * an error displays as `db error: ERROR 23505: duplicate key value ...`, so a file
//!   asserts the SQLSTATE with `statement error 23505` (a regex on that text); the
//!   crate's `statement error (23505)` form works too;
//! * the engine name, and so the label for `skipif`/`onlyif`, is `troupe` or `postgres`.
//!
//! Every file runs to its end even after a failing record (later records are often
//! independent), and every file runs even when another failed; the test fails at the
//! end with each failure's location and diff. `TROUPE_SLT=substring` runs only the
//! files whose path contains it. `TROUPE_SLT_REWRITE=1` together with
//! `TROUPE_REFERENCE_PG` rewrites the files' expectations to what PostgreSQL returned
//! (never from troupe: the expectations are PostgreSQL's by construction); review the
//! diff before committing it.
//!
//! Concurrency cases use `connection NAME` records. The runner awaits each record before
//! the next, so a statement that would block (waiting for a row lock) can never be
//! released by a later record: files keep to interleavings that do not block.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt;
use std::path::{Path, PathBuf};

use common::{reference_pg, TestServer};
use futures::StreamExt;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Record, Runner};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// How many files run at once (each against its own server or database).
const PARALLEL_FILES: usize = 2;

/// One client connection, as the sqllogictest runner sees it.
struct Slt {
    client: Client,
    driver: tokio::task::JoinHandle<()>,
    engine: &'static str,
}

/// An error as a file matches it: `db error: ERROR 22012: division by zero`.
#[derive(Debug)]
struct SltError {
    sqlstate: Option<String>,
    text: String,
}

impl fmt::Display for SltError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for SltError {}

impl From<tokio_postgres::Error> for SltError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => SltError {
                sqlstate: Some(db.code().code().to_owned()),
                text: format!("db error: {} {}: {}", db.severity(), db.code().code(), db.message()),
            },
            None => SltError { sqlstate: None, text: format!("client error: {e}") },
        }
    }
}

impl Slt {
    async fn connect(port: u16, dbname: &str, engine: &'static str) -> Result<Slt, SltError> {
        let conninfo = format!("host=127.0.0.1 port={port} user=postgres dbname={dbname}");
        let (client, connection) = tokio_postgres::connect(&conninfo, NoTls).await?;
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Slt { client, driver, engine })
    }
}

#[async_trait::async_trait]
impl AsyncDB for Slt {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let mut columns = None;
        let mut rows = Vec::new();
        let mut count = 0;
        for message in self.client.simple_query(sql).await? {
            match message {
                SimpleQueryMessage::RowDescription(cols) => columns = Some(cols.len()),
                SimpleQueryMessage::Row(row) => rows.push(
                    (0..row.len())
                        .map(|i| match row.get(i) {
                            None => "NULL".to_owned(),
                            Some("") => "(empty)".to_owned(),
                            // The runner compares whitespace-normalised lines, where an
                            // all-blank value (char(3) '') would vanish and shift columns.
                            Some(v) if v.trim().is_empty() => "(blank)".to_owned(),
                            Some(v) => v.to_owned(),
                        })
                        .collect(),
                ),
                SimpleQueryMessage::CommandComplete(n) => count = n,
                _ => {}
            }
        }
        Ok(match columns {
            Some(n) => DBOutput::Rows { types: vec![DefaultColumnType::Any; n], rows },
            None => DBOutput::StatementComplete(count),
        })
    }

    async fn shutdown(&mut self) {
        self.driver.abort();
    }

    fn engine_name(&self) -> &str {
        self.engine
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await
    }

    fn error_sql_state(err: &SltError) -> Option<String> {
        err.sqlstate.clone()
    }
}

/// Every `.slt` file under `dir`, sorted, recursively.
fn slt_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(slt_files(&path));
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
    out
}

/// Runs one file against a fresh server (or database); returns each failing record's
/// report, empty when the file passed.
async fn run_file(path: PathBuf) -> (PathBuf, usize, Vec<String>) {
    let engine = if reference_pg().is_some() { "postgres" } else { "troupe" };
    let db = TestServer::start().await;
    let (port, dbname) = (db.port, db.dbname.clone());
    let mut runner = Runner::new(move || {
        let dbname = dbname.clone();
        async move { Slt::connect(port, &dbname, engine).await }
    });
    if std::env::var_os("TROUPE_SLT_REWRITE").is_some() {
        assert_eq!(engine, "postgres", "TROUPE_SLT_REWRITE needs TROUPE_REFERENCE_PG");
        let outcome = runner
            .update_test_file(
                &path,
                " ",
                sqllogictest::default_validator,
                sqllogictest::default_normalizer,
                sqllogictest::default_column_validator,
            )
            .await;
        runner.shutdown_async().await;
        db.stop().await;
        return (path, 0, outcome.err().map(|e| format!("rewrite: {e}")).into_iter().collect());
    }
    let records = match sqllogictest::parse_file::<DefaultColumnType>(&path) {
        Ok(r) => r,
        Err(e) => return (path, 0, vec![format!("parse error: {e}")]),
    };
    let mut failures = Vec::new();
    let mut ran = 0;
    for record in records {
        if let Record::Halt { .. } = record {
            break;
        }
        if matches!(record, Record::Statement { .. } | Record::Query { .. }) {
            ran += 1;
        }
        if let Err(e) = runner.run_async(record).await {
            failures.push(e.display(false).to_string());
        }
    }
    runner.shutdown_async().await;
    db.stop().await;
    (path, ran, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqllogictest_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let filter = std::env::var("TROUPE_SLT").unwrap_or_default();
    let files: Vec<_> =
        slt_files(&root).into_iter().filter(|p| p.to_string_lossy().contains(&filter)).collect();
    assert!(!files.is_empty(), "no .slt files under {} matching {filter:?}", root.display());
    let results: Vec<_> =
        futures::stream::iter(files).map(run_file).buffer_unordered(PARALLEL_FILES).collect().await;

    let mut report = String::new();
    let mut failed_files = Vec::new();
    let mut total = 0;
    for (path, ran, failures) in &results {
        total += ran;
        let name = path.strip_prefix(&root).unwrap_or(path).display().to_string();
        if failures.is_empty() {
            eprintln!("slt ok     {name} ({ran} records)");
            continue;
        }
        eprintln!("slt FAILED {name} ({} of {ran} records)", failures.len());
        for f in failures {
            report.push_str(&format!("---- {name}\n{f}\n"));
        }
        failed_files.push(name);
    }
    eprintln!("slt: {} files, {total} statements and queries", results.len());
    assert!(
        failed_files.is_empty(),
        "{report}\nslt: {} file(s) failed: {}",
        failed_files.len(),
        failed_files.join(", ")
    );
}
