//! The session actor: one per connection, owning the connection's state: its
//! transaction-block state machine ([`block`], a sans-IO core with the diagram), the
//! open transaction ([`txn`]), settings ([`settings`]), prepared statements, portals
//! and an active COPY ([`copy`]).
//!
//! The session is a tokio task (the wire's per-connection task) rather than an actix
//! actor: it owns the socket and handles one message at a time, which is the actor
//! contract, without an extra hop per protocol message. It talks to the LockManager and
//! TxnManager actors by messages, and reads partitions directly (see `storage`).
//!
//! An implicit (autocommit) statement that fails with 40001 or 40P01 is retried here,
//! transparently, up to [`MAX_RETRIES`] times with jittered backoff, when it is the
//! only statement of its implicit transaction ([`retry::should_retry`]); explicit
//! transactions get the error, as in PostgreSQL.

mod alter;
mod backend;
pub mod block;
mod indexes;
pub mod retry;
mod statements;
mod views;

pub use backend::SessionFactory;
pub mod copy;
mod defaults;
mod schemas;
mod sequences;
pub mod settings;
pub mod txn;

use std::collections::HashMap;
use std::time::Duration;

use crate::catalog::{table_key, SearchPath, TableDef};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::sequence::{SequenceAccess, Sequences, SessionSequences};
use crate::sql::dml;
use crate::sql::exec::{self, QueryCtx};
use crate::sql::expr::SessionFacts;
use crate::sql::functions::now_micros;
use crate::sql::plan::{Access, OutCol, Plan, RelName, TxnModes};
use crate::sql::planner::AlterAction;
use crate::sql::{plan_statement, split, Planned};
use crate::storage::{Chain, Isolation, Key, Row, TableStore};
use crate::sync::Arc;
use crate::txn::CommitTs;
use crate::types::{
    encode_key, parse_binary, parse_text, write_binary, write_text, DataType, Value, Zone,
};
use crate::wal::WalWrite;
use crate::wire::{Backend, CancelSignal, Field, Flow, Responses, TxnStatus};

use block::{Block, Effect, Event};
use copy::CopyIn;
use settings::Settings;
use txn::Txn;

pub use retry::MAX_RETRIES;

/// A prepared statement.
#[derive(Debug)]
pub struct Prepared {
    sql: String,
    planned: Arc<Planned>,
    catalog_version: u64,
    /// The effective search path it was planned under: another one plans it again,
    /// as PostgreSQL re-plans when `search_path` changes.
    path: SearchPath,
    /// The settings it was planned under: while they are unchanged (and the catalog
    /// too), so is the search path, and `replan` need not work it out again.
    settings_at: settings::SettingsToken,
    /// What pg_prepared_statements shows: the PREPARE statement, or the Parse's text.
    shown: String,
    /// Made by SQL PREPARE (not by the protocol's Parse).
    from_sql: bool,
    /// When it was prepared, µs since 2000-01-01 UTC.
    prepare_time: i64,
}

impl Prepared {
    /// The statement's pg_prepared_statements row (name, statement, prepare_time,
    /// parameter_types, from_sql).
    pub fn view_row(&self, name: &str) -> Vec<Value> {
        let types = self.planned.param_types.iter().map(|t| Value::Oid(t.oid())).collect();
        vec![
            Value::Text(name.to_owned()),
            Value::Text(self.shown.clone()),
            Value::TimestampTz(self.prepare_time),
            Value::Array(types),
            Value::Bool(self.from_sql),
        ]
    }
}

/// The session's named prepared statements (SQL PREPARE and the protocol's Parse share
/// one namespace), shared with each statement's `SessionFacts` for
/// pg_prepared_statements (copied on write while a statement holds it).
pub type PreparedStatements = HashMap<String, Arc<Prepared>>;

/// A bound portal.
#[derive(Debug)]
struct Portal {
    stmt: Arc<Prepared>,
    params: Vec<Value>,
    formats: Vec<i16>,
    /// Rows computed but not yet sent (after PortalSuspended).
    pending: Option<std::vec::IntoIter<Vec<Value>>>,
    /// A row-returning portal that has sent its last row: executing it again fetches
    /// nothing (`SELECT 0`), as in PostgreSQL, instead of running the query again.
    exhausted: bool,
    /// A portal whose command (INSERT, UPDATE, …) completed: executing it again is
    /// 55000, as in PostgreSQL, never a second run.
    done: bool,
    /// The plan used (re-planned if the catalog changed).
    plan: Option<Arc<Planned>>,
}

/// What a statement produced.
enum Output {
    Rows(Vec<OutCol>, Vec<Vec<Value>>),
    Tag(String),
    /// COPY FROM STDIN of this many columns, binary or text.
    CopyIn(usize, bool),
    Empty,
}

