//! Scalar functions and aggregates: resolution by name and argument types, and
//! evaluation. Names, result types and NULL behaviour follow PostgreSQL 15.

use rust_decimal::Decimal;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{cast, compare, DataType, Value};

use super::builtins::Builtin;
use super::expr::EvalCtx;
use super::pg_catalog::funcs::CatalogFunc;

/// The server's version string (`SELECT version()`).
pub const VERSION: &str =
    "PostgreSQL 15.18 (troupe 0.1.0) on x86_64-pc-linux-gnu, compiled by rustc, 64-bit";

/// A scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// now(), CURRENT_TIMESTAMP, transaction_timestamp(): the transaction's start.
    Now,
    /// statement_timestamp().
    StatementTimestamp,
    /// clock_timestamp().
    ClockTimestamp,
    /// CURRENT_DATE.
    CurrentDate,
    /// LOCALTIMESTAMP.
    LocalTimestamp,
    /// version().
    Version,
    /// current_database().
    CurrentDatabase,
    /// current_user, session_user, user, current_role.
    CurrentUser,
    /// current_schema().
    CurrentSchema,
    /// current_schemas(bool).
    CurrentSchemas,
    /// array_position(array, value).
    ArrayPosition,
    /// `array[lo:hi]` (planned from the subscript; an omitted bound is the array's).
    ArraySlice,
    /// pg_backend_pid().
    PgBackendPid,
    /// coalesce(…).
    Coalesce,
    /// nullif(a, b).
    NullIf,
    /// greatest(…).
    Greatest,
    /// least(…).
    Least,
    /// lower(text).
    Lower,
    /// upper(text).
    Upper,
    /// length(text) / char_length.
    Length,
    /// abs(x).
    Abs,
    /// array_length(array, dimension).
    ArrayLength,
    /// cardinality(array).
    Cardinality,
    /// octet_length(text | bytea).
    OctetLength,
    /// gen_random_uuid(): a version-4 UUID.
    GenRandomUuid,
    /// jsonb_typeof(jsonb).
    JsonbTypeof,
    /// A string, math or date/time function (`builtins.rs`).
    Builtin(Builtin),
    /// A function catalog queries call (`pg_catalog/funcs.rs`).
    Catalog(CatalogFunc),
    /// nextval(sequence).
    NextVal,
    /// currval(sequence).
    CurrVal,
    /// setval(sequence, value [, is_called]).
    SetVal,
    /// lastval().
    LastVal,
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    /// count(*).
    CountStar,
    /// count(x): non-NULL inputs.
    Count,
    /// sum(x).
    Sum,
    /// avg(x).
    Avg,
    /// min(x).
    Min,
    /// max(x).
    Max,
    /// string_agg(text, delimiter).
    StringAgg,
    /// array_agg(x).
    ArrayAgg,
    /// bool_and(x) / every(x).
    BoolAnd,
    /// bool_or(x).
    BoolOr,
}

impl AggFunc {
    /// The aggregate called `name`, if it is one.
    pub fn by_name(name: &str) -> Option<AggFunc> {
        Some(match name {
            "count" => AggFunc::Count,
            "sum" => AggFunc::Sum,
            "avg" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "string_agg" => AggFunc::StringAgg,
            "array_agg" => AggFunc::ArrayAgg,
            "bool_and" | "every" => AggFunc::BoolAnd,
            "bool_or" => AggFunc::BoolOr,
            _ => return None,
        })
    }

