//! The math functions beyond the everyday ones: div, gcd, lcm, factorial,
//! width_bucket, cbrt, degrees, radians, and power / sqrt / exp / ln / log of numeric.
//!
//! Numeric results carry PostgreSQL's result scale (`numeric.c`): at least 16
//! significant digits (`NUMERIC_MIN_SIG_DIGITS`), never fewer decimals than an
//! argument has:
//!
//! ```text
//!   sqrt(x)      16 - ((weight10000(x) + 1) * 4 / 2 - 1)
//!   exp(x)       16 - trunc(x * log10(e))
//!   ln(x)        16 - dweight(ln x)          (dweight of x - 1 when 0.9 <= x <= 1.1)
//!   log(b, x)    16 - (dweight(ln x) - dweight(ln b))
//!   b ^ n        16                          (n an integer)
//!   b ^ y        16 - trunc(y * log10(b))
//! ```
//!
//! The values come from rust_decimal (28 significant digits), so a result that needs
//! more digits than that is refused (22003), never printed wrong.

use rust_decimal::prelude::{MathematicalOps, ToPrimitive};
use rust_decimal::Decimal;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{DataType, Value};

use super::{float, int, Builtin, Resolved};

/// A math function of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithFn {
    /// div(a, b): the truncated quotient, numeric.
    Div,
    /// gcd(a, b).
    Gcd,
    /// lcm(a, b).
    Lcm,
    /// factorial(n) → numeric.
    Factorial,
    /// width_bucket(x, low, high, count).
    WidthBucket,
    /// cbrt(float8).
    Cbrt,
    /// degrees(float8).
    Degrees,
    /// radians(float8).
    Radians,
    /// dsqrt(float8): the `|/` operator.
    Dsqrt,
    /// power(numeric, numeric), numeric ^ numeric.
    Power,
    /// sqrt(numeric).
    Sqrt,
    /// exp(numeric).
    Exp,
    /// ln(numeric).
    Ln,
    /// log(numeric) / log10(numeric): base 10.
    Log10,
    /// log(base, x) of numeric.
    Log,
}

fn is_int(t: &DataType) -> bool {
    matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8 | DataType::Unknown)
}

fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float4 | DataType::Float8)
}

fn is_number(t: &DataType) -> bool {
    is_int(t) || is_float(t) || matches!(t, DataType::Numeric(_))
}

/// Resolves a function of this module (None: not one of its names or argument types).
pub(super) fn resolve(name: &str, args: &[DataType]) -> Option<Resolved> {
    use DataType::*;
    let n = args.len();
    let numbers = args.iter().all(is_number);
    let numeric = args.iter().any(|t| matches!(t, Numeric(_))) && !args.iter().any(is_float);
    let num = Some(Numeric(None));
    let f8 = Some(Float8);
    let (f, ty, targets) = match name {
        "div" if n == 2 && numbers => (ArithFn::Div, Numeric(None), vec![num; 2]),
        "gcd" | "lcm" if n == 2 && numbers && !args.iter().any(is_float) => {
            let f = if name == "gcd" { ArithFn::Gcd } else { ArithFn::Lcm };
            let t = if numeric {
                Numeric(None)
            } else if args.contains(&Int8) {
                Int8
            } else {
                Int4
            };
            (f, t.clone(), vec![Some(t); 2])
        }
        "factorial" if n == 1 && is_int(&args[0]) => {
            (ArithFn::Factorial, Numeric(None), vec![Some(Int8)])
        }
        "width_bucket" if n == 4 && numbers && is_int(&args[3]) => {
            let t = if args[..3].iter().any(is_float) { f8 } else { num };
            (ArithFn::WidthBucket, Int4, vec![t.clone(), t.clone(), t, Some(Int4)])
        }
        "cbrt" | "dcbrt" | "dsqrt" | "degrees" | "radians" if n == 1 && numbers => {
            let f = match name {
                "cbrt" | "dcbrt" => ArithFn::Cbrt,
                "dsqrt" => ArithFn::Dsqrt,
                "degrees" => ArithFn::Degrees,
                _ => ArithFn::Radians,
            };
            (f, Float8, vec![f8])
        }
        "power" | "pow" if n == 2 && numbers && numeric => {
            (ArithFn::Power, Numeric(None), vec![num; 2])
        }
        "sqrt" | "exp" | "ln" | "log10" | "log" if n == 1 && numeric => {
            let f = match name {
                "sqrt" => ArithFn::Sqrt,
                "exp" => ArithFn::Exp,
                "ln" => ArithFn::Ln,
                _ => ArithFn::Log10,
            };
            (f, Numeric(None), vec![num])
        }
        "log" if n == 2 && numbers && !args.iter().any(is_float) => {
            (ArithFn::Log, Numeric(None), vec![num; 2])
        }
        _ => return None,
    };
    Some((Builtin::Arith(f), ty, targets))
}