/// One connection's session.
pub struct Session {
    engine: Arc<Engine>,
    pid: i32,
    cancel: CancelSignal,
    user: String,
    database: String,
    settings: Settings,
    /// The settings after start-up (start-up parameters included): what RESET ALL
    /// and DISCARD ALL return to, as PostgreSQL's session defaults.
    startup_settings: Settings,
    /// The reported parameters' values as the client last heard them (start-up, then
    /// ParameterStatus messages).
    reported: Vec<(String, String)>,
    /// The settings when `reported` was last compared with them: while they are the
    /// same, there is nothing to report.
    reported_at: Option<settings::SettingsToken>,
    /// Settings as they were when the transaction started (SET is transactional).
    saved_settings: Option<Settings>,
    /// After a SET LOCAL in the transaction: the settings as its plain SETs alone
    /// leave them, what COMMIT keeps (SET LOCAL lasts until the transaction ends).
    session_settings: Option<Settings>,
    txn: Option<Txn>,
    block: Block,
    statements: Arc<PreparedStatements>,
    portals: HashMap<String, Portal>,
    copy: Option<CopyIn>,
    /// NOTICEs raised by the running statement, written before its result.
    pending_notices: Vec<(&'static str, String)>,
    /// currval / lastval.
    sequences: Arc<parking_lot::Mutex<SessionSequences>>,
    /// Session-level advisory locks held: (target, shared) → how many times.
    advisory: HashMap<(crate::lock::LockTarget, bool), u32>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("pid", &self.pid)
            .field("block", &self.block)
            .finish_non_exhaustive()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // A connection that vanished mid-transaction: roll back so no lock or version
        // is left behind (invariant 5).
        if let Some(t) = self.txn.take() {
            t.abort(&self.engine);
        }
        // Session-level advisory locks end with the session.
        if !self.advisory.is_empty() {
            self.engine.locks.release_all(crate::lock::session_owner(self.pid));
        }
    }
}

fn fields(columns: &[OutCol], formats: &[i16]) -> Vec<Field> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| Field {
            name: c.name.clone(),
            table_oid: c.table_oid,
            column: c.column,
            type_oid: c.ty.oid(),
            type_size: c.ty.type_size(),
            type_modifier: c.ty.type_modifier(),
            format: format_of(formats, i),
        })
        .collect()
}

fn format_of(formats: &[i16], i: usize) -> i16 {
    match formats.len() {
        0 => 0,
        1 => formats[0],
        _ => formats.get(i).copied().unwrap_or(0),
    }
}

/// 25006 for `command` in a read-only transaction.
fn read_only_refusal(command: &str) -> Error {
    Error::new(
        ErrorKind::ReadOnlySqlTransaction,
        format!("cannot execute {command} in a read-only transaction"),
    )
}

fn write_rows(
    out: &mut Responses,
    columns: &[OutCol],
    rows: impl Iterator<Item = Vec<Value>>,
    formats: &[i16],
    zone: Zone,
) -> Result<usize> {
    let mut n = 0;
    for row in rows {
        let start = out.begin_row(row.len());
        for (i, v) in row.iter().enumerate() {
            if v.is_null() {
                out.field(None);
                continue;
            }
            let ty = &columns[i].ty;
            if format_of(formats, i) == 1 {
                let mut failed = None;
                out.field_with(|b| {
                    if let Err(e) = write_binary(v, ty, b) {
                        failed = Some(e);
                    }
                });
                if let Some(e) = failed {
                    return Err(e);
                }
            } else {
                out.field_with(|b| write_text(v, ty, zone, b));
            }
        }
        out.end_row(start);
        n += 1;
    }
    Ok(n)
}

/// A DML statement's output: its rows with RETURNING (tagged INSERT/UPDATE/DELETE n
/// by `rows_tag`), else its tag.
fn dml_output(
    plan: &Plan,
    returning: &Option<crate::sql::plan::Returning>,
    (n, rows): dml::Written,
) -> Output {
    match returning {
        Some(r) => Output::Rows(r.columns.clone(), rows),
        None => Output::Tag(tag_for(plan, n)),
    }
}

fn tag_for(plan: &Plan, n: u64) -> String {
    match plan {
        Plan::Insert(_) => format!("INSERT 0 {n}"),
        Plan::Update(_) => format!("UPDATE {n}"),
        Plan::Delete(_) => format!("DELETE {n}"),
        _ => String::new(),
    }
}

fn backoff(attempt: u32) -> Duration {
    let base = 200u64 << attempt.min(6);
    Duration::from_micros(base + rand::random::<u64>() % base)
}

fn ddl_in_block(what: &str) -> Error {
    Error::new(
        ErrorKind::FeatureNotSupported,
        format!("{what} inside a transaction block is not supported yet"),
    )
    .with_hint("Run it outside BEGIN … COMMIT; it commits on its own.")
}