    /// Result type for an argument of type `arg`.
    pub fn result_type(self, arg: &DataType) -> Result<DataType> {
        use DataType::*;
        Ok(match (self, arg) {
            (AggFunc::CountStar | AggFunc::Count, _) => Int8,
            (AggFunc::Sum, Int2 | Int4) => Int8,
            (AggFunc::Sum, Int8 | Numeric(_)) => Numeric(None),
            (AggFunc::Sum, Float4) => Float4,
            (AggFunc::Sum, Float8) => Float8,
            (AggFunc::Avg, Int2 | Int4 | Int8 | Numeric(_)) => Numeric(None),
            (AggFunc::Avg, Float4 | Float8) => Float8,
            // PostgreSQL 15 has no min/max for these (their btree order exists, the
            // aggregates do not).
            (AggFunc::Min | AggFunc::Max, t) if !matches!(t, Bool | Array(_) | Uuid | Bytea | Jsonb) => {
                t.clone()
            }
            (AggFunc::Sum | AggFunc::Avg, Interval) => Interval,
            (AggFunc::StringAgg, _) => Text,
            (AggFunc::ArrayAgg, t) if !matches!(t, Array(_)) => Array(Box::new(t.clone())),
            (AggFunc::BoolAnd | AggFunc::BoolOr, Bool) => Bool,
            (f, t) => {
                return Err(Error::new(
                    ErrorKind::UndefinedFunction,
                    format!("function {}({}) does not exist", f.name(), t.display_name()),
                )
                .with_hint(
                    "No function matches the given name and argument types. You might need to add explicit type casts.",
                ))
            }
        })
    }

    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::CountStar | AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::StringAgg => "string_agg",
            AggFunc::ArrayAgg => "array_agg",
            AggFunc::BoolAnd => "bool_and",
            AggFunc::BoolOr => "bool_or",
        }
    }
}

/// Running state of one aggregate over one group.
#[derive(Debug, Clone)]
pub enum Accumulator {
    /// count.
    Count(i64),
    /// Integer sum (exact), and whether any input was seen.
    SumInt(i128, bool),
    /// Numeric sum.
    SumNumeric(Decimal, bool),
    /// Float sum.
    SumFloat(f64, bool),
    /// avg: exact numeric sum and count.
    AvgNumeric(Decimal, i64),
    /// avg over floats.
    AvgFloat(f64, i64),
    /// sum of intervals, field by field as PostgreSQL adds them (22008 on overflow),
    /// and the count of inputs.
    SumInterval(crate::types::Interval, i64),
    /// avg of intervals: their sum and count (the sum divided at the end, as
    /// PostgreSQL's `interval / float8`).
    AvgInterval(crate::types::Interval, i64),
    /// min or max so far.
    Extreme(Option<Value>, bool),
    /// string_agg so far (None until a non-NULL input).
    Concat(Option<String>),
    /// array_agg's inputs (NULLs included), None until any input.
    Collect(Option<Vec<Value>>),
    /// bool_and (true) / bool_or (false): the running value, None until an input.
    Logic(Option<bool>, bool),
}

impl Accumulator {
    /// Fresh state for `func` over inputs of type `arg`.
    pub fn new(func: AggFunc, arg: &DataType) -> Accumulator {
        use DataType::*;
        match (func, arg) {
            (AggFunc::CountStar | AggFunc::Count, _) => Accumulator::Count(0),
            (AggFunc::Sum, Interval) => Accumulator::SumInterval(Default::default(), 0),
            (AggFunc::Avg, Interval) => Accumulator::AvgInterval(Default::default(), 0),
            (AggFunc::Sum, Int2 | Int4 | Int8) => Accumulator::SumInt(0, false),
            (AggFunc::Sum, Float4 | Float8) => Accumulator::SumFloat(0.0, false),
            (AggFunc::Sum, _) => Accumulator::SumNumeric(Decimal::ZERO, false),
            (AggFunc::Avg, Float4 | Float8) => Accumulator::AvgFloat(0.0, 0),
            (AggFunc::Avg, _) => Accumulator::AvgNumeric(Decimal::ZERO, 0),
            (AggFunc::Min, _) => Accumulator::Extreme(None, false),
            (AggFunc::Max, _) => Accumulator::Extreme(None, true),
            (AggFunc::StringAgg, _) => Accumulator::Concat(None),
            (AggFunc::ArrayAgg, _) => Accumulator::Collect(None),
            (AggFunc::BoolAnd, _) => Accumulator::Logic(None, true),
            (AggFunc::BoolOr, _) => Accumulator::Logic(None, false),
        }
    }

