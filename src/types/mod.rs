//! SQL types and values: what a column holds, how it looks on the wire (text and
//! binary), how it casts, compares and computes — PostgreSQL 15's rules and messages.
//!
//! A [`Value`] does not carry its full type; the planner knows each expression's
//! [`DataType`] and passes it where the representation depends on it (text output of
//! `char(n)`, binary format, casts).

use rust_decimal::Decimal;
use std::cmp::Ordering;

use crate::error::Result;

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
    /// `timestamp without time zone` (1114).
    Timestamp,
    /// `timestamp with time zone` (1184).
    TimestampTz,
    /// `date` (1082).
    Date,
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
}

impl DataType {
    /// The type's oid as RowDescription and ParameterDescription report it.
    pub fn oid(&self) -> u32 {
        todo_types()
    }

    /// `typlen` as RowDescription reports it (-1 variable, -2 cstring).
    pub fn type_size(&self) -> i16 {
        todo_types()
    }

    /// `atttypmod` as RowDescription reports it (-1 when none).
    pub fn type_modifier(&self) -> i32 {
        todo_types()
    }

    /// The type for a wire oid (parameter types a client declares). `None` if unknown.
    pub fn from_oid(oid: u32) -> Option<DataType> {
        let _ = oid;
        todo_types()
    }

    /// The type of a column definition or cast target, from sqlparser's AST.
    /// Unknown or unsupported types are 42704 `type "x" does not exist` or 0A000.
    pub fn from_sql(ty: &sqlparser::ast::DataType) -> Result<DataType> {
        let _ = ty;
        todo_types()
    }

    /// PostgreSQL's name for the type as `format_type` prints it (`integer`,
    /// `character(84)`, `timestamp without time zone`, `numeric(10,2)`, `name[]`).
    pub fn display_name(&self) -> String {
        todo_types()
    }
}

impl Value {
    /// True for NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

fn todo_types() -> ! {
    unimplemented!("types module is being written")
}

/// Text output (PostgreSQL's typoutput) of a non-NULL value of type `ty`, appended.
pub fn write_text(value: &Value, ty: &DataType, out: &mut bytes::BytesMut) {
    let _ = (value, ty, out);
    todo_types()
}

/// Binary output (typsend) of a non-NULL value of type `ty`, appended.
pub fn write_binary(value: &Value, ty: &DataType, out: &mut bytes::BytesMut) -> Result<()> {
    let _ = (value, ty, out);
    todo_types()
}

/// Text input (typinput) of `text` as type `ty`, with PostgreSQL's errors.
pub fn parse_text(text: &str, ty: &DataType) -> Result<Value> {
    let _ = (text, ty);
    todo_types()
}

/// Binary input (typreceive) of `bytes` as type `ty`.
pub fn parse_binary(bytes: &[u8], ty: &DataType) -> Result<Value> {
    let _ = (bytes, ty);
    todo_types()
}

/// Casts `value` of type `from` to type `to` (explicit cast semantics: `::`/CAST, and
/// assignment to a column), enforcing modifiers (char(n) padding, varchar(n) 22001,
/// numeric(p,s) rounding/22003, integer range 22003).
pub fn cast(value: &Value, from: &DataType, to: &DataType) -> Result<Value> {
    let _ = (value, from, to);
    todo_types()
}

/// The result type of `left op right`, or 42883 `operator does not exist: integer +
/// text` (with PostgreSQL's hint). `Unknown` operands take the other side's type.
pub fn binary_op_type(op: BinaryOp, left: &DataType, right: &DataType) -> Result<DataType> {
    let _ = (op, left, right);
    todo_types()
}

/// Evaluates `left op right` for non-NULL operands whose types are `left_ty`/`right_ty`
/// (as resolved by [`binary_op_type`]): overflow is 22003 (`integer out of range`),
/// division by zero 22012. Comparisons return `Value::Bool`.
pub fn binary_op(
    op: BinaryOp,
    left: &Value,
    left_ty: &DataType,
    right: &Value,
    right_ty: &DataType,
) -> Result<Value> {
    let _ = (op, left, left_ty, right, right_ty);
    todo_types()
}

/// Total order used by ORDER BY, GROUP BY, DISTINCT and keys: NULLs last, numbers of
/// different widths compared by value, text by bytes (C collation).
pub fn compare(left: &Value, right: &Value) -> Ordering {
    let _ = (left, right);
    todo_types()
}

/// Compact self-describing binary encoding of a row, for the WAL and fjall.
pub fn encode_row(values: &[Value], out: &mut Vec<u8>) {
    let _ = (values, out);
    todo_types()
}

/// Inverse of [`encode_row`]. A corrupt row is an `Internal` error, never a panic.
pub fn decode_row(bytes: &[u8]) -> Result<Vec<Value>> {
    let _ = bytes;
    todo_types()
}

/// Order-preserving ("memcomparable") encoding of a key: for two keys of the same
/// types, byte order equals [`compare`] order. Integers of every width encode as the
/// same 8-byte sign-flipped big-endian form, so int4 and int8 keys agree.
pub fn encode_key(values: &[Value], out: &mut Vec<u8>) {
    let _ = (values, out);
    todo_types()
}