fn dec(v: &Value) -> Result<Decimal> {
    match v {
        Value::Numeric(d) => Ok(*d),
        other => Ok(Decimal::from(int(other)?)),
    }
}

fn overflow() -> Error {
    Error::new(ErrorKind::NumericValueOutOfRange, "value out of range: overflow")
}

/// The decimal exponent of the first significant digit (0 for zero).
fn dweight(d: Decimal) -> i64 {
    let m = d.abs().normalize();
    if m.is_zero() {
        return 0;
    }
    let digits = m.mantissa().to_string().len() as i64;
    digits - 1 - m.scale() as i64
}

/// PostgreSQL's estimate of the decimal weight of ln(x).
fn ln_dweight(x: Decimal) -> i64 {
    let (lo, hi) = (Decimal::new(9, 1), Decimal::new(11, 1));
    if x >= lo && x <= hi {
        let d = x - Decimal::ONE;
        return if d.is_zero() { 0 } else { dweight(d) };
    }
    let l = x.to_f64().map_or(0.0, f64::ln).abs();
    if l == 0.0 {
        0
    } else {
        l.log10() as i64
    }
}

/// Rounds to `rscale` decimals (at least the arguments' scales, at most 1000).
fn scaled(v: Decimal, rscale: i64, args: &[Decimal]) -> Result<Value> {
    let rscale = args.iter().fold(rscale, |r, a| r.max(a.scale() as i64)).clamp(0, 1000);
    let mut r = v.round_dp(rscale.min(28) as u32);
    if dweight(r) + 1 + rscale > 28 {
        return Err(Error::new(
            ErrorKind::NumericValueOutOfRange,
            "value out of range: more than 28 significant digits",
        ));
    }
    r.rescale(rscale as u32);
    Ok(Value::Numeric(r))
}

fn log_error(x: Decimal) -> Option<Error> {
    let what = if x.is_zero() {
        "cannot take logarithm of zero"
    } else if x.is_sign_negative() {
        "cannot take logarithm of a negative number"
    } else {
        return None;
    };
    Some(Error::new(ErrorKind::InvalidArgumentForLog, what))
}

