//! The session as the wire's [`Backend`]: simple and extended query, COPY, Sync.

use bytes::Bytes;
use std::sync::Arc as StdArc;

use super::*;

impl Session {
    /// Before a statement (not COMMIT/ROLLBACK/BEGIN): 25P02 in a failed block; true if
    /// it opens an implicit transaction (it is then the transaction's first statement
    /// and may be retried on 40001/40P01).
    fn begin_statement(&mut self) -> Result<bool> {
        let effects = self.block.step(Event::Statement);
        if effects.contains(&Effect::RefuseInFailedBlock) {
            return Err(Error::in_failed_transaction());
        }
        Ok(effects.contains(&Effect::OpenedImplicit))
    }

    /// PostgreSQL's rule for a failed block: a syntax error is reported as such;
    /// anything but COMMIT/ROLLBACK gets 25P02 before it is even analysed.
    fn failed_block_gate(&self, planned: Result<Planned>) -> Result<Planned> {
        if self.block != Block::Failed {
            return planned;
        }
        match planned {
            Err(e) if e.kind == ErrorKind::SyntaxError => Err(e),
            Ok(p) if p.plan.runs_in_failed_block() => Ok(p),
            _ => Err(Error::in_failed_transaction()),
        }
    }

    /// Sends the pending notices. A notice's text is its message and, after a first
    /// newline, its DETAIL (PostgreSQL's messages are one line; details may be several).
    fn flush_notices(&mut self, out: &mut Responses) {
        for (code, text) in self.pending_notices.drain(..) {
            match text.split_once('\n') {
                Some((msg, detail)) => out.notice(code, msg, Some(detail)),
                None => out.notice(code, &text, None),
            }
        }
    }

    /// Runs one statement of a simple Query (with retry of a lone implicit statement).
    async fn simple_statement(
        &mut self,
        text: &str,
        lone: bool,
        out: &mut Responses,
    ) -> Result<Flow> {
        let mut planned = self.failed_block_gate(plan_statement(
            text,
            &self.engine.catalog,
            &self.search_path(),
            &[],
        ));
        let mut attempt = 0;
        loop {
            let p = planned?;
            if p.plan.is_transaction_control() {
                let tag = self.control(&p.plan, out).await?;
                out.command_complete(&tag);
                return Ok(Flow::Done);
            }
            let implicit_start = self.begin_statement()?;
            match self.run(&p.plan, &[]).await {
                Ok(output) => {
                    self.flush_notices(out);
                    return self.write_output(&p.plan, output, &[], out);
                }
                Err(e) if retry::should_retry(&e, lone, implicit_start, attempt) => {
                    self.pending_notices.clear();
                    self.apply(Event::Retry, out).await?;
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    planned = plan_statement(text, &self.engine.catalog, &self.search_path(), &[]);
                }
                Err(e) => {
                    self.flush_notices(out);
                    return Err(e);
                }
            }
        }
    }

    fn write_output(
        &mut self,
        plan: &Plan,
        output: Output,
        formats: &[i16],
        out: &mut Responses,
    ) -> Result<Flow> {
        match output {
            Output::Rows(cols, rows) => {
                out.row_description(&fields(&cols, formats));
                let n = write_rows(out, &cols, rows.into_iter(), formats, self.settings.zone())?;
                out.command_complete(&rows_tag(plan, n));
                Ok(Flow::Done)
            }
            Output::Tag(tag) => {
                out.command_complete(&tag);
                Ok(Flow::Done)
            }
            Output::CopyIn(n, binary) => {
                out.copy_in_response(n, binary);
                Ok(Flow::CopyIn)
            }
            Output::Empty => {
                out.empty_query();
                Ok(Flow::Done)
            }
        }
    }