    /// Adds one input (`None` for count(*)'s row without an argument).
    pub fn add(&mut self, v: Option<&Value>) -> Result<()> {
        let Some(v) = v else {
            if let Accumulator::Count(n) = self {
                *n += 1;
            }
            return Ok(());
        };
        if let Accumulator::Collect(items) = self {
            items.get_or_insert_with(Vec::new).push(v.clone());
            return Ok(());
        }
        if v.is_null() {
            return Ok(());
        }
        match self {
            Accumulator::Count(n) => *n += 1,
            Accumulator::Concat(_) | Accumulator::Collect(_) => {
                return Err(Error::internal("string_agg without its delimiter"))
            }
            Accumulator::Logic(cur, is_and) => {
                let b = matches!(v, Value::Bool(true));
                *cur = Some(match cur {
                    None => b,
                    Some(c) => {
                        if *is_and {
                            *c && b
                        } else {
                            *c || b
                        }
                    }
                });
            }
            Accumulator::SumInt(s, seen) => {
                *s += as_i128(v)?;
                *seen = true;
            }
            Accumulator::SumNumeric(s, seen) => {
                *s = s.checked_add(as_decimal(v)?).ok_or_else(numeric_overflow)?;
                *seen = true;
            }
            Accumulator::SumFloat(s, seen) => {
                *s += as_f64(v)?;
                *seen = true;
            }
            Accumulator::AvgNumeric(s, n) => {
                *s = s.checked_add(as_decimal(v)?).ok_or_else(numeric_overflow)?;
                *n += 1;
            }
            Accumulator::AvgFloat(s, n) => {
                *s += as_f64(v)?;
                *n += 1;
            }
            Accumulator::SumInterval(s, n) | Accumulator::AvgInterval(s, n) => {
                let Value::Interval(iv) = v else {
                    return Err(Error::internal("interval aggregate over a non-interval"));
                };
                *s = s.checked_add(iv)?;
                *n += 1;
            }
            Accumulator::Extreme(cur, is_max) => {
                let replace = match cur {
                    None => true,
                    Some(c) => {
                        let ord = compare(v, c);
                        if *is_max {
                            ord == std::cmp::Ordering::Greater
                        } else {
                            ord == std::cmp::Ordering::Less
                        }
                    }
                };
                if replace {
                    *cur = Some(v.clone());
                }
            }
        }
        Ok(())
    }

    /// Adds one string_agg input with its delimiter (a NULL input is skipped; a NULL
    /// delimiter counts as empty).
    pub fn add_delimited(&mut self, v: &Value, delimiter: &Value) -> Result<()> {
        let (Accumulator::Concat(acc), Value::Text(s)) = (&mut *self, v) else {
            return Ok(());
        };
        match acc {
            None => *acc = Some(s.clone()),
            Some(a) => {
                if let Value::Text(d) = delimiter {
                    a.push_str(d);
                }
                a.push_str(s);
            }
        }
        Ok(())
    }

    /// The aggregate's value, as type `ty` (its result type).
    pub fn finish(&self, ty: &DataType) -> Result<Value> {
        Ok(match self {
            Accumulator::Count(n) => Value::Int8(*n),
            Accumulator::SumInt(_, false)
            | Accumulator::SumNumeric(_, false)
            | Accumulator::SumFloat(_, false)
            | Accumulator::AvgNumeric(_, 0)
            | Accumulator::AvgFloat(_, 0)
            | Accumulator::SumInterval(_, 0)
            | Accumulator::AvgInterval(_, 0) => Value::Null,
            Accumulator::SumInt(s, true) => match ty {
                DataType::Int8 => Value::Int8(i64::try_from(*s).map_err(|_| {
                    Error::new(ErrorKind::NumericValueOutOfRange, "bigint out of range")
                })?),
                _ => Value::Numeric(Decimal::from_i128_with_scale(*s, 0)),
            },
            Accumulator::SumNumeric(s, true) => Value::Numeric(*s),
            Accumulator::SumFloat(s, true) => match ty {
                DataType::Float4 => Value::Float4(*s as f32),
                _ => Value::Float8(*s),
            },
            Accumulator::AvgNumeric(s, n) => Value::Numeric(numeric_div(*s, Decimal::from(*n))?),
            Accumulator::AvgFloat(s, n) => Value::Float8(*s / *n as f64),
            Accumulator::SumInterval(s, _) => Value::Interval(*s),
            Accumulator::AvgInterval(s, n) => Value::Interval(s.divided(*n as f64)?),
            Accumulator::Extreme(v, _) => v.clone().unwrap_or(Value::Null),
            Accumulator::Concat(s) => s.clone().map(Value::Text).unwrap_or(Value::Null),
            Accumulator::Collect(items) => items.clone().map(Value::Array).unwrap_or(Value::Null),
            Accumulator::Logic(b, _) => b.map(Value::Bool).unwrap_or(Value::Null),
        })
    }
}

