//! Statements about the session itself: SQL-level `PREPARE` / `EXECUTE` /
//! `DEALLOCATE`, `DISCARD ALL`, `CLOSE ALL`, `UNLISTEN *`, and the advisory-lock
//! functions (see `sql::prepare` and `sql::advisory` for how they are parsed).
//!
//! The statements of `PREPARE` live in the same map as the protocol's named
//! statements (PostgreSQL has one namespace): `DEALLOCATE ALL` and `DISCARD ALL` drop
//! both.
//!
//! Advisory locks, in the LockManager:
//!
//! ```text
//!  session-level   owner session_owner(pid)   counted here per (target, shared);
//!                                             acquired on the first hold, released
//!                                             on the last, all at disconnect
//!  xact-level      owner the transaction      released with its ReleaseAll
//! ```
//!
//! A session holding a key in both shared and exclusive mode holds it in the lock
//! table once, in the stronger mode, until both counts reach zero (PostgreSQL keeps
//! the two holds apart; applications do not mix them on one key).

use std::future::Future;
use std::pin::Pin;

use super::*;
use crate::lock::{session_owner, Acquired, LockMode, LockTarget, WaitPolicy};
use crate::sql::advisory::{key_of, AdvisoryCall, AdvisoryOp};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

fn canceled() -> Error {
    Error::new(ErrorKind::QueryCanceled, "canceling statement due to user request")
}

impl Session {
    /// Runs one of the statements above.
    pub(super) async fn session_statement(
        &mut self,
        plan: &Plan,
        params: &[Value],
    ) -> Result<Output> {
        match plan {
            Plan::Prepare { name, sql, planned, source } => {
                if self.statements.contains_key(name) {
                    return Err(Error::new(
                        ErrorKind::DuplicatePreparedStatement,
                        format!("prepared statement \"{name}\" already exists"),
                    ));
                }
                let stmt = Prepared {
                    sql: sql.clone(),
                    planned: Arc::new((**planned).clone()),
                    catalog_version: self.engine.catalog.version(),
                    path: self.search_path(),
                    settings_at: self.settings.token(),
                    shown: source.clone(),
                    from_sql: true,
                    prepare_time: crate::sql::functions::now_micros(),
                };
                Arc::make_mut(&mut self.statements).insert(name.clone(), Arc::new(stmt));
                Ok(Output::Tag("PREPARE".into()))
            }
            Plan::Execute { name, args } => self.execute_prepared(name, args, params).await,
            Plan::Deallocate(None) => {
                Arc::make_mut(&mut self.statements).clear();
                Ok(Output::Tag("DEALLOCATE ALL".into()))
            }
            Plan::Deallocate(Some(name)) => {
                match Arc::make_mut(&mut self.statements).remove(name) {
                    Some(_) => Ok(Output::Tag("DEALLOCATE".into())),
                    None => Err(Error::new(
                        ErrorKind::InvalidSqlStatementName,
                        format!("prepared statement \"{name}\" does not exist"),
                    )),
                }
            }
            Plan::DiscardAll => {
                if self.block == Block::Explicit {
                    return Err(Error::new(
                        ErrorKind::ActiveSqlTransaction,
                        "DISCARD ALL cannot run inside a transaction block",
                    ));
                }
                Arc::make_mut(&mut self.statements).clear();
                self.portals.clear();
                self.unlock_all();
                self.settings = self.startup_settings.clone();
                Ok(Output::Tag("DISCARD ALL".into()))
            }
            Plan::CloseCursor(None) => Ok(Output::Tag("CLOSE CURSOR ALL".into())),
            Plan::CloseCursor(Some(name)) => Err(Error::new(
                ErrorKind::InvalidCursorName,
                format!("cursor \"{name}\" does not exist"),
            )),
            Plan::Unlisten => Ok(Output::Tag("UNLISTEN".into())),
            Plan::Advisory(call) => self.advisory_call(call, params).await,
            Plan::SetConfig(call) => {
                let values = self.one_row(&Plan::Query(call.args.clone()), params).await?;
                let (name, value, local) = match values.as_slice() {
                    [Value::Text(n), v, l] => (
                        n.clone(),
                        match v {
                            Value::Text(s) => Some(s.clone()),
                            _ => None,
                        },
                        matches!(l, Value::Bool(true)),
                    ),
                    _ => {
                        return Err(Error::new(
                            ErrorKind::NullValueNotAllowed,
                            "SET requires parameter name",
                        ))
                    }
                };
                self.set(&name, value.as_deref(), local)?;
                let now = match (&value, local && self.block != super::Block::Explicit) {
                    (Some(v), true) => v.clone(),
                    _ => self.settings.get(&name)?,
                };
                Ok(Output::Rows(vec![call.column.clone()], vec![vec![Value::Text(now)]]))
            }
            _ => Err(Error::internal("not a session statement")),
        }
    }

