//! The common string, math and date/time functions, as PostgreSQL 15 defines them:
//! names, argument types (an integer argument of a math function is float8, a
//! numeric one stays numeric), result types and NULL behaviour (strict functions
//! return NULL for a NULL argument; `concat` and `concat_ws` skip NULLs).
//!
//! Resolution picks the function and the type each argument is cast to before the
//! call; evaluation then sees values of exactly those types.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{Error, ErrorKind, Result};
use crate::types::{DataType, Value, Zone};

use super::functions::text_like;

mod arith;
mod calendar;
mod datetime;
mod text;
mod to_char;
pub use arith::ArithFn;
pub use calendar::CalendarFn;
use datetime::datetime;
pub use text::TextFn;

/// A resolved call: the function, its result type, and each argument's target type.
pub type Resolved = (Builtin, DataType, Vec<Option<DataType>>);

/// A built-in scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// substr / substring(s, from [, count]).
    Substr,
    /// strpos(s, sub), position(sub IN s).
    Strpos,
    /// btrim / trim(BOTH …).
    Btrim,
    /// ltrim / trim(LEADING …).
    Ltrim,
    /// rtrim / trim(TRAILING …).
    Rtrim,
    /// replace(s, from, to).
    Replace,
    /// concat(…): NULLs skipped.
    Concat,
    /// concat_ws(sep, …).
    ConcatWs,
    /// left(s, n).
    Left,
    /// right(s, n).
    Right,
    /// lpad(s, n [, fill]).
    Lpad,
    /// rpad(s, n [, fill]).
    Rpad,
    /// split_part(s, delim, n).
    SplitPart,
    /// repeat(s, n).
    Repeat,
    /// reverse(s).
    Reverse,
    /// starts_with(s, prefix).
    StartsWith,
    /// initcap(s).
    Initcap,
    /// ascii(s).
    Ascii,
    /// chr(n).
    Chr,
    /// round(x) / round(numeric, n).
    Round,
    /// trunc(x) / trunc(numeric, n).
    Trunc,
    /// ceil / ceiling.
    Ceil,
    /// floor.
    Floor,
    /// mod(a, b).
    Mod,
    /// power / pow (float8).
    Power,
    /// sqrt (float8).
    Sqrt,
    /// exp (float8).
    Exp,
    /// ln (float8).
    Ln,
    /// log10 / log (float8).
    Log10,
    /// sign.
    Sign,
    /// pi().
    Pi,
    /// random(): volatile.
    Random,
    /// date_trunc(field, timestamp or timestamptz).
    DateTrunc,
    /// date_part(field, …) → float8.
    DatePart,
    /// EXTRACT(field FROM …) → numeric.
    Extract,
    /// A function of `builtins/text.rs`.
    Text(TextFn),
    /// A function of `builtins/arith.rs`.
    Arith(ArithFn),
    /// A function of `builtins/calendar.rs`.
    Calendar(CalendarFn),
    /// to_char(value, template) (`builtins/to_char.rs`).
    ToChar,
}

fn no_function(name: &str, args: &[DataType]) -> Error {
    let list: Vec<String> = args.iter().map(|t| t.display_name()).collect();
    Error::new(
        ErrorKind::UndefinedFunction,
        format!("function {}({}) does not exist", name, list.join(", ")),
    )
    .with_hint(
        "No function matches the given name and argument types. You might need to add explicit type casts.",
    )
}

fn text_unless_bool(t: &DataType) -> Option<DataType> {
    if *t == DataType::Bool {
        None
    } else {
        Some(DataType::Text)
    }
}

/// A concat argument as text (NULL: None).
fn concat_part(v: &Value) -> Option<&str> {
    match v {
        Value::Text(t) => Some(t),
        Value::Bool(true) => Some("t"),
        Value::Bool(false) => Some("f"),
        _ => None,
    }
}

fn is_int(t: &DataType) -> bool {
    matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8 | DataType::Unknown)
}

fn is_number(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int2
            | DataType::Int4
            | DataType::Int8
            | DataType::Numeric(_)
            | DataType::Float4
            | DataType::Float8
            | DataType::Unknown
    )
}

