//! SQL types and values: what a column holds, how it looks on the wire (text and
//! binary), how it casts, compares and computes — PostgreSQL 15's rules and messages.
//!
//! A [`Value`] does not carry its full type; the planner knows each expression's
//! [`DataType`] and passes it where the representation depends on it (text output of
//! `char(n)`, binary format, casts).
//!
//! ```text
//!   client text ──parse_text──┐                ┌──write_text──▶ client text
//!   client bytes ─parse_binary┤                ├─write_binary─▶ client bytes
//!                             ▼                │
//!   literal ('5', unknown) ─cast──▶  Value  ───┤──binary_op / compare──▶ Value
//!                                     │  ▲     │
//!                      encode_row ────┘  └──── decode_row       (WAL, fjall rows)
//!                      encode_key ──▶ memcomparable bytes       (fjall keys)
//! ```
//!
//! The files, one idea each:
//!
//! * `datatype.rs`: catalog facts (oid, typlen, typmod, `format_type`) and `from_sql`.
//! * `text.rs`, `binary.rs`: PostgreSQL's typinput/typoutput and typreceive/typsend;
//!   `array.rs` the text form of arrays.
//! * `numeric.rs`, `datetime.rs`: the two representations that need real work.
//! * `cast.rs`: explicit and assignment casts, and which casts are implicit.
//! * `ops.rs`: operator resolution (`unknown` takes the other side's type);
//!   `arith.rs` the arithmetic, with PostgreSQL's overflow and division errors.
//! * `order.rs`: the total order and the key encoding that preserves it.
//! * `row.rs`: the storage encoding of rows.
//!
//! * `interval.rs` (with `interval_in.rs`, its input), `bytea.rs` (bytea and uuid),
//!   `jsonb.rs`: the types whose representation is an idea of its own.
//!
//! Deliberate gaps, each refused with 0A000 rather than approximated: numeric NaN and
//! Infinity, numerics beyond 28 significant digits (22003), multidimensional arrays,
//! time zones other than UTC and fixed offsets, `json` (use `jsonb`), interval
//! typmods (`interval hour to minute`), and `regclass` input by name (the catalog
//! resolves names; here `regclass` is a number).

mod arith;
mod array;
mod binary;
mod bytea;
mod cast;
mod datatype;
mod datetime;
mod interval;
mod interval_in;
mod jsonb;
mod numeric;
mod ops;
mod order;
mod row;
mod text;

pub use binary::{bad_binary, parse_binary, write_binary};
pub use bytea::random_uuid;
pub use cast::{assign_cast, can_cast_assignment, can_cast_implicitly, cast};
pub use interval::{format_interval, parse_interval, Interval};
pub use jsonb::{format_jsonb, parse_jsonb, Jsonb};
pub(crate) use numeric::divide as numeric_divide;
pub use ops::{binary_op, binary_op_operand_types, binary_op_type};
pub use order::{compare, encode_key};
pub use row::{decode_row, encode_row};
pub use text::{format_float4, format_float8, parse_text, text_of, write_text};

use rust_decimal::Decimal;

/// A column or expression type, with its modifier where PostgreSQL has one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataType {
    /// `boolean` (oid 16).
    Bool,
    /// `smallint` / int2 (21).
    Int2,
    /// `integer` / int4 (23).
    Int4,
    /// `bigint` / int8 (20).
    Int8,
    /// `real` / float4 (700).
    Float4,
    /// `double precision` / float8 (701).
    Float8,
    /// `numeric[(p[,s])]` (1700).
    Numeric(Option<(u32, u32)>),
    /// `text` (25).
    Text,
    /// `character varying[(n)]` (1043).
    Varchar(Option<u32>),
    /// `character[(n)]` / bpchar (1042); blank-padded.
    Bpchar(Option<u32>),
    /// `name` (19), the catalog's identifier type.
    Name,
    /// `"char"` (18), the one-byte catalog type.
    Char,
    /// `oid` (26).
    Oid,
    /// `regclass` (2205).
    Regclass,
    /// `regtype` (2206).
    Regtype,
    /// `regnamespace` (4089).
    Regnamespace,
    /// `timestamp without time zone` (1114).
    Timestamp,
    /// `timestamp with time zone` (1184).
    TimestampTz,
    /// `date` (1082).
    Date,
    /// `interval` (1186).
    Interval,
    /// `bytea` (17).
    Bytea,
    /// `uuid` (2950).
    Uuid,
    /// `jsonb` (3802).
    Jsonb,
    /// An array of the element type (e.g. `name[]` 1003, `int4[]` 1007, `text[]` 1009).
    Array(Box<DataType>),
    /// The type of an untyped literal or parameter before inference (`unknown`, 705).
    Unknown,
}

/// A value. NULL is a value here; SQL's three-valued logic is the evaluator's job.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// boolean.
    Bool(bool),
    /// int2.
    Int2(i16),
    /// int4.
    Int4(i32),
    /// int8.
    Int8(i64),
    /// float4.
    Float4(f32),
    /// float8.
    Float8(f64),
    /// numeric (28 significant digits; wider values are refused with 22003).
    Numeric(Decimal),
    /// text, varchar, bpchar (already blank-padded), name, unknown literals.
    Text(String),
    /// "char".
    Char(u8),
    /// oid and regclass.
    Oid(u32),
    /// timestamp: microseconds since 2000-01-01 00:00:00 (PostgreSQL's epoch).
    Timestamp(i64),
    /// timestamptz: microseconds since 2000-01-01 00:00:00 UTC.
    TimestampTz(i64),
    /// date: days since 2000-01-01.
    Date(i32),
    /// interval: months, days, microseconds.
    Interval(Interval),
    /// bytea.
    Bytea(Vec<u8>),
    /// uuid, 16 bytes in network order.
    Uuid([u8; 16]),
    /// jsonb (boxed: documents are rare and keep `Value` small).
    Jsonb(Box<Jsonb>),
    /// An array (one dimension, lower bound 1).
    Array(Vec<Value>),
}

/// Binary and comparison operators the evaluator resolves by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `||`
    Concat,
    /// `=`
    Eq,
    /// `<>`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `jsonb -> text|int`
    JsonGet,
    /// `jsonb ->> text|int`
    JsonGetText,
    /// `jsonb #> text[]`
    JsonPath,
    /// `jsonb #>> text[]`
    JsonPathText,
    /// `jsonb @> jsonb`
    JsonContains,
    /// `jsonb <@ jsonb`
    JsonContainedBy,
    /// `array[int]`: a subscript, resolved like an operator (NULL out of range).
    Subscript,
    /// `&` on integers.
    BitAnd,
    /// `|` on integers.
    BitOr,
    /// `#` on integers.
    BitXor,
    /// `<<` on integers.
    ShiftLeft,
    /// `>>` on integers.
    ShiftRight,
    /// `jsonb ? text`: a top-level key (or string element) exists.
    JsonHasKey,
    /// `jsonb ?| text[]`: any of them exists.
    JsonHasAny,
    /// `jsonb ?& text[]`: all of them exist.
    JsonHasAll,
}

impl Value {
    /// True for NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}
