//! Advisory locks: `pg_advisory_lock`, `pg_try_advisory_lock`, `pg_advisory_unlock`,
//! `pg_advisory_unlock_all`, their `_shared` forms and the transaction-scoped
//! `pg_advisory_xact_lock` / `pg_try_advisory_xact_lock`, as real locks in the
//! LockManager (`LockTarget::Advisory`).
//!
//! ```text
//!  SELECT pg_advisory_lock(42)        ─▶ Plan::Advisory(AdvisoryCall { Lock, args })
//!     session: args query → key 42 ─▶ LockClient::acquire(session_owner(pid),
//!                                        Advisory { key: 42 }, Exclusive, Block)
//!  SELECT pg_advisory_xact_lock(42)   ─▶ same, owned by the transaction: released by
//!                                        its ReleaseAll at COMMIT/ROLLBACK
//!  disconnect                         ─▶ ReleaseAll(session_owner(pid))
//! ```
//!
//! Session-level locks stack as in PostgreSQL: locking a key twice needs two unlocks.
//! The session counts its holds; the LockManager sees the first acquire and the last
//! release.
//!
//! Shortcut: the calls are recognised only as the whole of a `SELECT` without FROM
//! (`SELECT pg_advisory_lock($1)`), which is how drivers and applications call them;
//! anywhere else the functions are unknown. Their result type is reported as `text`
//! for the `void` ones (the value is the empty string, as void's output is).

use sqlparser::ast::{
    Expr as AstExpr, FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem, SetExpr,
    Statement,
};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::types::DataType;

use super::parse::{plan_statement, Planned};
use super::plan::{OutCol, Plan, QueryPlan};

/// What an advisory function does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvisoryOp {
    /// Wait for the lock (returns void).
    Lock,
    /// Take it if free (returns bool).
    TryLock,
    /// Give one hold back (returns bool; false with a WARNING if not held).
    Unlock,
    /// Give back every session-level hold (returns void).
    UnlockAll,
}

/// One call, planned.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryCall {
    /// What it does.
    pub op: AdvisoryOp,
    /// The `_shared` form.
    pub shared: bool,
    /// The `_xact_` form: held until the transaction ends.
    pub xact: bool,
    /// The two-int4 form.
    pub pair: bool,
    /// Evaluates the key argument(s) (None for `pg_advisory_unlock_all()`).
    pub args: Option<QueryPlan>,
    /// The result column.
    pub column: OutCol,
}

impl AdvisoryCall {
    /// The result type: bool for try/unlock, void (reported as text) otherwise.
    pub fn returns_bool(&self) -> bool {
        matches!(self.op, AdvisoryOp::TryLock | AdvisoryOp::Unlock)
    }
}

/// `(op, shared, xact)` of an advisory function name.
fn classify(name: &str) -> Option<(AdvisoryOp, bool, bool)> {
    let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
    Some(match name {
        "pg_advisory_lock" => (AdvisoryOp::Lock, false, false),
        "pg_advisory_lock_shared" => (AdvisoryOp::Lock, true, false),
        "pg_try_advisory_lock" => (AdvisoryOp::TryLock, false, false),
        "pg_try_advisory_lock_shared" => (AdvisoryOp::TryLock, true, false),
        "pg_advisory_unlock" => (AdvisoryOp::Unlock, false, false),
        "pg_advisory_unlock_shared" => (AdvisoryOp::Unlock, true, false),
        "pg_advisory_unlock_all" => (AdvisoryOp::UnlockAll, false, false),
        "pg_advisory_xact_lock" => (AdvisoryOp::Lock, false, true),
        "pg_advisory_xact_lock_shared" => (AdvisoryOp::Lock, true, true),
        "pg_try_advisory_xact_lock" => (AdvisoryOp::TryLock, false, true),
        "pg_try_advisory_xact_lock_shared" => (AdvisoryOp::TryLock, true, true),
        _ => return None,
    })
}