fn numeric_overflow() -> Error {
    Error::new(ErrorKind::NumericValueOutOfRange, "value overflows numeric format")
}

fn as_i128(v: &Value) -> Result<i128> {
    Ok(match v {
        Value::Int2(x) => *x as i128,
        Value::Int4(x) => *x as i128,
        Value::Int8(x) => *x as i128,
        _ => return Err(Error::internal("integer aggregate over a non-integer")),
    })
}

fn as_decimal(v: &Value) -> Result<Decimal> {
    Ok(match v {
        Value::Int2(x) => Decimal::from(*x),
        Value::Int4(x) => Decimal::from(*x),
        Value::Int8(x) => Decimal::from(*x),
        Value::Numeric(d) => *d,
        _ => return Err(Error::internal("numeric aggregate over a non-number")),
    })
}

fn as_f64(v: &Value) -> Result<f64> {
    Ok(match v {
        Value::Float4(x) => *x as f64,
        Value::Float8(x) => *x,
        Value::Int2(x) => *x as f64,
        Value::Int4(x) => *x as f64,
        Value::Int8(x) => *x as f64,
        _ => return Err(Error::internal("float aggregate over a non-number")),
    })
}

/// Numeric division with PostgreSQL's result scale (`select_div_scale`): at least 16
/// significant digits, and no fewer decimals than either input shows.
pub fn numeric_div(a: Decimal, b: Decimal) -> Result<Decimal> {
    // One implementation of PostgreSQL's select_div_scale, shared with `/` (this copy
    // had `<` where PostgreSQL has `<=`: avg(1) printed 16 zeros instead of 20).
    crate::types::numeric_divide(&a, &b)
}

/// Case mapping one character at a time, as PostgreSQL's towupper/towlower do: a
/// character whose mapping is several characters (ß → SS) stays as it is.
fn map_case<I: Iterator<Item = char>>(s: &str, f: impl Fn(char) -> I) -> String {
    s.chars()
        .map(|c| {
            let mut m = f(c);
            match (m.next(), m.next()) {
                (Some(one), None) => one,
                _ => c,
            }
        })
        .collect()
}