    /// Ends an implicit transaction (end of a Query string, or Sync): commit if it
    /// succeeded, forget it if it failed. Then, just before the ReadyForQuery that
    /// follows, a ParameterStatus for each reported parameter whose value changed (by
    /// SET, RESET, or a rollback undoing a SET), as PostgreSQL's
    /// `ReportChangedGUCOptions` does.
    async fn end_implicit(&mut self, out: &mut Responses) {
        if let Err(e) = self.apply(Event::End, out).await {
            out.error(&e);
        }
        if self.reported_at.as_ref().is_some_and(|t| self.settings.unchanged_since(t)) {
            return;
        }
        let changed = self.settings.changed_reports(&self.reported);
        if !changed.is_empty() {
            for (name, value) in &changed {
                out.parameter_status(name, value);
            }
            self.reported = self.settings.reported();
        }
        self.reported_at = Some(self.settings.token());
    }

    fn on_error(&mut self) {
        self.pending_notices.clear();
        self.copy = None;
        // With a savepoint open, the failed block keeps its transaction for ROLLBACK TO.
        let keep = self.txn.as_ref().is_some_and(|t| !t.savepoints.is_empty());
        let event = if keep { Event::FailedInSavepoint } else { Event::Failed };
        for effect in self.block.step(event) {
            if let Effect::AbortTxn { restore_settings } = effect {
                self.abort_txn_settings(restore_settings);
            }
        }
    }

    fn statement(&self, name: &str) -> Result<StdArc<Prepared>> {
        self.statements.get(name).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidSqlStatementName,
                format!("prepared statement \"{name}\" does not exist"),
            )
        })
    }

    fn portal(&mut self, name: &str) -> Result<&mut Portal> {
        self.portals.get_mut(name).ok_or_else(|| {
            Error::new(ErrorKind::InvalidCursorName, format!("portal \"{name}\" does not exist"))
        })
    }

    async fn copy_rows(&mut self, rows: Vec<Vec<Value>>) -> Result<()> {
        let Some(copy) = self.copy.as_ref() else { return Ok(()) };
        let table = copy.table.clone();
        let engine = self.engine.clone();
        let store = engine.storage.table(table.id)?;
        let pid = self.pid;
        let cancel = self.cancel.clone();
        let lock_timeout = self.settings.timeout("lock_timeout");
        let txn = self.ensure_txn();
        let (view, _g) = txn.statement_view(&engine);
        let horizon = engine.watermark.horizon();
        let mut w = txn.write_ctx(&engine, view, horizon, pid, &cancel, lock_timeout);
        if table.foreign_keys.is_empty() {
            return dml::insert_rows(&mut w, &table, &store, rows).await.map(|_| ());
        }
        dml::insert_rows(&mut w, &table, &store, rows.clone()).await?;
        for row in &rows {
            crate::sql::foreign_keys::check_references(&mut w, &engine.catalog, &table, row, None)
                .await?;
        }
        Ok(())
    }
}

/// The command tag of a statement that returned `n` rows (`SHOW` for SHOW).
fn rows_tag(plan: &Plan, n: usize) -> String {
    match plan {
        Plan::Show(_) => "SHOW".to_owned(),
        Plan::Explain(_) => "EXPLAIN".to_owned(),
        Plan::Insert(_) | Plan::Update(_) | Plan::Delete(_) => tag_for(plan, n as u64),
        _ => format!("SELECT {n}"),
    }
}