/// Plans `stmt` as an advisory call if it is `SELECT advisory_fn(args) [AS alias]`
/// alone; `None` for any other statement.
pub fn plan_call(
    stmt: &Statement,
    catalog: &Catalog,
    path: &crate::catalog::SearchPath,
    declared: &[u32],
) -> Result<Option<Planned>> {
    let Statement::Query(q) = stmt else { return Ok(None) };
    let SetExpr::Select(s) = q.body.as_ref() else { return Ok(None) };
    if !s.from.is_empty() || s.projection.len() != 1 || s.selection.is_some() {
        return Ok(None);
    }
    let (expr, alias) = match &s.projection[0] {
        SelectItem::UnnamedExpr(e) => (e, None),
        SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value.clone())),
        _ => return Ok(None),
    };
    let AstExpr::Function(f) = expr else { return Ok(None) };
    let name = f.name.to_string().to_lowercase();
    let Some((op, shared, xact)) = classify(&name) else { return Ok(None) };
    let args: Vec<String> = match &f.args {
        FunctionArguments::None => Vec::new(),
        FunctionArguments::List(l) => l
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e.to_string()),
                _ => Err(Error::unsupported(format!("this argument form of {name}"))),
            })
            .collect::<Result<_>>()?,
        FunctionArguments::Subquery(_) => {
            return Err(Error::unsupported(format!("this argument form of {name}")))
        }
    };
    let short = name.strip_prefix("pg_catalog.").unwrap_or(&name).to_owned();
    let arity_ok = match op {
        AdvisoryOp::UnlockAll => args.is_empty(),
        _ => args.len() == 1 || args.len() == 2,
    };
    if !arity_ok {
        let kinds = vec!["unknown"; args.len()].join(", ");
        return Err(Error::new(
            crate::error::ErrorKind::UndefinedFunction,
            format!("function {short}({kinds}) does not exist"),
        )
        .with_hint(
            "No function matches the given name and argument types. You might need to add explicit type casts.",
        ));
    }
    let pair = args.len() == 2;
    let arg_plan = if args.is_empty() {
        (None, Vec::new())
    } else {
        let ty = if pair { "integer" } else { "bigint" };
        let list: Vec<String> = args.iter().map(|a| format!("CAST(({a}) AS {ty})")).collect();
        let planned =
            plan_statement(&format!("SELECT {}", list.join(", ")), catalog, path, declared)?;
        match planned.plan {
            Plan::Query(qp) => (Some(qp), planned.param_types),
            _ => return Err(Error::internal("advisory lock arguments did not plan as a query")),
        }
    };
    let ret = match op {
        AdvisoryOp::TryLock | AdvisoryOp::Unlock => DataType::Bool,
        _ => DataType::Text,
    };
    let column = OutCol { name: alias.unwrap_or(short), ty: ret, table_oid: 0, column: 0 };
    let call = AdvisoryCall { op, shared, xact, pair, args: arg_plan.0, column };
    Ok(Some(Planned { plan: Plan::Advisory(call), param_types: arg_plan.1 }))
}

/// The lock key of evaluated arguments: one bigint, or two int4s packed.
pub fn key_of(pair: bool, values: &[crate::types::Value]) -> Option<i64> {
    use crate::types::Value;
    match (pair, values) {
        (false, [Value::Int8(k)]) => Some(*k),
        (true, [Value::Int4(a), Value::Int4(b)]) => {
            Some((i64::from(*a) << 32) | i64::from(*b as u32))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Value;

    #[test]
    fn names_and_keys() {
        assert_eq!(
            classify("pg_catalog.pg_try_advisory_xact_lock"),
            Some((AdvisoryOp::TryLock, false, true))
        );
        assert_eq!(classify("pg_advisory_locks"), None);
        assert_eq!(key_of(false, &[Value::Int8(-5)]), Some(-5));
        assert_eq!(key_of(true, &[Value::Int4(1), Value::Int4(-1)]), Some((1 << 32) | 0xffff_ffff));
        assert_eq!(key_of(true, &[Value::Int8(1)]), None);
    }
}