impl ArithFn {
    /// Calls the function (a NULL argument gives NULL).
    pub(super) fn call(self, args: &[Value]) -> Result<Value> {
        if args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        match self {
            // Rust's cbrt, not the C library's: glibc's last bit can differ (its
            // cbrt(27) is 3.0000000000000004).
            ArithFn::Cbrt => Ok(Value::Float8(float(&args[0])?.cbrt())),
            ArithFn::Dsqrt => {
                let x = float(&args[0])?;
                if x < 0.0 {
                    return Err(Error::new(
                        ErrorKind::InvalidArgumentForPowerFunction,
                        "cannot take square root of a negative number",
                    ));
                }
                Ok(Value::Float8(x.sqrt()))
            }
            ArithFn::Degrees => Ok(Value::Float8(float(&args[0])?.to_degrees())),
            ArithFn::Radians => Ok(Value::Float8(float(&args[0])?.to_radians())),
            ArithFn::Factorial => {
                let n = int(&args[0])?;
                if n < 0 {
                    return Err(Error::new(
                        ErrorKind::NumericValueOutOfRange,
                        "factorial of a negative number is undefined",
                    ));
                }
                let mut r = Decimal::ONE;
                for i in 2..=n {
                    r = r.checked_mul(Decimal::from(i)).ok_or_else(overflow)?;
                }
                Ok(Value::Numeric(r))
            }
            ArithFn::Gcd | ArithFn::Lcm => gcd_lcm(self, args),
            ArithFn::WidthBucket => width_bucket(args),
            _ => numeric(self, dec(&args[0])?, args.get(1).map(dec).transpose()?),
        }
    }
}

fn numeric(f: ArithFn, a: Decimal, b: Option<Decimal>) -> Result<Value> {
    let b = b.unwrap_or_default();
    match f {
        ArithFn::Div => {
            if b.is_zero() {
                return Err(Error::new(ErrorKind::DivisionByZero, "division by zero"));
            }
            Ok(Value::Numeric(a.checked_div(b).ok_or_else(overflow)?.trunc()))
        }
        ArithFn::Sqrt => {
            if a.is_sign_negative() && !a.is_zero() {
                return Err(Error::new(
                    ErrorKind::InvalidArgumentForPowerFunction,
                    "cannot take square root of a negative number",
                ));
            }
            let weight = dweight(a).div_euclid(4);
            let rscale = 16 - ((weight + 1) * 4 / 2 - 1);
            scaled(a.sqrt().ok_or_else(overflow)?, rscale, &[a])
        }
        ArithFn::Exp => {
            let val = a.to_f64().unwrap_or(0.0) * std::f64::consts::LOG10_E;
            scaled(a.checked_exp().ok_or_else(overflow)?, 16 - val as i64, &[a])
        }
        ArithFn::Ln => {
            if let Some(e) = log_error(a) {
                return Err(e);
            }
            scaled(a.ln(), 16 - ln_dweight(a), &[a])
        }
        ArithFn::Log10 | ArithFn::Log => {
            let (base, x) = if f == ArithFn::Log { (a, b) } else { (Decimal::TEN, a) };
            if let Some(e) = log_error(base).or_else(|| log_error(x)) {
                return Err(e);
            }
            if base == Decimal::ONE {
                return Err(Error::new(ErrorKind::DivisionByZero, "division by zero"));
            }
            let r = x.ln().checked_div(base.ln()).ok_or_else(overflow)?;
            scaled(r, 16 - (ln_dweight(x) - ln_dweight(base)), &[base, x])
        }
        ArithFn::Power => power(a, b),
        _ => Err(Error::internal("numeric math function")),
    }
}

fn power(base: Decimal, exp: Decimal) -> Result<Value> {
    if base.is_zero() && exp.is_sign_negative() && !exp.is_zero() {
        return Err(Error::new(
            ErrorKind::InvalidArgumentForPowerFunction,
            "zero raised to a negative power is undefined",
        ));
    }
    if exp.fract().is_zero() {
        let n = exp.to_i64().ok_or_else(overflow)?;
        let r = base.checked_powi(n).ok_or_else(overflow)?;
        return scaled(r, 16, &[base, exp]);
    }
    if base.is_sign_negative() {
        return Err(Error::new(
            ErrorKind::InvalidArgumentForPowerFunction,
            "a negative number raised to a non-integer power yields a complex result",
        ));
    }
    let val = exp.to_f64().unwrap_or(0.0) * base.to_f64().map_or(0.0, f64::log10);
    let r = base.checked_powd(exp).ok_or_else(overflow)?;
    scaled(r, 16 - val as i64, &[base, exp])
}