impl Session {
    /// A session for a new connection.
    pub fn new(engine: Arc<Engine>, pid: i32, cancel: CancelSignal) -> Session {
        Session {
            engine,
            pid,
            cancel,
            user: "postgres".into(),
            database: "postgres".into(),
            settings: Settings::new("postgres", ""),
            startup_settings: Settings::new("postgres", ""),
            reported: Vec::new(),
            reported_at: None,
            saved_settings: None,
            session_settings: None,
            txn: None,
            block: Block::None,
            statements: Arc::default(),
            portals: HashMap::new(),
            copy: None,
            pending_notices: Vec::new(),
            sequences: Arc::default(),
            advisory: HashMap::new(),
        }
    }

    fn facts(&self) -> SessionFacts {
        let now = now_micros();
        SessionFacts {
            txn_start: self.txn.as_ref().map(|t| t.start).unwrap_or(now),
            statement_start: now,
            pid: self.pid,
            user: self.user.clone(),
            database: self.database.clone(),
            sequences: Some(SequenceAccess {
                engine: self.engine.clone(),
                session: self.sequences.clone(),
                path: self.search_path(),
            }),
            settings: Some(self.current_settings()),
            prepared: Some(self.statements.clone()),
        }
    }

    /// The settings as a statement sees them: `transaction_isolation` and
    /// `transaction_read_only` are the current transaction's (else the defaults').
    fn current_settings(&self) -> Settings {
        match &self.txn {
            Some(t) => self.settings.in_transaction(t.isolation, t.read_only),
            None => self.settings.clone(),
        }
    }

    fn ensure_txn(&mut self) -> &mut Txn {
        let iso = self.settings.default_isolation();
        let read_only = self.settings.default_read_only();
        let engine = &self.engine;
        self.txn.get_or_insert_with(|| {
            let mut t = Txn::new(engine, iso, now_micros());
            t.read_only = read_only;
            t
        })
    }

    /// 25006 for a statement that writes, in a READ ONLY transaction (or, before one
    /// started, under `default_transaction_read_only`), with PostgreSQL's name for the
    /// command. Checked after planning, as PostgreSQL checks at execution: a write to
    /// a table that does not exist is 42P01 first.
    fn refuse_if_read_only(&self, plan: &Plan) -> Result<()> {
        let read_only =
            self.txn.as_ref().map_or_else(|| self.settings.default_read_only(), |t| t.read_only);
        if !read_only {
            return Ok(());
        }
        let command = match plan {
            Plan::Query(q) => match &q.lock {
                Some(lock) => {
                    return Err(read_only_refusal(&format!("SELECT {}", lock.mode.clause())))
                }
                None => return Ok(()),
            },
            Plan::Insert(_) => "INSERT",
            Plan::Update(_) => "UPDATE",
            Plan::Delete(_) => "DELETE",
            Plan::Truncate(_) => "TRUNCATE TABLE",
            Plan::CopyFrom { .. } => "COPY FROM",
            _ => match plan.ddl_command() {
                Some(command) => command,
                None => return Ok(()),
            },
        };
        Err(read_only_refusal(command))
    }

    /// Rolls the transaction back; SETs made in it revert now if `restore_settings`
    /// (a failed block keeps them until its ROLLBACK).
    fn abort_txn_settings(&mut self, restore_settings: bool) {
        if let Some(t) = self.txn.take() {
            t.abort(&self.engine);
        }
        if restore_settings {
            self.session_settings = None;
            if let Some(s) = self.saved_settings.take() {
                self.settings = s;
            }
        }
    }