impl Func {
    /// Resolves `name(args)`; returns the function and its result type.
    pub fn resolve(name: &str, args: &[DataType]) -> Result<(Func, DataType)> {
        use DataType::*;
        let f = match (name, args.len()) {
            ("now" | "current_timestamp" | "transaction_timestamp", 0) => (Func::Now, TimestampTz),
            ("statement_timestamp", 0) => (Func::StatementTimestamp, TimestampTz),
            ("clock_timestamp", 0) => (Func::ClockTimestamp, TimestampTz),
            ("current_date", 0) => (Func::CurrentDate, Date),
            ("localtimestamp", 0) => (Func::LocalTimestamp, Timestamp),
            ("version", 0) => (Func::Version, Text),
            ("current_database" | "current_catalog", 0) => (Func::CurrentDatabase, Name),
            ("current_user" | "session_user" | "user" | "current_role", 0) => {
                (Func::CurrentUser, Name)
            }
            ("current_schema", 0) => (Func::CurrentSchema, Name),
            ("current_schemas", 1) => (Func::CurrentSchemas, Array(Box::new(Name))),
            ("array_position", 2) => (Func::ArrayPosition, Int4),
            ("pg_backend_pid", 0) => (Func::PgBackendPid, Int4),
            ("coalesce", n) if n > 0 => (Func::Coalesce, matched_type("COALESCE", args)?),
            ("nullif", 2) => (Func::NullIf, args[0].clone()),
            ("greatest", n) if n > 0 => (Func::Greatest, matched_type("GREATEST", args)?),
            ("least", n) if n > 0 => (Func::Least, matched_type("LEAST", args)?),
            ("lower", 1) if text_like(&args[0]) => (Func::Lower, Text),
            ("upper", 1) if text_like(&args[0]) => (Func::Upper, Text),
            ("length" | "char_length" | "character_length", 1)
                if text_like(&args[0]) || matches!(args[0], Bytea) =>
            {
                (Func::Length, Int4)
            }
            ("abs", 1) => (Func::Abs, args[0].clone()),
            ("nextval", 1) => (Func::NextVal, Int8),
            ("currval", 1) => (Func::CurrVal, Int8),
            ("setval", 2 | 3) => (Func::SetVal, Int8),
            ("lastval", 0) => (Func::LastVal, Int8),
            ("array_length", 2) if matches!(args[0], Array(_)) => (Func::ArrayLength, Int4),
            ("cardinality", 1) if matches!(args[0], Array(_)) => (Func::Cardinality, Int4),
            ("octet_length", 1) if text_like(&args[0]) || matches!(args[0], Bytea) => {
                (Func::OctetLength, Int4)
            }
            ("gen_random_uuid", 0) => (Func::GenRandomUuid, Uuid),
            ("jsonb_typeof", 1) => (Func::JsonbTypeof, Text),
            _ if CatalogFunc::resolve(name, args).is_some() => {
                match CatalogFunc::resolve(name, args) {
                    Some((c, ty, _)) => (Func::Catalog(c), ty),
                    None => return Err(Error::internal("catalog function resolution")),
                }
            }
            _ if Builtin::resolve(name, args).is_some() => match Builtin::resolve(name, args) {
                Some(Ok((b, ty, _))) => (Func::Builtin(b), ty),
                Some(Err(e)) => return Err(e),
                None => return Err(Error::internal("builtin resolution")),
            },
            _ => {
                let list: Vec<String> = args.iter().map(|t| t.display_name()).collect();
                return Err(Error::new(
                    ErrorKind::UndefinedFunction,
                    format!("function {}({}) does not exist", name, list.join(", ")),
                )
                .with_hint(
                    "No function matches the given name and argument types. You might need to add explicit type casts.",
                ));
            }
        };
        Ok(f)
    }

    /// The type each argument of `name(given…)` is cast to before the call.
    pub fn arg_types(
        self,
        name: &str,
        result: &DataType,
        given: &[DataType],
    ) -> Vec<Option<DataType>> {
        if let Func::Catalog(_) = self {
            if let Some((_, _, targets)) = CatalogFunc::resolve(name, given) {
                return targets;
            }
        }
        if let Func::Builtin(_) = self {
            if let Some(Ok((_, _, targets))) = Builtin::resolve(name, given) {
                return targets;
            }
        }
        given.iter().map(|t| self.arg_type(result, t)).collect()
    }

