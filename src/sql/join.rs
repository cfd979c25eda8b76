//! Joining two materialised inputs: nested loops, or a hash join on equality keys.
//!
//! ```text
//!   left rows ──┐                      ┌── build: hash the smaller side on its keys
//!               ├─ candidate pairs ────┤
//!   right rows ─┘   (all pairs, or     └── probe: look up each row of the other side
//!                    equal-key pairs)
//!        │
//!        ▼ ON checked on every candidate (the keys only narrow the pairs down)
//!   matched pairs ++ NULL-extended unmatched rows (LEFT: left ones, RIGHT: right
//!   ones, FULL: both)
//! ```
//!
//! The planner gives equality keys only where both sides have the same type and that
//! type's key encoding makes equal values equal bytes (integers widened to int8,
//! text-like types as text, booleans, dates, timestamps), so hashing the encoded key
//! finds exactly the pairs `=` accepts; a NULL key matches nothing, as `=` does.
//! Sans-IO: rows in, rows out; the executor reads the inputs.

use rustc_hash::FxHashMap;

use crate::error::Result;
use crate::types::{encode_key, DataType, Value};

use super::expr::{EvalCtx, Expr};
use super::plan::JoinKind;

type Row = Vec<Value>;

/// Joins `left` and `right`: output rows are left columns ++ right columns.
/// `widths` are (left, right) column counts, for NULL-extension.
pub fn join_rows(
    kind: JoinKind,
    left: Vec<Row>,
    right: Vec<Row>,
    on: Option<&Expr>,
    equi: &[(Expr, Expr)],
    widths: (usize, usize),
    ectx: &EvalCtx<'_>,
) -> Result<Vec<Row>> {
    let mut state = Matches {
        out: Vec::new(),
        left_hit: vec![false; left.len()],
        right_hit: vec![false; right.len()],
    };
    if equi.is_empty() {
        for i in 0..left.len() {
            for j in 0..right.len() {
                state.try_pair(&left, i, &right, j, on, ectx)?;
            }
        }
    } else if right.len() <= left.len() {
        let table = build(&right, equi.iter().map(|(_, r)| r), ectx)?;
        let mut key = Vec::new();
        for i in 0..left.len() {
            if key_of(&left[i], equi.iter().map(|(l, _)| l), ectx, &mut key)? {
                for &j in table.get(&key).into_iter().flatten() {
                    state.try_pair(&left, i, &right, j, on, ectx)?;
                }
            }
        }
    } else {
        let table = build(&left, equi.iter().map(|(l, _)| l), ectx)?;
        let mut key = Vec::new();
        for j in 0..right.len() {
            if key_of(&right[j], equi.iter().map(|(_, r)| r), ectx, &mut key)? {
                for &i in table.get(&key).into_iter().flatten() {
                    state.try_pair(&left, i, &right, j, on, ectx)?;
                }
            }
        }
    }
    let Matches { mut out, left_hit, right_hit } = state;
    if matches!(kind, JoinKind::Left | JoinKind::Full) {
        for (row, _) in left.into_iter().zip(&left_hit).filter(|(_, hit)| !**hit) {
            let mut row = row;
            row.extend(std::iter::repeat_n(Value::Null, widths.1));
            out.push(row);
        }
    }
    if matches!(kind, JoinKind::Right | JoinKind::Full) {
        for (row, _) in right.into_iter().zip(&right_hit).filter(|(_, hit)| !**hit) {
            let mut full: Row = std::iter::repeat_n(Value::Null, widths.0).collect();
            full.extend(row);
            out.push(full);
        }
    }
    Ok(out)
}

struct Matches {
    out: Vec<Row>,
    left_hit: Vec<bool>,
    right_hit: Vec<bool>,
}

impl Matches {
    fn try_pair(
        &mut self,
        left: &[Row],
        i: usize,
        right: &[Row],
        j: usize,
        on: Option<&Expr>,
        ectx: &EvalCtx<'_>,
    ) -> Result<()> {
        let mut row = left[i].clone();
        row.extend(right[j].iter().cloned());
        if let Some(p) = on {
            if !p.matches(&row, ectx)? {
                return Ok(());
            }
        }
        self.left_hit[i] = true;
        self.right_hit[j] = true;
        self.out.push(row);
        Ok(())
    }
}

/// One key value of `row`. The planner widens integer keys to int8 with a cast; that
/// widening is done here directly instead of through the generic cast, once per row.
fn key_value(k: &Expr, row: &[Value], ectx: &EvalCtx<'_>) -> Result<Value> {
    if let Expr::Cast(inner, DataType::Int2 | DataType::Int4, DataType::Int8) = k {
        return Ok(match inner.eval(row, ectx)? {
            Value::Int2(v) => Value::Int8(v.into()),
            Value::Int4(v) => Value::Int8(v.into()),
            other => other,
        });
    }
    k.eval(row, ectx)
}

/// The encoded key of `row` into `enc` (cleared first); false if a key value is NULL
/// (it can match nothing).
fn key_of<'e>(
    row: &[Value],
    keys: impl Iterator<Item = &'e Expr>,
    ectx: &EvalCtx<'_>,
    enc: &mut Vec<u8>,
) -> Result<bool> {
    enc.clear();
    let mut vals = Vec::new();
    for k in keys {
        let v = key_value(k, row, ectx)?;
        if v.is_null() {
            return Ok(false);
        }
        vals.push(v);
    }
    encode_key(&vals, enc);
    Ok(true)
}

fn build<'e>(
    rows: &[Row],
    keys: impl Iterator<Item = &'e Expr> + Clone,
    ectx: &EvalCtx<'_>,
) -> Result<FxHashMap<Vec<u8>, Vec<usize>>> {
    let mut table: FxHashMap<Vec<u8>, Vec<usize>> = FxHashMap::default();
    let mut enc = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if key_of(r, keys.clone(), ectx, &mut enc)? {
            table.entry(enc.clone()).or_default().push(i);
        }
    }
    Ok(table)
}