/// The extended-protocol messages. Their wrappers in the `Backend` impl turn any error
/// into a failed transaction (PostgreSQL: an error in Parse, Bind, Describe or Execute
/// aborts the transaction; the implicit one up to Sync is rolled back).
impl Session {
    /// Marks the transaction failed when `r` is an error.
    fn fail_on<T>(&mut self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.on_error();
        }
        r
    }

    async fn parse_message(&mut self, name: &str, sql: &str, param_types: &[u32]) -> Result<()> {
        if !name.is_empty() && self.statements.contains_key(name) {
            return Err(Error::new(
                ErrorKind::DuplicatePreparedStatement,
                format!("prepared statement \"{name}\" already exists"),
            ));
        }
        let pieces = split(sql);
        let planned = match pieces.as_slice() {
            [] => Planned { plan: Plan::Empty, param_types: Vec::new() },
            [one] => {
                let path = self.search_path();
                self.failed_block_gate(plan_statement(
                    one,
                    &self.engine.catalog,
                    &path,
                    param_types,
                ))?
            }
            _ => {
                return Err(Error::syntax(
                    "cannot insert multiple commands into a prepared statement",
                ))
            }
        };
        let stmt = Prepared {
            sql: sql.to_owned(),
            planned: StdArc::new(planned),
            catalog_version: self.engine.catalog.version(),
            path: self.search_path(),
            settings_at: self.settings.token(),
            shown: sql.to_owned(),
            from_sql: false,
            prepare_time: crate::sql::functions::now_micros(),
        };
        StdArc::make_mut(&mut self.statements).insert(name.to_owned(), StdArc::new(stmt));
        Ok(())
    }

    async fn bind_message(
        &mut self,
        portal: &str,
        statement: &str,
        param_formats: &[i16],
        params: &[Option<Bytes>],
        result_formats: &[i16],
    ) -> Result<()> {
        let stmt = self.statement(statement)?;
        if self.block == Block::Failed && !stmt.planned.plan.runs_in_failed_block() {
            return Err(Error::in_failed_transaction());
        }
        let types = &stmt.planned.param_types;
        if params.len() != types.len() {
            return Err(Error::new(
                ErrorKind::ProtocolViolation,
                format!(
                    "bind message supplies {} parameters, but prepared statement \"{}\" requires {}",
                    params.len(),
                    statement,
                    types.len()
                ),
            ));
        }
        let mut values = Vec::with_capacity(params.len());
        for (i, (p, ty)) in params.iter().zip(types).enumerate() {
            values.push(match p {
                None => Value::Null,
                Some(bytes) => {
                    if format_of(param_formats, i) == 1 {
                        parse_binary(bytes, ty)?
                    } else {
                        let text = std::str::from_utf8(bytes).map_err(|_| {
                            Error::new(
                                ErrorKind::InvalidTextRepresentation,
                                "invalid byte sequence for encoding \"UTF8\"",
                            )
                        })?;
                        parse_text(text, ty, self.settings.zone())?
                    }
                }
            });
        }
        let plan = self.replan(&stmt)?;
        self.portals.insert(
            portal.to_owned(),
            Portal {
                stmt,
                params: values,
                formats: result_formats.to_vec(),
                pending: None,
                exhausted: false,
                done: false,
                plan: Some(plan),
            },
        );
        Ok(())
    }

    fn describe_statement_message(&mut self, name: &str, out: &mut Responses) -> Result<()> {
        let stmt = self.statement(name)?;
        let oids: Vec<u32> = stmt.planned.param_types.iter().map(DataType::oid).collect();
        out.parameter_description(&oids);
        match self.columns_of(&stmt.planned.plan) {
            Some(cols) => out.row_description(&fields(&cols, &[])),
            None => out.no_data(),
        }
        Ok(())
    }

    fn describe_portal_message(&mut self, name: &str, out: &mut Responses) -> Result<()> {
        let p = self.portal(name)?;
        let plan = p.plan.clone().unwrap_or_else(|| p.stmt.planned.clone());
        let formats = p.formats.clone();
        match self.columns_of(&plan.plan) {
            Some(cols) => out.row_description(&fields(&cols, &formats)),
            None => out.no_data(),
        }
        Ok(())
    }

    async fn execute_message(
        &mut self,
        portal: &str,
        max_rows: usize,
        out: &mut Responses,
    ) -> Result<Flow> {
        if self.block == Block::Failed {
            let p = self.portal(portal)?;
            let is_end = p.plan.as_deref().is_some_and(|x| x.plan.runs_in_failed_block());
            if !is_end {
                return Err(Error::in_failed_transaction());
            }
        }
        // Continue a suspended portal.
        let zone = self.settings.zone();
        let (plan, params, formats) = {
            let p = self.portal(portal)?;
            if p.exhausted {
                out.command_complete("SELECT 0");
                return Ok(Flow::Done);
            }
            if p.done {
                return Err(Error::new(
                    ErrorKind::ObjectNotInPrerequisiteState,
                    format!("portal \"{portal}\" cannot be run"),
                ));
            }
            if let Some(rest) = p.pending.as_mut() {
                let cols = p.plan.as_ref().and_then(|x| x.plan.columns()).unwrap_or_default();
                let formats = p.formats.clone();
                let take = if max_rows == 0 { usize::MAX } else { max_rows };
                let chunk: Vec<Vec<Value>> = rest.by_ref().take(take).collect();
                let more = rest.len() > 0;
                let n = write_rows(out, &cols, chunk.into_iter(), &formats, zone)?;
                if more {
                    out.portal_suspended();
                    return Ok(Flow::Suspended);
                }
                p.pending = None;
                p.exhausted = true;
                out.command_complete(&format!("SELECT {n}"));
                return Ok(Flow::Done);
            }
            let plan = p.plan.clone().unwrap_or_else(|| p.stmt.planned.clone());
            (plan, p.params.clone(), p.formats.clone())
        };
        if plan.plan.is_transaction_control() {
            let tag = self.control(&plan.plan, out).await?;
            out.command_complete(&tag);
            return Ok(Flow::Done);
        }
        let lone = self.begin_statement()?;
        let mut attempt = 0;
        let mut plan = plan;
        let output = loop {
            match self.run(&plan.plan, &params).await {
                Ok(o) => break o,
                // An Execute is one statement; `lone`: it opened its implicit transaction.
                Err(e) if retry::should_retry(&e, true, lone, attempt) => {
                    self.pending_notices.clear();
                    self.apply(Event::Retry, out).await?;
                    self.begin_statement()?;
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    let stmt = self.portal(portal)?.stmt.clone();
                    plan = self.replan(&stmt)?;
                }
                Err(e) => {
                    self.flush_notices(out);
                    return Err(e);
                }
            }
        };
        self.flush_notices(out);
        match output {
            Output::Rows(cols, rows) if max_rows > 0 && rows.len() > max_rows => {
                let mut it = rows.into_iter();
                let first: Vec<Vec<Value>> = it.by_ref().take(max_rows).collect();
                write_rows(out, &cols, first.into_iter(), &formats, self.settings.zone())?;
                out.portal_suspended();
                self.portal(portal)?.pending = Some(it);
                Ok(Flow::Suspended)
            }
            // Execute does not send RowDescription (Describe does).
            Output::Rows(cols, rows) => {
                let n = write_rows(out, &cols, rows.into_iter(), &formats, self.settings.zone())?;
                if let Ok(p) = self.portal(portal) {
                    p.exhausted = true;
                }
                out.command_complete(&rows_tag(&plan.plan, n));
                Ok(Flow::Done)
            }
            other => {
                if let Ok(p) = self.portal(portal) {
                    p.done = true;
                }
                self.write_output(&plan.plan, other, &formats, out)
            }
        }
    }
}