    /// The type an argument should be cast to before the call (None: leave it).
    pub fn arg_type(self, result: &DataType, given: &DataType) -> Option<DataType> {
        match self {
            Func::Coalesce | Func::Greatest | Func::Least => Some(result.clone()),
            Func::Lower | Func::Upper if *given != DataType::Text => Some(DataType::Text),
            // char(n) keeps its padding here: PostgreSQL counts it (bpcharoctetlen).
            Func::OctetLength if matches!(given, DataType::Bpchar(_)) => None,
            Func::Length | Func::OctetLength
                if !matches!(given, DataType::Text | DataType::Bytea) =>
            {
                Some(DataType::Text)
            }
            Func::ArrayLength if *given == DataType::Unknown => Some(DataType::Int4),
            Func::JsonbTypeof if *given != DataType::Jsonb => Some(DataType::Jsonb),
            // (sequence name, value, is_called): told apart by the given types.
            Func::NextVal | Func::CurrVal | Func::SetVal => Some(match given {
                DataType::Int2 | DataType::Int4 | DataType::Int8 | DataType::Numeric(_) => {
                    DataType::Int8
                }
                DataType::Bool => DataType::Bool,
                DataType::Regclass => DataType::Regclass,
                _ => DataType::Text,
            }),
            _ => None,
        }
    }

    /// True if the value cannot change within a statement (so it may be computed once).
    pub fn is_immutable_per_statement(self) -> bool {
        match self {
            Func::ClockTimestamp
            | Func::GenRandomUuid
            | Func::NextVal
            | Func::CurrVal
            | Func::SetVal
            | Func::LastVal => false,
            Func::Builtin(b) => b.is_stable(),
            _ => true,
        }
    }

    /// Calls the function.
    pub fn call(self, args: &[Value], ctx: &EvalCtx<'_>) -> Result<Value> {
        let s = ctx.session;
        Ok(match self {
            Func::Builtin(b) => b.call(args)?,
            Func::Catalog(c) => c.call(args, s)?,
            Func::Now => Value::TimestampTz(s.txn_start),
            Func::StatementTimestamp => Value::TimestampTz(s.statement_start),
            Func::ClockTimestamp => Value::TimestampTz(now_micros()),
            Func::CurrentDate => Value::Date(s.txn_start.div_euclid(86_400_000_000) as i32),
            Func::LocalTimestamp => Value::Timestamp(s.txn_start),
            Func::Version => Value::Text(VERSION.to_owned()),
            Func::CurrentDatabase => Value::Text(s.database.clone()),
            Func::CurrentUser => Value::Text(s.user.clone()),
            Func::CurrentSchema | Func::CurrentSchemas => {
                let public = crate::catalog::SearchPath::public();
                let path = s.sequences.as_ref().map_or(&public, |a| &a.path);
                if matches!(self, Func::CurrentSchema) {
                    path.creation().map_or(Value::Null, |n| Value::Text(n.to_owned()))
                } else {
                    let implicit = matches!(args.first(), Some(Value::Bool(true)));
                    Value::Array(
                        path.current_schemas(implicit).into_iter().map(Value::Text).collect(),
                    )
                }
            }
            Func::ArraySlice => match args {
                [Value::Array(items), Value::Int4(lo), Value::Int4(hi)] => {
                    // Clipped to the array's bounds (1..=len); the result starts at 1.
                    let lo = (*lo).max(1) as i64;
                    let hi = (*hi as i64).min(items.len() as i64);
                    if lo > hi {
                        Value::Array(Vec::new())
                    } else {
                        Value::Array(items[(lo - 1) as usize..hi as usize].to_vec())
                    }
                }
                _ => Value::Null,
            },
            Func::ArrayPosition => match (&args[0], &args[1]) {
                (Value::Null, _) => Value::Null,
                (Value::Array(items), needle) => items
                    .iter()
                    .position(|x| !x.is_null() && !needle.is_null() && compare(x, needle).is_eq())
                    .map(|i| Value::Int4(i as i32 + 1))
                    .unwrap_or(Value::Null),
                _ => return Err(Error::internal("array_position on a non-array")),
            },
            Func::PgBackendPid => Value::Int4(s.pid),
            Func::Coalesce => args.iter().find(|v| !v.is_null()).cloned().unwrap_or(Value::Null),
            Func::NullIf => {
                if !args[0].is_null() && !args[1].is_null() && compare(&args[0], &args[1]).is_eq() {
                    Value::Null
                } else {
                    args[0].clone()
                }
            }
            Func::Greatest | Func::Least => {
                let mut best: Option<&Value> = None;
                for v in args.iter().filter(|v| !v.is_null()) {
                    best = match best {
                        None => Some(v),
                        Some(b) => {
                            let ord = compare(v, b);
                            let better =
                                if self == Func::Greatest { ord.is_gt() } else { ord.is_lt() };
                            Some(if better { v } else { b })
                        }
                    };
                }
                best.cloned().unwrap_or(Value::Null)
            }
            Func::Lower | Func::Upper | Func::Length => match &args[0] {
                Value::Null => Value::Null,
                Value::Bytea(b) if self == Func::Length => Value::Int4(b.len() as i32),
                Value::Text(t) => match self {
                    Func::Lower => Value::Text(map_case(t, char::to_lowercase)),
                    Func::Upper => Value::Text(map_case(t, char::to_uppercase)),
                    _ => Value::Int4(t.chars().count() as i32),
                },
                _ => return Err(Error::internal("string function on a non-string")),
            },
            Func::ArrayLength => match (&args[0], &args[1]) {
                (Value::Array(items), Value::Int4(1)) if !items.is_empty() => {
                    Value::Int4(items.len() as i32)
                }
                _ => Value::Null,
            },
            Func::Cardinality => match &args[0] {
                Value::Array(items) => Value::Int4(items.len() as i32),
                _ => Value::Null,
            },
            Func::OctetLength => match &args[0] {
                Value::Bytea(b) => Value::Int4(b.len() as i32),
                Value::Text(t) => Value::Int4(t.len() as i32),
                Value::Null => Value::Null,
                _ => return Err(Error::internal("octet_length on a non-string")),
            },
            Func::GenRandomUuid => Value::Uuid(crate::types::random_uuid()),
            Func::JsonbTypeof => match &args[0] {
                Value::Jsonb(j) => Value::Text(j.type_name().to_owned()),
                _ => Value::Null,
            },
            Func::Abs => match &args[0] {
                Value::Null => Value::Null,
                Value::Int2(x) => Value::Int2(x.checked_abs().ok_or_else(|| range("smallint"))?),
                Value::Int4(x) => Value::Int4(x.checked_abs().ok_or_else(|| range("integer"))?),
                Value::Int8(x) => Value::Int8(x.checked_abs().ok_or_else(|| range("bigint"))?),
                Value::Float4(x) => Value::Float4(x.abs()),
                Value::Float8(x) => Value::Float8(x.abs()),
                Value::Numeric(x) => Value::Numeric(x.abs()),
                _ => return Err(Error::internal("abs on a non-number")),
            },
            Func::NextVal | Func::CurrVal | Func::SetVal | Func::LastVal => {
                return sequence_call(self, args, ctx)
            }
        })
    }
}