fn gcd_lcm(f: ArithFn, args: &[Value]) -> Result<Value> {
    let (a, b) = (dec(&args[0])?, dec(&args[1])?);
    let (mut x, mut y) = (a.abs(), b.abs());
    while !y.is_zero() {
        let r = x % y;
        x = y;
        y = r;
    }
    let r = if f == ArithFn::Gcd {
        x
    } else if a.is_zero() || b.is_zero() {
        Decimal::ZERO
    } else {
        (a / x).checked_mul(b).ok_or_else(overflow)?.abs()
    };
    let out_of_range =
        |ty: &str| Error::new(ErrorKind::NumericValueOutOfRange, format!("{ty} out of range"));
    Ok(match &args[0] {
        Value::Int4(_) => Value::Int4(r.to_i32().ok_or_else(|| out_of_range("integer"))?),
        Value::Int8(_) => Value::Int8(r.to_i64().ok_or_else(|| out_of_range("bigint"))?),
        _ => Value::Numeric(r),
    })
}

fn width_bucket(args: &[Value]) -> Result<Value> {
    let count = int(&args[3])?;
    if count <= 0 {
        return Err(Error::new(
            ErrorKind::InvalidArgumentForWidthBucket,
            "count must be greater than zero",
        ));
    }
    let (x, lo, hi) = match (&args[0], &args[1], &args[2]) {
        (Value::Numeric(x), Value::Numeric(lo), Value::Numeric(hi)) => {
            (x.to_f64(), lo.to_f64(), hi.to_f64())
        }
        _ => (Some(float(&args[0])?), Some(float(&args[1])?), Some(float(&args[2])?)),
    };
    let (Some(x), Some(lo), Some(hi)) = (x, lo, hi) else { return Err(overflow()) };
    if lo == hi {
        return Err(Error::new(
            ErrorKind::InvalidArgumentForWidthBucket,
            "lower bound cannot equal upper bound",
        ));
    }
    let bucket = if lo < hi {
        if x < lo {
            0
        } else if x >= hi {
            count + 1
        } else {
            ((x - lo) / (hi - lo) * count as f64) as i64 + 1
        }
    } else if x > lo {
        0
    } else if x <= hi {
        count + 1
    } else {
        ((lo - x) / (lo - hi) * count as f64) as i64 + 1
    };
    Ok(Value::Int4(i32::try_from(bucket).map_err(|_| overflow())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    fn shown(v: Result<Value>) -> String {
        match v {
            Ok(Value::Numeric(d)) => d.to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numeric_result_scales_follow_postgres() {
        assert_eq!(shown(numeric(ArithFn::Sqrt, n("2.0"), None)), "1.414213562373095");
        assert_eq!(shown(numeric(ArithFn::Sqrt, n("0.0001"), None)), "0.01000000000000000");
        assert_eq!(shown(numeric(ArithFn::Exp, n("1.0"), None)), "2.7182818284590452");
        assert_eq!(shown(numeric(ArithFn::Ln, n("1.05"), None)), "0.048790164169432003");
        assert_eq!(shown(power(n("2.0"), n("-1"))), "0.5000000000000000");
        assert_eq!(shown(power(n("1e10"), n("0.5"))), "100000.00000000000");
    }

    #[test]
    fn too_many_digits_are_refused() {
        assert!(power(n("2"), n("64")).is_err());
    }

    #[test]
    fn width_buckets() {
        let wb = |x: &str| {
            width_bucket(&[
                Value::Numeric(n(x)),
                Value::Numeric(n("0")),
                Value::Numeric(n("10")),
                Value::Int4(5),
            ])
        };
        assert_eq!(wb("5.35").ok(), Some(Value::Int4(3)));
        assert_eq!(wb("-1").ok(), Some(Value::Int4(0)));
        assert_eq!(wb("10").ok(), Some(Value::Int4(6)));
    }
}