    /// Boxed, because `run` may come back here (EXECUTE of EXECUTE is refused at
    /// PREPARE, but the compiler cannot know).
    fn run_boxed<'a>(&'a mut self, plan: &'a Plan, params: &'a [Value]) -> Boxed<'a, Output> {
        Box::pin(self.run(plan, params))
    }

    /// Evaluates `SELECT expr, …` to one row.
    async fn one_row(&mut self, plan: &Plan, params: &[Value]) -> Result<Vec<Value>> {
        match self.run_boxed(plan, params).await? {
            Output::Rows(_, mut rows) if rows.len() == 1 => Ok(rows.remove(0)),
            _ => Err(Error::internal("argument query did not give one row")),
        }
    }

    async fn execute_prepared(
        &mut self,
        name: &str,
        args: &[String],
        params: &[Value],
    ) -> Result<Output> {
        let stmt = self.statements.get(name).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidSqlStatementName,
                format!("prepared statement \"{name}\" does not exist"),
            )
        })?;
        let types = stmt.planned.param_types.clone();
        if types.len() != args.len() {
            return Err(Error::new(
                ErrorKind::SyntaxError,
                format!("wrong number of parameters for prepared statement \"{name}\""),
            )
            .with_detail(format!(
                "Expected {} parameters but got {}.",
                types.len(),
                args.len()
            )));
        }
        let values = if args.is_empty() {
            Vec::new()
        } else {
            let list: Vec<String> = args
                .iter()
                .zip(&types)
                .map(|(a, t)| format!("CAST(({a}) AS {})", t.display_name()))
                .collect();
            let oids: Vec<u32> = std::iter::repeat_n(0, params.len()).collect();
            let argq = plan_statement(
                &format!("SELECT {}", list.join(", ")),
                &self.engine.catalog,
                &self.search_path(),
                &oids,
            )?;
            self.one_row(&argq.plan, params).await?
        };
        let planned = self.replan(&stmt)?;
        self.run_boxed(&planned.plan, &values).await
    }

    /// The lock table owner and target of a call with evaluated `values`.
    fn advisory_target(call: &AdvisoryCall, values: &[Value]) -> Result<Option<LockTarget>> {
        if values.iter().any(Value::is_null) {
            return Ok(None); // strict functions: NULL in, NULL out
        }
        let key = key_of(call.pair, values)
            .ok_or_else(|| Error::internal("advisory lock key of an unexpected type"))?;
        Ok(Some(LockTarget::Advisory { pair: call.pair, key }))
    }

    async fn advisory_call(&mut self, call: &AdvisoryCall, params: &[Value]) -> Result<Output> {
        let values = match &call.args {
            Some(q) => self.one_row(&Plan::Query(q.clone()), params).await?,
            None => Vec::new(),
        };
        let result = match call.op {
            AdvisoryOp::UnlockAll => {
                self.unlock_all();
                Value::Text(String::new())
            }
            _ => match Self::advisory_target(call, &values)? {
                None => Value::Null,
                Some(target) => self.advisory_on(call, target).await?,
            },
        };
        Ok(Output::Rows(vec![call.column.clone()], vec![vec![result]]))
    }

    async fn advisory_on(&mut self, call: &AdvisoryCall, target: LockTarget) -> Result<Value> {
        let mode = if call.shared { LockMode::Shared } else { LockMode::Exclusive };
        let hold = (target.clone(), call.shared);
        if call.op == AdvisoryOp::Unlock {
            let Some(n) = self.advisory.get_mut(&hold) else {
                self.pending_notices
                    .push(("01000", format!("you don't own a lock of type {}", mode.pg_name())));
                return Ok(Value::Bool(false));
            };
            *n -= 1;
            if *n == 0 {
                self.advisory.remove(&hold);
                if !self.advisory.contains_key(&(target.clone(), !call.shared)) {
                    self.engine.locks.release(session_owner(self.pid), target);
                }
            }
            return Ok(Value::Bool(true));
        }
        let wait =
            if call.op == AdvisoryOp::TryLock { WaitPolicy::SkipLocked } else { WaitPolicy::Block };
        let owner = if call.xact {
            let t = self.ensure_txn();
            t.other_locks = true; // its ReleaseAll at COMMIT/ROLLBACK frees the lock
            t.top.id()
        } else if let Some(n) = self.advisory.get_mut(&hold) {
            *n += 1; // already held by this session: stack another hold
            return Ok(if call.op == AdvisoryOp::TryLock {
                Value::Bool(true)
            } else {
                Value::Text(String::new())
            });
        } else {
            session_owner(self.pid)
        };
        let locks = self.engine.locks.clone();
        let acquire = locks.acquire(owner, self.pid, target.clone(), mode, wait);
        // [session] waits / [client] CancelRequest: the wait ends with 57014. A grant
        // racing the cancel is undone by the Release queued behind the CancelWait
        // (a session-level hold), or by the transaction's ReleaseAll (xact-level).
        let got = tokio::select! {
            r = acquire => r?,
            _ = self.cancel.cancelled() => {
                locks.cancel_wait(owner);
                if !call.xact {
                    locks.release(owner, target);
                }
                return Err(canceled());
            }
        };
        let granted = got == Acquired::Granted;
        if granted && !call.xact {
            self.advisory.insert(hold, 1);
        }
        Ok(match call.op {
            AdvisoryOp::TryLock => Value::Bool(granted),
            _ => Value::Text(String::new()),
        })
    }

    /// Output columns of `plan` for Describe: an EXECUTE has its statement's.
    pub(super) fn columns_of(&self, plan: &Plan) -> Option<Vec<OutCol>> {
        match plan {
            Plan::Execute { name, .. } => self.statements.get(name)?.planned.plan.columns(),
            other => other.columns(),
        }
    }

    /// Releases every session-level advisory lock (`pg_advisory_unlock_all()`,
    /// `DISCARD ALL`).
    pub(super) fn unlock_all(&mut self) {
        if !self.advisory.is_empty() {
            self.advisory.clear();
            self.engine.locks.release_all(session_owner(self.pid));
        }
    }
}