impl Builtin {
    /// Resolves `name(args)`: the function, its result type, and the type each
    /// argument is cast to (None: as it is). None if no built-in has that name.
    pub fn resolve(name: &str, args: &[DataType]) -> Option<Result<Resolved>> {
        use DataType::*;
        let text = Some(Text);
        let int = Some(Int4);
        let all_text = args.iter().all(text_like);
        let n = args.len();
        let num_kind = |t: &DataType| matches!(t, Numeric(_));
        if let Some(r) = text::resolve(name, args)
            .or_else(|| arith::resolve(name, args))
            .or_else(|| calendar::resolve(name, args))
            .or_else(|| to_char::resolve(name, args))
        {
            return Some(Ok(r));
        }
        let r = match name {
            "substr" | "substring" if (n == 2 || n == 3) && text_like(&args[0]) => {
                let mut v = vec![text.clone(), int.clone()];
                if n == 3 {
                    v.push(int.clone());
                }
                (Builtin::Substr, Text, v)
            }
            "strpos" if n == 2 && all_text => (Builtin::Strpos, Int4, vec![text.clone(); 2]),
            "btrim" | "ltrim" | "rtrim" if (n == 1 || n == 2) && all_text => {
                let f = match name {
                    "btrim" => Builtin::Btrim,
                    "ltrim" => Builtin::Ltrim,
                    _ => Builtin::Rtrim,
                };
                (f, Text, vec![text.clone(); n])
            }
            "replace" if n == 3 && all_text => (Builtin::Replace, Text, vec![text.clone(); 3]),
            // Booleans print as t/f here (their output function), not as a cast's
            // true/false: they stay bool until the call.
            "concat" if n > 0 => {
                (Builtin::Concat, Text, args.iter().map(text_unless_bool).collect())
            }
            "concat_ws" if n > 1 && text_like(&args[0]) => {
                (Builtin::ConcatWs, Text, args.iter().map(text_unless_bool).collect())
            }
            "left" | "right" | "repeat" if n == 2 && text_like(&args[0]) && is_int(&args[1]) => {
                let f = match name {
                    "left" => Builtin::Left,
                    "right" => Builtin::Right,
                    _ => Builtin::Repeat,
                };
                (f, Text, vec![text.clone(), int.clone()])
            }
            "lpad" | "rpad" if (n == 2 || n == 3) && text_like(&args[0]) && is_int(&args[1]) => {
                let f = if name == "lpad" { Builtin::Lpad } else { Builtin::Rpad };
                let mut v = vec![text.clone(), int.clone()];
                if n == 3 {
                    v.push(text.clone());
                }
                (f, Text, v)
            }
            "split_part"
                if n == 3 && text_like(&args[0]) && text_like(&args[1]) && is_int(&args[2]) =>
            {
                (Builtin::SplitPart, Text, vec![text.clone(), text.clone(), int.clone()])
            }
            "reverse" | "initcap" | "ascii" if n == 1 && all_text => match name {
                "reverse" => (Builtin::Reverse, Text, vec![text.clone()]),
                "initcap" => (Builtin::Initcap, Text, vec![text.clone()]),
                _ => (Builtin::Ascii, Int4, vec![text.clone()]),
            },
            "chr" if n == 1 && is_int(&args[0]) => (Builtin::Chr, Text, vec![int.clone()]),
            "starts_with" if n == 2 && all_text => {
                (Builtin::StartsWith, Bool, vec![text.clone(); 2])
            }
            "round" | "trunc"
                if n == 2
                    && is_number(&args[0])
                    && !matches!(args[0], Float4 | Float8)
                    && is_int(&args[1]) =>
            {
                let f = if name == "round" { Builtin::Round } else { Builtin::Trunc };
                (f, Numeric(None), vec![Some(Numeric(None)), int.clone()])
            }
            "round" | "trunc" | "ceil" | "ceiling" | "floor" | "sign"
                if n == 1 && is_number(&args[0]) =>
            {
                let f = match name {
                    "round" => Builtin::Round,
                    "trunc" => Builtin::Trunc,
                    "ceil" | "ceiling" => Builtin::Ceil,
                    "floor" => Builtin::Floor,
                    _ => Builtin::Sign,
                };
                let t = if num_kind(&args[0]) { Numeric(None) } else { Float8 };
                (f, t.clone(), vec![Some(t)])
            }
            "mod" if n == 2 && args.iter().all(is_number) => {
                let t = if args.iter().all(|t| matches!(t, Int2 | Int4 | Int8 | Unknown)) {
                    super::functions::common_type(args)
                } else {
                    Numeric(None)
                };
                let t = if t == Text { Int4 } else { t };
                (Builtin::Mod, t.clone(), vec![Some(t.clone()), Some(t)])
            }
            "power" | "pow" | "sqrt" | "exp" | "ln" | "log" | "log10"
                if (n == 1 || ((name == "power" || name == "pow") && n == 2))
                    && args.iter().all(is_number) =>
            {
                if args.iter().any(num_kind) && !args.iter().any(|t| matches!(t, Float4 | Float8)) {
                    return Some(Err(Error::new(
                        ErrorKind::FeatureNotSupported,
                        format!("{name}() of numeric is not supported yet"),
                    )
                    .with_hint("Cast the argument to double precision.")));
                }
                let f = match name {
                    "power" | "pow" => Builtin::Power,
                    "sqrt" => Builtin::Sqrt,
                    "exp" => Builtin::Exp,
                    "ln" => Builtin::Ln,
                    _ => Builtin::Log10,
                };
                (f, Float8, vec![Some(Float8); n])
            }
            "pi" if n == 0 => (Builtin::Pi, Float8, Vec::new()),
            "random" if n == 0 => (Builtin::Random, Float8, Vec::new()),
            "date_trunc" if n == 2 && text_like(&args[0]) => {
                let t = match &args[1] {
                    TimestampTz => TimestampTz,
                    Timestamp | Unknown => Timestamp,
                    Date => TimestampTz,
                    _ => return Some(Err(no_function(name, args))),
                };
                (Builtin::DateTrunc, t.clone(), vec![text.clone(), Some(t)])
            }
            "date_part" | "extract" if n == 2 && text_like(&args[0]) => {
                let t = match &args[1] {
                    Date => Date,
                    TimestampTz => TimestampTz,
                    Timestamp | Unknown => Timestamp,
                    _ => return Some(Err(no_function(name, args))),
                };
                let (f, r) = if name == "extract" {
                    (Builtin::Extract, Numeric(None))
                } else {
                    (Builtin::DatePart, Float8)
                };
                (f, r, vec![text.clone(), Some(t)])
            }
            "substr" | "substring" | "strpos" | "btrim" | "ltrim" | "rtrim" | "replace"
            | "concat_ws" | "left" | "right" | "repeat" | "lpad" | "rpad" | "split_part"
            | "reverse" | "initcap" | "ascii" | "chr" | "starts_with" | "round" | "trunc"
            | "ceil" | "ceiling" | "floor" | "sign" | "mod" | "power" | "pow" | "sqrt" | "exp"
            | "ln" | "log" | "log10" | "pi" | "random" | "date_trunc" | "date_part" => {
                return Some(Err(no_function(name, args)))
            }
            _ => return None,
        };
        Some(Ok(r))
    }