/// True for the string types a text function takes (and an untyped literal).
pub(super) fn text_like(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Text
            | DataType::Varchar(_)
            | DataType::Bpchar(_)
            | DataType::Name
            | DataType::Unknown
    )
}

/// nextval / currval / setval / lastval (strict: a NULL argument gives NULL).
fn sequence_call(f: Func, args: &[Value], ctx: &EvalCtx<'_>) -> Result<Value> {
    let access = ctx
        .session
        .sequences
        .as_ref()
        .ok_or_else(|| Error::internal("sequence functions outside a session"))?;
    if matches!(f, Func::NextVal | Func::SetVal)
        && ctx.session.settings.as_ref().is_some_and(|s| s.read_only())
    {
        let name = if f == Func::NextVal { "nextval()" } else { "setval()" };
        return Err(Error::new(
            ErrorKind::ReadOnlySqlTransaction,
            format!("cannot execute {name} in a read-only transaction"),
        ));
    }
    if args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    let by_oid;
    let name = match args.first() {
        Some(Value::Text(t)) => t.as_str(),
        // A regclass: a default bound at creation (`nextval('s.q'::regclass)`).
        Some(Value::Oid(oid)) => {
            by_oid = access.name_of(*oid)?;
            by_oid.as_str()
        }
        Some(_) => return Err(Error::internal("sequence name is not text")),
        None => "",
    };
    Ok(Value::Int8(match f {
        Func::NextVal => access.nextval(name)?,
        Func::CurrVal => access.currval(name)?,
        Func::LastVal => access.lastval()?,
        _ => {
            let Some(Value::Int8(v)) = args.get(1) else {
                return Err(Error::internal("setval value is not bigint"));
            };
            let called = !matches!(args.get(2), Some(Value::Bool(false)));
            access.setval(name, *v, called)?
        }
    }))
}