impl Backend for Session {
    fn startup(&mut self, params: &[(String, String)]) -> Result<Vec<(String, String)>> {
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        self.user = get("user").unwrap_or_else(|| "postgres".into());
        self.database = get("database").unwrap_or_else(|| self.user.clone());
        if self.database != "postgres" {
            return Err(Error::new(
                ErrorKind::UndefinedObject,
                format!("database \"{}\" does not exist", self.database),
            ));
        }
        self.settings = Settings::new(&self.user, &get("application_name").unwrap_or_default());
        for (k, v) in params {
            if matches!(
                k.as_str(),
                "user" | "database" | "application_name" | "replication" | "options"
            ) {
                continue;
            }
            // Start-up parameters are SETs (client_encoding, DateStyle, …).
            self.settings.set(k, Some(v))?;
        }
        self.startup_settings = self.settings.clone();
        self.reported = self.settings.reported();
        Ok(self.reported.clone())
    }

    async fn query(&mut self, sql: &str, out: &mut Responses) -> Flow {
        let stmts = split(sql);
        if stmts.is_empty() {
            out.empty_query();
            return Flow::Done;
        }
        let lone = stmts.len() == 1;
        for text in stmts {
            match self.simple_statement(text, lone, out).await {
                Ok(Flow::CopyIn) => return Flow::CopyIn,
                Ok(_) => {}
                Err(e) => {
                    // Positions count from the start of the whole Query string.
                    let offset = text.as_ptr() as usize - sql.as_ptr() as usize;
                    let chars_before = sql.get(..offset).map_or(0, |p| p.chars().count()) as u32;
                    out.error(&e.shifted(chars_before));
                    self.on_error();
                    break;
                }
            }
        }
        self.end_implicit(out).await;
        Flow::Done
    }