    /// Feeds `event` to the block state machine and performs its effects; returns the
    /// command tag of COMMIT/ROLLBACK. (Opening an explicit block is done by
    /// [`Session::control`], which knows BEGIN's isolation level.)
    async fn apply(&mut self, event: Event, out: &mut Responses) -> Result<Option<&'static str>> {
        let mut tag = None;
        for effect in self.block.step(event) {
            match effect {
                Effect::Warn { code, message } => out.warning(code, message),
                Effect::RefuseInFailedBlock => return Err(Error::in_failed_transaction()),
                Effect::CommitTxn => self.commit_txn().await?,
                Effect::AbortTxn { restore_settings } => self.abort_txn_settings(restore_settings),
                Effect::Tag(t) => tag = Some(t),
                Effect::OpenedImplicit | Effect::OpenedExplicit => {}
            }
        }
        Ok(tag)
    }

    async fn commit_txn(&mut self) -> Result<()> {
        self.saved_settings = None;
        if let Some(s) = self.session_settings.take() {
            self.settings = s;
        }
        match self.txn.take() {
            Some(t) => t.commit(&self.engine).await,
            None => Ok(()),
        }
    }

    // ---- statements ----------------------------------------------------------

    /// Plans `sql`, or takes a cached plan whose catalog is still current.
    fn replan(&self, stmt: &Prepared) -> Result<Arc<Planned>> {
        let same_catalog = stmt.catalog_version == self.engine.catalog.version();
        if same_catalog && self.settings.unchanged_since(&stmt.settings_at) {
            return Ok(stmt.planned.clone());
        }
        let path = self.search_path();
        if same_catalog && stmt.path == path {
            return Ok(stmt.planned.clone());
        }
        let oids: Vec<u32> = stmt.planned.param_types.iter().map(DataType::oid).collect();
        let p = plan_statement(&stmt.sql, &self.engine.catalog, &path, &oids)?;
        // A DDL (ALTER TABLE, CREATE OR REPLACE VIEW) may have changed what `*` means:
        // the client was told the old row shape, so PostgreSQL refuses instead.
        let shape = |ps: &Planned| {
            ps.plan.columns().map(|cs| cs.into_iter().map(|c| (c.name, c.ty)).collect::<Vec<_>>())
        };
        if p.param_types != stmt.planned.param_types || shape(&p) != shape(&stmt.planned) {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                "cached plan must not change result type",
            ));
        }
        Ok(Arc::new(p))
    }

    /// Runs a transaction-control statement.
    async fn control(&mut self, plan: &Plan, out: &mut Responses) -> Result<String> {
        let event = match plan {
            Plan::Begin(..) => Event::Begin,
            Plan::Commit => Event::Commit,
            Plan::Rollback => Event::Rollback,
            Plan::Savepoint(_) | Plan::ReleaseSavepoint(_) | Plan::RollbackToSavepoint(_) => {
                return self.savepoint_control(plan).await
            }
            _ => return Err(Error::internal("not a transaction-control statement")),
        };
        let opened = self.block != Block::Explicit && self.block != Block::Failed;
        let tag = self.apply(event, out).await?;
        if let Plan::Begin(modes, begin_tag) = plan {
            if opened {
                // Settings are saved lazily, at the block's first SET.
                let default = self.settings.default_isolation();
                let t = self.ensure_txn();
                if let Some(ro) = modes.read_only {
                    t.read_only = ro;
                }
                match (modes.isolation, t.statements) {
                    (iso, 0) => t.isolation = iso.unwrap_or(default),
                    // `SELECT 1; BEGIN ISOLATION LEVEL …` in one Query string: the
                    // implicit transaction already ran a statement.
                    (Some(_), _) => {
                        return Err(Error::new(
                            ErrorKind::ActiveSqlTransaction,
                            "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                        ))
                    }
                    (None, _) => {}
                }
            }
            return Ok((*begin_tag).into());
        }
        tag.map(str::to_owned).ok_or_else(|| Error::internal("transaction control without a tag"))
    }

    /// SAVEPOINT, RELEASE [SAVEPOINT], ROLLBACK TO [SAVEPOINT] (see `txn.rs`).
    async fn savepoint_control(&mut self, plan: &Plan) -> Result<String> {
        let (what, tag) = match plan {
            Plan::Savepoint(_) => ("SAVEPOINT", "SAVEPOINT"),
            Plan::ReleaseSavepoint(_) => ("RELEASE SAVEPOINT", "RELEASE"),
            _ => ("ROLLBACK TO SAVEPOINT", "ROLLBACK"),
        };
        if !matches!(self.block, Block::Explicit | Block::Failed) {
            return Err(Error::new(
                ErrorKind::NoActiveSqlTransaction,
                format!("{what} can only be used in transaction blocks"),
            ));
        }
        let settings = self.settings.clone();
        let engine = self.engine.clone();
        match plan {
            Plan::Savepoint(name) => self.ensure_txn().savepoint(&engine, name.clone(), settings),
            Plan::ReleaseSavepoint(name) => {
                let txn = self.txn.as_mut().ok_or_else(|| no_savepoint(name))?;
                let i = txn.find_savepoint(name)?;
                txn.release(i);
            }
            Plan::RollbackToSavepoint(name) => {
                let txn = self.txn.as_mut().ok_or_else(|| no_savepoint(name))?;
                let i = txn.find_savepoint(name)?;
                self.settings = txn.rollback_to(&engine, i);
                self.block.step(Event::RolledBackToSavepoint);
            }
            _ => return Err(Error::internal("not a savepoint statement")),
        }
        Ok(tag.into())
    }

    /// Runs a statement inside the current transaction (started if needed).
    async fn run(&mut self, plan: &Plan, params: &[Value]) -> Result<Output> {
        self.cancel.clear();
        self.refuse_if_read_only(plan)?;
        match plan {
            Plan::Empty => return Ok(Output::Empty),
            Plan::Set { name, value, local } => {
                return self.set(name, value.as_deref(), *local).map(Output::Tag)
            }
            Plan::Reset(name) => {
                match name {
                    Some(n) => {
                        self.set(n, None, false)?;
                    }
                    None => {
                        if self.block == Block::Explicit && self.saved_settings.is_none() {
                            self.saved_settings = Some(self.settings.clone());
                        }
                        self.settings = self.startup_settings.clone();
                    }
                }
                return Ok(Output::Tag("RESET".into()));
            }
            Plan::Show(name) => {
                let value = self.current_settings().get(name)?;
                let col =
                    OutCol { name: name.clone(), ty: DataType::Text, table_oid: 0, column: 0 };
                return Ok(Output::Rows(vec![col], vec![vec![Value::Text(value)]]));
            }
            Plan::Maintenance(tag) => return Ok(Output::Tag((*tag).into())),
            Plan::Explain(lines) => {
                let cols = plan.columns().unwrap_or_default();
                let rows = lines.iter().map(|l| vec![Value::Text(l.clone())]).collect();
                return Ok(Output::Rows(cols, rows));
            }
            Plan::Prepare { .. }
            | Plan::Execute { .. }
            | Plan::Deallocate(_)
            | Plan::DiscardAll
            | Plan::CloseCursor(_)
            | Plan::Unlisten
            | Plan::Advisory(_)
            | Plan::SetConfig(_) => return self.session_statement(plan, params).await,
            Plan::Vacuum(tables) => {
                if self.block == Block::Explicit {
                    return Err(Error::new(
                        ErrorKind::ActiveSqlTransaction,
                        "VACUUM cannot run inside a transaction block",
                    ));
                }
                let horizon = self.engine.watermark.horizon();
                let stores = if tables.is_empty() {
                    self.engine.storage.tables()
                } else {
                    tables.iter().filter_map(|t| self.engine.storage.table(t.id).ok()).collect()
                };
                for store in stores {
                    store.vacuum(horizon).await?;
                }
                return Ok(Output::Tag("VACUUM".into()));
            }
            Plan::CreateTable { .. }
            | Plan::DropTable { .. }
            | Plan::AlterTable { .. }
            | Plan::CreateView { .. }
            | Plan::DropView { .. }
            | Plan::CreateSchema { .. }
            | Plan::DropSchema { .. }
            | Plan::CreateSequence { .. }
            | Plan::DropSequence { .. }
            | Plan::CreateIndex { .. }
            | Plan::DropIndex { .. } => {
                let what = plan.ddl_command().unwrap_or("ALTER TABLE");
                if self.block == Block::Explicit {
                    return Err(ddl_in_block(what));
                }
                // DDL commits on its own. Dropping or rewriting a table this implicit
                // transaction already wrote would strand those writes: refuse.
                let named: Vec<RelName> = match plan {
                    Plan::DropTable { names, .. } => names.clone(),
                    Plan::AlterTable { table, actions, .. } => {
                        // The parent of an added foreign key is moved with the table.
                        let parents = actions.iter().filter_map(|a| match a {
                            AlterAction::AddForeignKey(fk) => {
                                crate::sql::planner::schema::rel_name(&fk.foreign_table).ok()
                            }
                            _ => None,
                        });
                        std::iter::once(table.clone()).chain(parents).collect()
                    }
                    _ => Vec::new(),
                };
                let mut targets = Vec::new();
                for n in &named {
                    if let Some((s, n)) = self.resolve_target(n, true)? {
                        targets.extend(self.engine.catalog.table(&s, &n).map(|d| d.id));
                    }
                }
                self.pending_notices.clear();
                if self
                    .txn
                    .as_ref()
                    .is_some_and(|t| t.writes.keys().any(|(id, _)| targets.contains(id)))
                {
                    return Err(Error::new(
                        ErrorKind::FeatureNotSupported,
                        format!("{what} of a table written earlier in the same transaction is not supported yet"),
                    )
                    .with_hint("Send it as its own statement."));
                }
                return self.ddl(plan).await.map(Output::Tag);
            }
            Plan::SetTransaction(modes) => {
                self.set_transaction(*modes)?;
                return Ok(Output::Tag("SET".into()));
            }
            _ => {}
        }
        let engine = self.engine.clone();
        let facts = self.facts();
        let pid = self.pid;
        let cancel = self.cancel.clone();
        let lock_timeout = self.settings.timeout("lock_timeout");
        let statement_timeout = self.settings.timeout("statement_timeout");
        let txn = self.ensure_txn();
        txn.statements += 1;
        let (view, _guard) = txn.statement_view(&engine);
        let q = QueryCtx {
            catalog: &engine.catalog,
            storage: &engine.storage,
            view,
            params,
            facts: &facts,
            memo: Default::default(),
            cancel: Some(cancel.clone()),
        };
        let horizon =
            if matches!(plan, Plan::Query(_)) { CommitTs(0) } else { engine.watermark.horizon() };
        let mut w = txn.write_ctx(&engine, view, horizon, pid, &cancel, lock_timeout);
        let work = async {
            Ok(Some(match plan {
                Plan::Query(qp) => {
                    let rows = match &qp.lock {
                        Some(lock) => crate::sql::locking::select_locked(&mut w, lock, &q).await?,
                        None => exec::run(&qp.rel, &q, None).await?,
                    };
                    let types: Vec<DataType> = qp.columns.iter().map(|c| c.ty.clone()).collect();
                    let public = crate::catalog::SearchPath::public();
                    let path = facts.sequences.as_ref().map_or(&public, |a| &a.path);
                    let rows =
                        crate::sql::pg_catalog::regcast::name_rows(&types, rows, &engine, path);
                    Output::Rows(qp.columns.clone(), rows)
                }
                Plan::Insert(p) => {
                    dml_output(plan, &p.returning, dml::insert(&mut w, p, &q).await?)
                }
                Plan::Update(p) => {
                    dml_output(plan, &p.returning, dml::update(&mut w, p, &q).await?)
                }
                Plan::Delete(p) => {
                    dml_output(plan, &p.returning, dml::delete(&mut w, p, &q).await?)
                }
                Plan::Truncate(tables) => {
                    crate::sql::foreign_keys::check_truncate(q.catalog, tables)?;
                    for t in tables {
                        dml::delete_where(&mut w, t, &Access::Full, None, &None, &q).await?;
                    }
                    Output::Tag("TRUNCATE TABLE".into())
                }
                _ => return Ok(None),
            }))
        };
        // statement_timeout: the statement stops at its next await (a storage request, a
        // lock wait); whatever it wrote stays in the transaction, which the error aborts.
        let done = match statement_timeout {
            Some(limit) => tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Err(Error::new(
                    ErrorKind::QueryCanceled,
                    "canceling statement due to statement timeout",
                ))
            }),
            None => work.await,
        };
        if let Some(out) = done? {
            return Ok(out);
        }
        match plan {
            Plan::CopyFrom { table, columns, binary } => {
                let n = columns.len();
                self.copy = Some(CopyIn::new(
                    table.clone(),
                    columns.clone(),
                    *binary,
                    self.settings.zone(),
                ));
                Ok(Output::CopyIn(n, *binary))
            }
            _ => Err(Error::internal("statement kind not routed")),
        }
    }

    /// SET TRANSACTION (and SET transaction_isolation / transaction_read_only): the
    /// current transaction's modes. The isolation level, and READ WRITE in a read-only
    /// transaction, only before its first query (25001); outside a block it applies
    /// to nothing (PostgreSQL warns too).
    fn set_transaction(&mut self, modes: TxnModes) -> Result<()> {
        let in_block = self.block == Block::Explicit;
        let t = self.ensure_txn();
        if t.statements > 0 {
            if modes.isolation.is_some_and(|iso| iso != t.isolation) {
                return Err(Error::new(
                    ErrorKind::ActiveSqlTransaction,
                    "SET TRANSACTION ISOLATION LEVEL must be called before any query",
                ));
            }
            if modes.read_only == Some(false) && t.read_only {
                return Err(Error::new(
                    ErrorKind::ActiveSqlTransaction,
                    "transaction read-write mode must be set before any query",
                ));
            }
        }
        if !in_block {
            return Ok(());
        }
        if let Some(iso) = modes.isolation {
            t.isolation = iso;
        }
        if let Some(ro) = modes.read_only {
            t.read_only = ro;
        }
        Ok(())
    }

    fn set(&mut self, name: &str, value: Option<&str>, local: bool) -> Result<String> {
        if name.eq_ignore_ascii_case("transaction_isolation") {
            let iso = match value.map(str::to_lowercase).as_deref() {
                Some("read committed" | "read uncommitted") => Isolation::ReadCommitted,
                Some("repeatable read") => Isolation::RepeatableRead,
                Some("serializable") => return Err(crate::sql::serializable_refused()),
                _ => {
                    return Err(Error::new(
                        ErrorKind::InvalidParameterValue,
                        "invalid value for parameter \"transaction_isolation\"",
                    ))
                }
            };
            if self.txn.is_some() {
                self.set_transaction(TxnModes { isolation: Some(iso), read_only: None })?;
            }
            return Ok("SET".into());
        }
        if name.eq_ignore_ascii_case("transaction_read_only") {
            let default = self.settings.default_read_only();
            let ro = match value {
                Some(v) => settings::parse_bool("transaction_read_only", v)?,
                None => default,
            };
            if self.txn.is_some() {
                self.set_transaction(TxnModes { isolation: None, read_only: Some(ro) })?;
            }
            return Ok("SET".into());
        }
        if local && self.block != Block::Explicit {
            // PostgreSQL: WARNING, and the setting has no effect outside a block.
            return Ok("SET".into());
        }
        if self.block == Block::Explicit && self.saved_settings.is_none() {
            self.saved_settings = Some(self.settings.clone());
        }
        if local {
            if self.session_settings.is_none() {
                self.session_settings = Some(self.settings.clone());
            }
        } else if let Some(s) = self.session_settings.as_mut() {
            s.set(name, value)?;
        }
        self.settings.set(name, value)?;
        Ok("SET".into())
    }

    /// CREATE TABLE, DROP TABLE, ALTER TABLE ADD PRIMARY KEY: each commits on its own
    /// through the WAL, then changes the live catalog.
    async fn ddl(&mut self, plan: &Plan) -> Result<String> {
        let engine = self.engine.clone();
        let _ddl = engine.ddl.lock().await;
        let catalog = &engine.catalog;
        match plan {
            Plan::CreateTable {
                schema,
                name,
                columns,
                primary_key,
                if_not_exists,
                checks,
                sequences,
                indexes: uniques,
                foreign_keys,
            } => {
                if indexes::relation_exists(&engine, schema, name) {
                    if *if_not_exists {
                        self.pending_notices.push((
                            "42P07",
                            format!("relation \"{name}\" already exists, skipping"),
                        ));
                        return Ok("CREATE TABLE".into());
                    }
                    return Err(Error::new(
                        ErrorKind::DuplicateTable,
                        format!("relation \"{name}\" already exists"),
                    ));
                }
                let mut def = TableDef {
                    id: catalog.allocate_id(),
                    oid: catalog.allocate_oid(),
                    schema: schema.clone(),
                    name: name.clone(),
                    columns: columns.clone(),
                    primary_key: primary_key.clone(),
                    checks: checks.clone(),
                    indexes: uniques.clone(),
                    foreign_keys: foreign_keys.clone(),
                };
                for (i, ix) in uniques.iter().enumerate() {
                    if indexes::relation_exists(&engine, schema, &ix.name)
                        || uniques[..i].iter().any(|o| o.name == ix.name)
                        || ix.name == *name
                    {
                        return Err(Error::new(
                            ErrorKind::DuplicateTable,
                            format!("relation \"{}\" already exists", ix.name),
                        ));
                    }
                }
                defaults::bind_defaults(&engine, &self.search_path(), &mut def, None)?;
                let owned = sequences::name_owned(&engine, &mut def, sequences);
                let mut writes = vec![WalWrite::CatalogPut {
                    key: table_key(schema, name),
                    value: def.encode(),
                }];
                writes.extend(owned.iter().map(Sequences::create_writes));
                engine.commit(&engine.begin(), writes).await?;
                let store = engine.storage.create(def.id);
                if let Err(e) = store.set_indexes(def.indexes.clone()).await? {
                    return Err(indexes::build_failed(&def, &e));
                }
                catalog.install(def);
                for s in owned {
                    engine.sequences.install(s);
                }
                Ok("CREATE TABLE".into())
            }
            Plan::DropTable { names, if_exists, cascade } => {
                let mut defs = Vec::new();
                for n in names {
                    let Some((schema, n)) = self.resolve_target(n, *if_exists)? else { continue };
                    match catalog.table(&schema, &n) {
                        Some(d) => {
                            if *cascade && !catalog.views_reading(&schema, &n).is_empty() {
                                return Err(Error::new(
                                    ErrorKind::FeatureNotSupported,
                                    "DROP TABLE … CASCADE of a table that a view reads is not supported yet",
                                ));
                            }
                            defs.push(d)
                        }
                        None if catalog.view(&schema, &n).is_some() => {
                            return Err(Error::new(
                                ErrorKind::WrongObjectType,
                                format!("\"{n}\" is not a table"),
                            )
                            .with_hint("Use DROP VIEW to remove a view."))
                        }
                        None if *if_exists => {
                            self.pending_notices
                                .push(("00000", format!("table \"{n}\" does not exist, skipping")));
                        }
                        None => {
                            return Err(Error::new(
                                ErrorKind::UndefinedTable,
                                format!("table \"{n}\" does not exist"),
                            ))
                        }
                    }
                }
                let gone = drop_tables(&engine, &self.search_path(), &defs, *cascade).await?;
                if !gone.is_empty() {
                    self.pending_notices.push(crate::sql::planner::cascade_notice(&gone));
                }
                Ok("DROP TABLE".into())
            }
            Plan::CreateView { def, or_replace, .. } => {
                self.create_view(&engine, def, *or_replace).await
            }
            Plan::DropView { names, if_exists } => {
                self.drop_views(&engine, names, *if_exists).await
            }
            Plan::CreateSchema { name, if_not_exists } => {
                self.create_schema(&engine, name, *if_not_exists).await
            }
            Plan::DropSchema { names, if_exists, cascade } => {
                self.drop_schemas(&engine, names, *if_exists, *cascade).await
            }
            Plan::AlterTable { table, if_exists, actions } => {
                self.alter_table(&engine, table, *if_exists, actions).await
            }
            Plan::CreateSequence { def, if_not_exists, .. } => {
                self.create_sequence(&engine, def, *if_not_exists).await
            }
            Plan::CreateIndex { schema, table, index, named, if_not_exists } => {
                self.create_index(&engine, schema, table, index, *named, *if_not_exists).await
            }
            Plan::DropIndex { names, if_exists } => {
                self.drop_indexes(&engine, names, *if_exists).await
            }
            Plan::DropSequence { names, if_exists } => {
                self.drop_sequences(&engine, names, *if_exists).await
            }
            _ => Err(Error::internal("not DDL")),
        }
    }
}