    /// False for functions whose value changes between calls (random()).
    pub fn is_stable(self) -> bool {
        self != Builtin::Random
    }

    /// Calls the function on arguments of the resolved types.
    /// Arguments arrive cast to the resolved types (concat's as text).
    pub fn call(self, args: &[Value], zone: Zone) -> Result<Value> {
        match self {
            Builtin::Concat => {
                let mut s = String::new();
                for v in args {
                    if let Some(t) = concat_part(v) {
                        s.push_str(t);
                    }
                }
                return Ok(Value::Text(s));
            }
            Builtin::ConcatWs => {
                let Some(Value::Text(sep)) = args.first() else { return Ok(Value::Null) };
                let parts: Vec<&str> = args[1..].iter().filter_map(concat_part).collect();
                return Ok(Value::Text(parts.join(sep)));
            }
            Builtin::Pi => return Ok(Value::Float8(std::f64::consts::PI)),
            Builtin::Random => return Ok(Value::Float8(random_f64())),
            Builtin::Text(f) => return f.call(args),
            Builtin::Arith(f) => return f.call(args),
            Builtin::Calendar(f) => return f.call(args, zone),
            Builtin::ToChar => return to_char::to_char(args, zone),
            _ => {}
        }
        if args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        match self {
            Builtin::Round
            | Builtin::Trunc
            | Builtin::Ceil
            | Builtin::Floor
            | Builtin::Sign
            | Builtin::Mod
            | Builtin::Power
            | Builtin::Sqrt
            | Builtin::Exp
            | Builtin::Ln
            | Builtin::Log10 => math(self, args),
            Builtin::DateTrunc | Builtin::DatePart | Builtin::Extract => datetime(self, args, zone),
            Builtin::Chr => chr(&args[0]),
            _ => strings(self, args),
        }
    }
}

fn text(v: &Value) -> Result<&str> {
    match v {
        Value::Text(s) => Ok(s),
        _ => Err(Error::internal("text function on a non-text value")),
    }
}

fn int(v: &Value) -> Result<i64> {
    match v {
        Value::Int2(x) => Ok(*x as i64),
        Value::Int4(x) => Ok(*x as i64),
        Value::Int8(x) => Ok(*x),
        _ => Err(Error::internal("integer argument expected")),
    }
}