    async fn parse(&mut self, name: &str, sql: &str, param_types: &[u32]) -> Result<()> {
        let r = self.parse_message(name, sql, param_types).await;
        self.fail_on(r)
    }

    async fn bind(
        &mut self,
        portal: &str,
        statement: &str,
        param_formats: &[i16],
        params: &[Option<Bytes>],
        result_formats: &[i16],
    ) -> Result<()> {
        let r = self.bind_message(portal, statement, param_formats, params, result_formats).await;
        self.fail_on(r)
    }

    fn describe_statement(&mut self, name: &str, out: &mut Responses) -> Result<()> {
        let r = self.describe_statement_message(name, out);
        self.fail_on(r)
    }

    fn describe_portal(&mut self, name: &str, out: &mut Responses) -> Result<()> {
        let r = self.describe_portal_message(name, out);
        self.fail_on(r)
    }

    async fn execute(
        &mut self,
        portal: &str,
        max_rows: usize,
        out: &mut Responses,
    ) -> Result<Flow> {
        let r = self.execute_message(portal, max_rows, out).await;
        self.fail_on(r)
    }

    fn close_statement(&mut self, name: &str) {
        StdArc::make_mut(&mut self.statements).remove(name);
    }

    fn close_portal(&mut self, name: &str) {
        self.portals.remove(name);
    }

    async fn sync(&mut self, out: &mut Responses) {
        self.portals.remove("");
        self.end_implicit(out).await;
    }

    async fn copy_data(&mut self, data: &[u8]) -> Result<()> {
        let rows = match self.copy.as_mut() {
            Some(c) => {
                let rows = c.feed(data)?;
                c.ready.extend(rows);
                if c.ready.len() < copy::BATCH {
                    return Ok(());
                }
                std::mem::take(&mut c.ready)
            }
            None => return Err(Error::new(ErrorKind::ProtocolViolation, "unexpected CopyData")),
        };
        self.copy_rows(rows).await
    }

    async fn copy_done(&mut self, out: &mut Responses) {
        let last = match self.copy.as_mut().map(|c| c.finish()) {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                out.error(&e);
                self.on_error();
                self.end_implicit(out).await;
                return;
            }
            None => None,
        };
        let mut rest = self.copy.as_mut().map(|c| std::mem::take(&mut c.ready)).unwrap_or_default();
        rest.extend(last);
        let result = self.copy_rows(rest).await;
        match result {
            Ok(()) => {
                let n = self.copy.take().map(|c| c.rows).unwrap_or(0);
                out.command_complete(&format!("COPY {n}"));
            }
            Err(e) => {
                out.error(&e);
                self.on_error();
            }
        }
        self.end_implicit(out).await;
    }

    async fn copy_fail(&mut self, message: &str, out: &mut Responses) {
        let e = Error::new(ErrorKind::QueryCanceled, format!("COPY from stdin failed: {message}"));
        out.error(&e);
        self.on_error();
        self.end_implicit(out).await;
    }

    fn transaction_status(&self) -> TxnStatus {
        self.block.status()
    }

    async fn terminate(&mut self) {
        self.copy = None;
        self.abort_txn_settings(true);
        self.block = Block::None;
    }
}

/// Makes a [`Session`] per connection.
#[derive(Debug, Clone)]
pub struct SessionFactory {
    /// The engine every session shares.
    pub engine: Arc<Engine>,
}

impl crate::wire::BackendFactory for SessionFactory {
    type Backend = Session;

    fn session(&self, pid: i32, cancel: CancelSignal) -> Session {
        Session::new(self.engine.clone(), pid, cancel)
    }
}