fn range(ty: &str) -> Error {
    Error::new(ErrorKind::NumericValueOutOfRange, format!("{ty} out of range"))
}

/// The type several arguments unify to (COALESCE, GREATEST, CASE branches): the first
/// known type, widened across the numeric ladder.
pub fn common_type(types: &[DataType]) -> DataType {
    use DataType::*;
    let rank = |t: &DataType| match t {
        Int2 => 1,
        Int4 => 2,
        Int8 => 3,
        Numeric(_) => 4,
        Float4 => 5,
        Float8 => 6,
        _ => 0,
    };
    let mut best: Option<DataType> = None;
    for t in types {
        if *t == Unknown {
            continue;
        }
        best = match best {
            None => Some(t.clone()),
            Some(b) if rank(t) > rank(&b) && rank(&b) > 0 => Some(t.clone()),
            Some(b) => Some(b),
        };
    }
    match best {
        Some(Varchar(_) | Bpchar(_) | Name) => Text,
        Some(t) => t,
        None => Text,
    }
}

/// [`common_type`], after PostgreSQL's check that the known types are of one category
/// (42804 `COALESCE types integer and text cannot be matched`).
fn matched_type(what: &str, types: &[DataType]) -> Result<DataType> {
    use DataType::*;
    let category = |t: &DataType| match t {
        Int2 | Int4 | Int8 | Numeric(_) | Float4 | Float8 => 1,
        Text | Varchar(_) | Bpchar(_) | Name => 2,
        Date | Timestamp | TimestampTz => 3,
        _ => 0,
    };
    let mut known = types.iter().filter(|t| **t != Unknown);
    if let Some(first) = known.next() {
        for t in known {
            let same =
                if category(first) == 0 { t == first } else { category(t) == category(first) };
            if !same {
                return Err(Error::new(
                    ErrorKind::DatatypeMismatch,
                    format!(
                        "{what} types {} and {} cannot be matched",
                        first.display_name(),
                        t.display_name()
                    ),
                ));
            }
        }
    }
    Ok(common_type(types))
}

/// Casts `v` to `to` when the planner decided an argument needs it.
pub fn coerce(v: Value, from: &DataType, to: &DataType) -> Result<Value> {
    if v.is_null() || from == to {
        return Ok(v);
    }
    cast(&v, from, to)
}

/// Microseconds since 2000-01-01 UTC, now.
pub fn now_micros() -> i64 {
    const PG_EPOCH_UNIX_SECS: i64 = 946_684_800;
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    d.as_micros() as i64 - PG_EPOCH_UNIX_SECS * 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avg_scale_matches_postgres() {
        // SELECT avg(x) FROM (VALUES (1),(2)) → 1.5000000000000000
        let q = numeric_div(Decimal::from(3), Decimal::from(2)).expect("div");
        assert_eq!(q.to_string(), "1.5000000000000000");
        // 3000/2 → 1500.0000000000000000
        let q = numeric_div(Decimal::from(3000), Decimal::from(2)).expect("div");
        assert_eq!(q.to_string(), "1500.0000000000000000");
        // 1/3 → 0.33333333333333333333
        let q = numeric_div(Decimal::from(1), Decimal::from(3)).expect("div");
        assert_eq!(q.to_string(), "0.33333333333333333333");
        // avg(1) → 1.00000000000000000000 (first base-10000 digits equal: 20 places)
        let q = numeric_div(Decimal::from(1), Decimal::from(1)).expect("div");
        assert_eq!(q.to_string(), "1.00000000000000000000");
    }
}