/// Drops tables `defs` (with the sequences they own) in one WAL commit: 2BP01 if a
/// view outside them reads one, or (without `cascade`) a foreign key of another table
/// references one. With `cascade` those keys go: the tables holding them move
/// (`session/alter.rs`) in the same commit, so that no statement checks a dropped
/// key. Returns what the cascade dropped (`constraint k on table c`), for the notice.
async fn drop_tables(
    engine: &Engine,
    path: &SearchPath,
    defs: &[Arc<TableDef>],
    cascade: bool,
) -> Result<Vec<String>> {
    if defs.is_empty() {
        return Ok(Vec::new());
    }
    let catalog = &engine.catalog;
    for d in defs {
        views::no_dependent_views(engine, path, &d.schema, &d.name, true)?;
    }
    if !cascade {
        crate::sql::foreign_keys::check_drop(catalog, defs, &|s, n| {
            schemas::shown(engine, path, s, n)
        })?;
    }
    let outside = crate::sql::foreign_keys::referencing_from_outside(catalog, defs);
    // Described while they exist: visibility on `path` may change with the drop.
    let gone: Vec<String> = outside
        .iter()
        .map(|(c, fk)| {
            let table = schemas::shown(engine, path, &c.schema, &c.name);
            format!("constraint {} on table {table}", fk.name)
        })
        .collect();
    let mut children: std::collections::BTreeMap<(String, String), TableDef> = Default::default();
    for (child, fk) in &outside {
        children
            .entry((child.schema.clone(), child.name.clone()))
            .or_insert_with(|| (**child).clone())
            .foreign_keys
            .retain(|k| k.name != fk.name);
    }
    let txn = engine.begin();
    let mut retired: Vec<Arc<TableStore>> = Vec::new();
    for d in defs {
        let store = engine.storage.table(d.id)?;
        if let Err(e) = store.retire(txn.id()).await {
            for s in &retired {
                TableStore::unretire(s).await;
            }
            return Err(e);
        }
        retired.push(store);
    }
    let children: Vec<TableDef> = children.into_values().collect();
    let related = match alter::retire_related(engine, &txn, &children).await {
        Ok(r) => r,
        Err(e) => {
            for s in &retired {
                s.unretire().await;
            }
            return Err(e);
        }
    };
    let mut writes = Vec::new();
    for d in defs {
        writes.push(WalWrite::CatalogDelete { key: table_key(&d.schema, &d.name) });
        writes.push(WalWrite::DropTable { table: d.id });
    }
    // DROP TABLE drops the sequences its SERIAL / identity columns own.
    let owned: Vec<_> =
        defs.iter().flat_map(|d| engine.sequences.owned_by(&d.schema, &d.name)).collect();
    writes.extend(owned.iter().map(|s| Sequences::retire(s)));
    if let Err(e) = alter::move_related(engine, &txn, &related, writes).await {
        for s in &retired {
            s.unretire().await;
        }
        for r in &related {
            r.store.unretire().await;
        }
        for s in &owned {
            Sequences::unretire(s);
        }
        return Err(e);
    }
    for d in defs {
        catalog.remove(&d.schema, &d.name);
        engine.storage.drop_table(d.id);
    }
    for r in &related {
        engine.storage.drop_table(r.old.id);
    }
    for s in &owned {
        engine.sequences.remove(&s.def.schema, &s.def.name);
    }
    Ok(gone)
}

fn no_savepoint(name: &str) -> Error {
    Error::new(
        ErrorKind::InvalidSavepointSpecification,
        format!("savepoint \"{name}\" does not exist"),
    )
}