fn strings(f: Builtin, args: &[Value]) -> Result<Value> {
    let s = text(&args[0])?;
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as i64;
    let slice = |from: i64, to: i64| -> String {
        let (a, b) = (from.clamp(0, len) as usize, to.clamp(0, len) as usize);
        if a >= b {
            String::new()
        } else {
            chars[a..b].iter().collect()
        }
    };
    Ok(match f {
        Builtin::Substr => {
            let start = int(&args[1])?;
            match args.get(2) {
                None => Value::Text(slice(start - 1, len)),
                Some(c) => {
                    let count = int(c)?;
                    if count < 0 {
                        return Err(Error::new(
                            ErrorKind::SubstringError,
                            "negative substring length not allowed",
                        ));
                    }
                    Value::Text(slice(start - 1, start.saturating_add(count) - 1))
                }
            }
        }
        Builtin::Strpos => {
            let sub = text(&args[1])?;
            Value::Int4(match s.find(sub) {
                Some(byte) => s[..byte].chars().count() as i32 + 1,
                None => 0,
            })
        }
        Builtin::Btrim | Builtin::Ltrim | Builtin::Rtrim => {
            let set: Vec<char> = match args.get(1) {
                Some(c) => text(c)?.chars().collect(),
                None => vec![' '],
            };
            let pred = |c: char| set.contains(&c);
            Value::Text(
                match f {
                    Builtin::Btrim => s.trim_matches(pred),
                    Builtin::Ltrim => s.trim_start_matches(pred),
                    _ => s.trim_end_matches(pred),
                }
                .to_owned(),
            )
        }
        Builtin::Replace => {
            let from = text(&args[1])?;
            if from.is_empty() {
                Value::Text(s.to_owned())
            } else {
                Value::Text(s.replace(from, text(&args[2])?))
            }
        }
        Builtin::Left | Builtin::Right => {
            let n = int(&args[1])?;
            let keep = if n >= 0 { n.min(len) } else { (len + n).max(0) };
            Value::Text(if f == Builtin::Left { slice(0, keep) } else { slice(len - keep, len) })
        }
        Builtin::Repeat => {
            let n = int(&args[1])?.max(0) as usize;
            if s.len().saturating_mul(n) > 1 << 30 {
                return Err(Error::new(
                    ErrorKind::ProgramLimitExceeded,
                    "requested length too large",
                ));
            }
            Value::Text(s.repeat(n))
        }
        Builtin::Lpad | Builtin::Rpad => {
            let n = int(&args[1])?.max(0);
            if n > 1 << 28 {
                return Err(Error::new(
                    ErrorKind::ProgramLimitExceeded,
                    "requested length too large",
                ));
            }
            let fill: Vec<char> = match args.get(2) {
                Some(v) => text(v)?.chars().collect(),
                None => vec![' '],
            };
            if n <= len || fill.is_empty() {
                return Ok(Value::Text(slice(0, n)));
            }
            let pad: String = fill.iter().cycle().take((n - len) as usize).collect();
            Value::Text(if f == Builtin::Lpad { pad + s } else { s.to_owned() + &pad })
        }
        Builtin::SplitPart => {
            let delim = text(&args[1])?;
            let n = int(&args[2])?;
            if n == 0 {
                return Err(Error::new(
                    ErrorKind::InvalidParameterValue,
                    "field position must not be zero",
                ));
            }
            let parts: Vec<&str> =
                if delim.is_empty() { vec![s] } else { s.split(delim).collect() };
            let idx = if n > 0 { n - 1 } else { parts.len() as i64 + n };
            Value::Text(
                usize::try_from(idx)
                    .ok()
                    .and_then(|i| parts.get(i))
                    .copied()
                    .unwrap_or("")
                    .to_owned(),
            )
        }
        Builtin::Reverse => Value::Text(chars.iter().rev().collect()),
        Builtin::StartsWith => Value::Bool(s.starts_with(text(&args[1])?)),
        Builtin::Initcap => {
            let mut out = String::with_capacity(s.len());
            let mut prev_alnum = false;
            for c in chars {
                if prev_alnum {
                    out.extend(c.to_lowercase());
                } else {
                    out.extend(c.to_uppercase());
                }
                prev_alnum = c.is_alphanumeric();
            }
            Value::Text(out)
        }
        Builtin::Ascii => Value::Int4(chars.first().map_or(0, |c| *c as i32)),
        _ => return Err(Error::internal("not a string function")),
    })
}

/// chr(n): called with an int4 (its argument is not text, so not in `strings`).
pub fn chr(v: &Value) -> Result<Value> {
    let n = int(v)?;
    if n < 0 {
        return Err(Error::new(
            ErrorKind::InvalidParameterValue,
            "character number must be positive",
        ));
    }
    if n == 0 {
        return Err(Error::new(ErrorKind::ProgramLimitExceeded, "null character not permitted"));
    }
    char::from_u32(n as u32).map(|c| Value::Text(c.to_string())).ok_or_else(|| {
        Error::new(ErrorKind::ProgramLimitExceeded, "requested character too large for encoding")
    })
}

fn float(v: &Value) -> Result<f64> {
    match v {
        Value::Float8(x) => Ok(*x),
        Value::Float4(x) => Ok(*x as f64),
        other => Ok(int(other)? as f64),
    }
}

fn math(f: Builtin, args: &[Value]) -> Result<Value> {
    if let Value::Numeric(d) = &args[0] {
        let d = *d;
        return Ok(match f {
            Builtin::Round | Builtin::Trunc => {
                let places = match args.get(1) {
                    Some(p) => int(p)?,
                    None => 0,
                };
                let strategy = if f == Builtin::Round {
                    RoundingStrategy::MidpointAwayFromZero
                } else {
                    RoundingStrategy::ToZero
                };
                if places >= 0 {
                    let mut r = d.round_dp_with_strategy(places.min(28) as u32, strategy);
                    r.rescale(places.min(28) as u32);
                    Value::Numeric(r)
                } else {
                    let scale =
                        Decimal::from_i128_with_scale(10i128.pow((-places).min(27) as u32), 0);
                    let r = (d / scale).round_dp_with_strategy(0, strategy) * scale;
                    Value::Numeric(r.round_dp(0))
                }
            }
            Builtin::Ceil => Value::Numeric(d.ceil()),
            Builtin::Floor => Value::Numeric(d.floor()),
            Builtin::Sign => Value::Numeric(if d.is_zero() {
                Decimal::ZERO
            } else if d.is_sign_negative() {
                Decimal::NEGATIVE_ONE
            } else {
                Decimal::ONE
            }),
            Builtin::Mod => {
                let Value::Numeric(b) = &args[1] else {
                    return Err(Error::internal("mod of mixed types"));
                };
                if b.is_zero() {
                    return Err(Error::new(ErrorKind::DivisionByZero, "division by zero"));
                }
                Value::Numeric(d % *b)
            }
            _ => return Err(Error::internal("numeric math function")),
        });
    }
    if f == Builtin::Mod {
        let (a, b) = (int(&args[0])?, int(&args[1])?);
        if b == 0 {
            return Err(Error::new(ErrorKind::DivisionByZero, "division by zero"));
        }
        let r = a.checked_rem(b).unwrap_or(0);
        return Ok(match &args[0] {
            Value::Int2(_) => Value::Int2(r as i16),
            Value::Int4(_) => Value::Int4(r as i32),
            _ => Value::Int8(r),
        });
    }
    let x = float(&args[0])?;
    let out = match f {
        Builtin::Round => x.round_ties_even(),
        Builtin::Trunc => x.trunc(),
        Builtin::Ceil => x.ceil(),
        Builtin::Floor => x.floor(),
        Builtin::Sign => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        }
        Builtin::Power => {
            let y = float(&args[1])?;
            if x == 0.0 && y < 0.0 {
                return Err(Error::new(
                    ErrorKind::InvalidArgumentForPowerFunction,
                    "zero raised to a negative power is undefined",
                ));
            }
            if x < 0.0 && y.fract() != 0.0 {
                return Err(Error::new(
                    ErrorKind::InvalidArgumentForPowerFunction,
                    "a negative number raised to a non-integer power yields a complex result",
                ));
            }
            x.powf(y)
        }
        Builtin::Sqrt => {
            if x < 0.0 {
                return Err(Error::new(
                    ErrorKind::InvalidArgumentForPowerFunction,
                    "cannot take square root of a negative number",
                ));
            }
            x.sqrt()
        }
        Builtin::Exp => x.exp(),
        Builtin::Ln | Builtin::Log10 => {
            if x == 0.0 {
                return Err(Error::new(
                    ErrorKind::InvalidArgumentForLog,
                    "cannot take logarithm of zero",
                ));
            }
            if x < 0.0 {
                return Err(Error::new(
                    ErrorKind::InvalidArgumentForLog,
                    "cannot take logarithm of a negative number",
                ));
            }
            if f == Builtin::Ln {
                x.ln()
            } else {
                x.log10()
            }
        }
        _ => return Err(Error::internal("float math function")),
    };
    if out.is_infinite() && x.is_finite() {
        return Err(Error::new(ErrorKind::NumericValueOutOfRange, "value out of range: overflow"));
    }
    Ok(Value::Float8(out))
}

fn random_f64() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}
