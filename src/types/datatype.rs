//! What PostgreSQL's catalog says about each [`DataType`]: oid, `typlen`, `atttypmod`,
//! `format_type` name, and the mapping from sqlparser's type syntax.
//!
//! Only the types in [`DataType`] exist. A type PostgreSQL has but troupe does not
//! (`json`, `time`, `inet`, ...) is refused with 0A000 rather than stored as text;
//! a name PostgreSQL does not know either is 42704, as in PostgreSQL.

use sqlparser::ast::{self, ArrayElemTypeDef, CharacterLength, ExactNumberInfo, TimezoneInfo};

use super::DataType;
use crate::error::{Error, ErrorKind, Result};

/// (element type, array oid) for every array type troupe knows.
const ARRAY_OIDS: &[(DataType, u32)] = &[
    (DataType::Bool, 1000),
    (DataType::Char, 1002),
    (DataType::Name, 1003),
    (DataType::Int2, 1005),
    (DataType::Int4, 1007),
    (DataType::Text, 1009),
    (DataType::Bpchar(None), 1014),
    (DataType::Varchar(None), 1015),
    (DataType::Int8, 1016),
    (DataType::Float4, 1021),
    (DataType::Float8, 1022),
    (DataType::Oid, 1028),
    (DataType::Timestamp, 1115),
    (DataType::Date, 1182),
    (DataType::TimestampTz, 1185),
    (DataType::Numeric(None), 1231),
    (DataType::Regclass, 2210),
    (DataType::Regtype, 2211),
    (DataType::Regnamespace, 4090),
    (DataType::Bytea, 1001),
    (DataType::Interval, 1187),
    (DataType::Uuid, 2951),
    (DataType::Jsonb, 3807),
];

/// Longest `varchar(n)` / `char(n)` PostgreSQL accepts.
const MAX_CHAR_LENGTH: u64 = 10_485_760;

/// Type names PostgreSQL has and troupe refuses with 0A000 (as `from_sql` sees them).
const UNSUPPORTED_NAMES: &[&str] = &[
    "json",
    "time",
    "timetz",
    "money",
    "inet",
    "cidr",
    "macaddr",
    "macaddr8",
    "xml",
    "bit",
    "varbit",
    "tsvector",
    "tsquery",
    "point",
    "line",
    "lseg",
    "box",
    "path",
    "polygon",
    "circle",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
    "jsonpath",
    "regproc",
    "regprocedure",
    "regoper",
    "regoperator",
    "regrole",
    "regconfig",
    "regdictionary",
    "pg_lsn",
    "xid",
    "xid8",
    "cid",
    "tid",
    "int2vector",
    "oidvector",
    "record",
    "txid_snapshot",
    "pg_snapshot",
];

impl DataType {
    /// The type's oid as RowDescription and ParameterDescription report it.
    pub fn oid(&self) -> u32 {
        match self {
            DataType::Bool => 16,
            DataType::Int2 => 21,
            DataType::Int4 => 23,
            DataType::Int8 => 20,
            DataType::Float4 => 700,
            DataType::Float8 => 701,
            DataType::Numeric(_) => 1700,
            DataType::Text => 25,
            DataType::Varchar(_) => 1043,
            DataType::Bpchar(_) => 1042,
            DataType::Name => 19,
            DataType::Char => 18,
            DataType::Oid => 26,
            DataType::Regclass => 2205,
            DataType::Regtype => 2206,
            DataType::Regnamespace => 4089,
            DataType::Timestamp => 1114,
            DataType::TimestampTz => 1184,
            DataType::Date => 1082,
            DataType::Interval => 1186,
            DataType::Bytea => 17,
            DataType::Uuid => 2950,
            DataType::Jsonb => 3802,
            DataType::Unknown => 705,
            DataType::Array(elem) => {
                let base = elem.without_modifier();
                ARRAY_OIDS.iter().find(|(t, _)| *t == base).map_or(0, |(_, oid)| *oid)
            }
        }
    }

    /// `typlen` as RowDescription reports it (-1 variable, -2 cstring).
    pub fn type_size(&self) -> i16 {
        match self {
            DataType::Bool | DataType::Char => 1,
            DataType::Int2 => 2,
            DataType::Int4
            | DataType::Float4
            | DataType::Oid
            | DataType::Regclass
            | DataType::Regtype
            | DataType::Regnamespace
            | DataType::Date => 4,
            DataType::Int8 | DataType::Float8 | DataType::Timestamp | DataType::TimestampTz => 8,
            DataType::Name => 64,
            DataType::Interval | DataType::Uuid => 16,
            DataType::Unknown => -2,
            DataType::Numeric(_)
            | DataType::Text
            | DataType::Varchar(_)
            | DataType::Bpchar(_)
            | DataType::Bytea
            | DataType::Jsonb
            | DataType::Array(_) => -1,
        }
    }

    /// `atttypmod` as RowDescription reports it (-1 when none). An array column reports
    /// its element's modifier, as PostgreSQL does.
    pub fn type_modifier(&self) -> i32 {
        match self {
            DataType::Numeric(Some((p, s))) => (((*p as i32) << 16) | *s as i32) + 4,
            DataType::Varchar(Some(n)) | DataType::Bpchar(Some(n)) => *n as i32 + 4,
            DataType::Array(elem) => elem.type_modifier(),
            _ => -1,
        }
    }

    /// The type for a wire oid (parameter types a client declares). `None` if unknown,
    /// including 0 ("unspecified": the caller infers the type).
    pub fn from_oid(oid: u32) -> Option<DataType> {
        let ty = match oid {
            16 => DataType::Bool,
            21 => DataType::Int2,
            23 => DataType::Int4,
            20 => DataType::Int8,
            700 => DataType::Float4,
            701 => DataType::Float8,
            1700 => DataType::Numeric(None),
            25 => DataType::Text,
            1043 => DataType::Varchar(None),
            1042 => DataType::Bpchar(None),
            19 => DataType::Name,
            18 => DataType::Char,
            26 => DataType::Oid,
            2205 => DataType::Regclass,
            2206 => DataType::Regtype,
            4089 => DataType::Regnamespace,
            1114 => DataType::Timestamp,
            1184 => DataType::TimestampTz,
            1082 => DataType::Date,
            1186 => DataType::Interval,
            17 => DataType::Bytea,
            2950 => DataType::Uuid,
            3802 => DataType::Jsonb,
            705 => DataType::Unknown,
            _ => {
                let (elem, _) = ARRAY_OIDS.iter().find(|(_, o)| *o == oid)?;
                DataType::Array(Box::new(elem.clone()))
            }
        };
        Some(ty)
    }

    /// PostgreSQL's name for the type as `format_type` prints it (`integer`,
    /// `character(84)`, `timestamp without time zone`, `numeric(10,2)`, `name[]`).
    pub fn display_name(&self) -> String {
        match self {
            DataType::Bool => "boolean".into(),
            DataType::Int2 => "smallint".into(),
            DataType::Int4 => "integer".into(),
            DataType::Int8 => "bigint".into(),
            DataType::Float4 => "real".into(),
            DataType::Float8 => "double precision".into(),
            DataType::Numeric(None) => "numeric".into(),
            DataType::Numeric(Some((p, s))) => format!("numeric({p},{s})"),
            DataType::Text => "text".into(),
            DataType::Varchar(None) => "character varying".into(),
            DataType::Varchar(Some(n)) => format!("character varying({n})"),
            DataType::Bpchar(None) => "bpchar".into(),
            DataType::Bpchar(Some(n)) => format!("character({n})"),
            DataType::Name => "name".into(),
            DataType::Char => "\"char\"".into(),
            DataType::Oid => "oid".into(),
            DataType::Regclass => "regclass".into(),
            DataType::Regtype => "regtype".into(),
            DataType::Regnamespace => "regnamespace".into(),
            DataType::Timestamp => "timestamp without time zone".into(),
            DataType::TimestampTz => "timestamp with time zone".into(),
            DataType::Date => "date".into(),
            DataType::Interval => "interval".into(),
            DataType::Bytea => "bytea".into(),
            DataType::Uuid => "uuid".into(),
            DataType::Jsonb => "jsonb".into(),
            DataType::Unknown => "unknown".into(),
            DataType::Array(elem) => format!("{}[]", elem.display_name()),
        }
    }

    /// The same type without its modifier (`varchar(10)` → `varchar`): what the oid,
    /// operators and casts look at.
    pub fn without_modifier(&self) -> DataType {
        match self {
            DataType::Numeric(_) => DataType::Numeric(None),
            DataType::Varchar(_) => DataType::Varchar(None),
            DataType::Bpchar(_) => DataType::Bpchar(None),
            DataType::Array(elem) => DataType::Array(Box::new(elem.without_modifier())),
            other => other.clone(),
        }
    }

    /// True for the string types that share text's operators: text, varchar, bpchar,
    /// name (and unknown literals, which are strings until resolved).
    pub fn is_string(&self) -> bool {
        matches!(self, DataType::Text | DataType::Varchar(_) | DataType::Bpchar(_) | DataType::Name)
    }

    /// The type of a column definition or cast target, from sqlparser's AST.
    /// Unknown or unsupported types are 42704 `type "x" does not exist` or 0A000.
    /// `serial` and friends are not types: the caller rewrites them before this.
    pub fn from_sql(ty: &ast::DataType) -> Result<DataType> {
        use ast::DataType as S;
        Ok(match ty {
            S::Int(_) | S::Integer(_) | S::Int4(_) => DataType::Int4,
            S::SmallInt(_) | S::Int2(_) => DataType::Int2,
            S::BigInt(_) | S::Int8(_) => DataType::Int8,
            S::Real | S::Float4 => DataType::Float4,
            S::DoublePrecision | S::Float8 => DataType::Float8,
            S::Float(info) => float_with_precision(info)?,
            S::Numeric(info) | S::Decimal(info) | S::Dec(info) => numeric_with_typmod(info)?,
            S::Text => DataType::Text,
            S::Varchar(len) | S::CharacterVarying(len) | S::CharVarying(len) => {
                DataType::Varchar(char_length(len.as_ref(), "varchar")?)
            }
            S::Char(len) | S::Character(len) => {
                DataType::Bpchar(Some(char_length(len.as_ref(), "char")?.unwrap_or(1)))
            }
            S::Bool | S::Boolean => DataType::Bool,
            S::Date => DataType::Date,
            S::Timestamp(precision, tz) => {
                check_timestamp_precision(*precision)?;
                match tz {
                    TimezoneInfo::None | TimezoneInfo::WithoutTimeZone => DataType::Timestamp,
                    TimezoneInfo::WithTimeZone | TimezoneInfo::Tz => DataType::TimestampTz,
                }
            }
            S::Regclass => DataType::Regclass,
            S::Array(ArrayElemTypeDef::SquareBracket(elem, _))
            | S::Array(ArrayElemTypeDef::Qualified(elem, _))
            | S::Array(ArrayElemTypeDef::AngleBracket(elem)) => match DataType::from_sql(elem)? {
                // `int[][]` is `int[]` in PostgreSQL: dimensions are not part of the type.
                array @ DataType::Array(_) => array,
                elem => DataType::Array(Box::new(elem)),
            },
            S::Custom(name, modifiers) => custom_type(name, modifiers)?,
            S::Uuid => DataType::Uuid,
            S::JSON => return Err(unsupported_type("json")),
            S::JSONB => DataType::Jsonb,
            S::Bytea => DataType::Bytea,
            S::Interval { fields: None, precision: None } => DataType::Interval,
            S::Interval { .. } => {
                return Err(Error::new(
                    ErrorKind::FeatureNotSupported,
                    "interval fields and precision are not supported yet",
                ))
            }
            S::Time(_, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz) => {
                return Err(unsupported_type("time with time zone"))
            }
            S::Time(..) => return Err(unsupported_type("time without time zone")),
            S::Bit(_) => return Err(unsupported_type("bit")),
            S::BitVarying(_) | S::VarBit(_) => return Err(unsupported_type("bit varying")),
            S::TsVector => return Err(unsupported_type("tsvector")),
            S::TsQuery => return Err(unsupported_type("tsquery")),
            S::GeometricType(kind) => {
                return Err(unsupported_type(kind.to_string().to_lowercase()))
            }
            other => return Err(undefined_type(&other.to_string().to_lowercase())),
        })
    }
}

/// 42704 `type "x" does not exist`.
fn undefined_type(name: &str) -> Error {
    Error::new(ErrorKind::UndefinedObject, format!("type \"{name}\" does not exist"))
}

/// 0A000 for a PostgreSQL type troupe does not implement.
fn unsupported_type(name: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::FeatureNotSupported, format!("type {name} is not supported yet"))
}

/// 22023 for a bad type modifier, in PostgreSQL's words.
fn bad_modifier(message: String) -> Error {
    Error::new(ErrorKind::InvalidParameterValue, message)
}

/// `float(p)`: 1–24 bits is real, 25–53 double precision.
fn float_with_precision(info: &ExactNumberInfo) -> Result<DataType> {
    match info {
        ExactNumberInfo::None => Ok(DataType::Float8),
        ExactNumberInfo::Precision(0) => {
            Err(bad_modifier("precision for type float must be at least 1 bit".into()))
        }
        ExactNumberInfo::Precision(p) if *p <= 24 => Ok(DataType::Float4),
        ExactNumberInfo::Precision(p) if *p <= 53 => Ok(DataType::Float8),
        ExactNumberInfo::Precision(_) => {
            Err(bad_modifier("precision for type float must be less than 54 bits".into()))
        }
        ExactNumberInfo::PrecisionAndScale(..) => {
            Err(Error::syntax("syntax error at or near \",\""))
        }
    }
}

/// `numeric(p[,s])` with PostgreSQL's bounds on p and s.
fn numeric_with_typmod(info: &ExactNumberInfo) -> Result<DataType> {
    let (p, s) = match info {
        ExactNumberInfo::None => return Ok(DataType::Numeric(None)),
        ExactNumberInfo::Precision(p) => (*p, 0i64),
        ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
    };
    numeric_typmod(p, s)
}

fn numeric_typmod(p: u64, s: i64) -> Result<DataType> {
    if !(1..=1000).contains(&p) {
        return Err(bad_modifier(format!("NUMERIC precision {p} must be between 1 and 1000")));
    }
    if s < 0 || s as u64 > p {
        return Err(bad_modifier(format!("NUMERIC scale {s} must be between 0 and precision {p}")));
    }
    Ok(DataType::Numeric(Some((p as u32, s as u32))))
}

/// The n of `varchar(n)` / `char(n)`, bounded as PostgreSQL bounds it.
fn char_length(len: Option<&CharacterLength>, type_name: &str) -> Result<Option<u32>> {
    match len {
        None => Ok(None),
        Some(CharacterLength::Max) => Err(Error::syntax("syntax error at or near \"MAX\"")),
        Some(CharacterLength::IntegerLength { length, .. }) => checked_length(*length, type_name),
    }
}

fn checked_length(length: u64, type_name: &str) -> Result<Option<u32>> {
    if length < 1 {
        return Err(bad_modifier(format!("length for type {type_name} must be at least 1")));
    }
    if length > MAX_CHAR_LENGTH {
        return Err(bad_modifier(format!(
            "length for type {type_name} cannot exceed {MAX_CHAR_LENGTH}"
        )));
    }
    Ok(Some(length as u32))
}

/// Timestamps are stored with microseconds; `timestamp(6)` (or more, which PostgreSQL
/// reduces to 6) is the same type. A coarser precision would have to round every value
/// stored, which troupe does not do yet, so it is refused rather than ignored.
fn check_timestamp_precision(precision: Option<u64>) -> Result<()> {
    match precision {
        Some(p) if p < 6 => Err(Error::new(
            ErrorKind::FeatureNotSupported,
            format!("timestamp precision {p} is not supported yet"),
        )),
        _ => Ok(()),
    }
}

/// Type names sqlparser does not know as keywords: `name`, `"char"`, `oid`, `bpchar`,
/// and quoted or schema-qualified spellings of the built-in names.
fn custom_type(name: &ast::ObjectName, modifiers: &[String]) -> Result<DataType> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) if ident.quote_style.is_some() => ident.value.clone(),
            Some(ident) => ident.value.to_lowercase(),
            None => part.to_string(),
        })
        .collect();
    let type_name = match parts.as_slice() {
        [only] => only.as_str(),
        [schema, only] if schema == "pg_catalog" => only.as_str(),
        _ => return Err(undefined_type(&parts.join("."))),
    };
    let numbers: Vec<u64> = modifiers
        .iter()
        .map(|m| m.trim().parse::<u64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::syntax(format!("invalid type modifier for type \"{type_name}\"")))?;
    let no_modifiers = |ty: DataType| -> Result<DataType> {
        if numbers.is_empty() {
            Ok(ty)
        } else {
            Err(Error::new(
                ErrorKind::SyntaxError,
                format!("type modifier is not allowed for type \"{type_name}\""),
            ))
        }
    };
    match type_name {
        "bpchar" => match numbers.as_slice() {
            [] => Ok(DataType::Bpchar(None)),
            [n] => Ok(DataType::Bpchar(checked_length(*n, "char")?)),
            _ => Err(bad_modifier("invalid type modifier".into())),
        },
        "varchar" => match numbers.as_slice() {
            [] => Ok(DataType::Varchar(None)),
            [n] => Ok(DataType::Varchar(checked_length(*n, "varchar")?)),
            _ => Err(bad_modifier("invalid type modifier".into())),
        },
        "numeric" | "decimal" => match numbers.as_slice() {
            [] => Ok(DataType::Numeric(None)),
            [p] => numeric_typmod(*p, 0),
            [p, s] => numeric_typmod(*p, *s as i64),
            _ => Err(bad_modifier("invalid NUMERIC type modifier".into())),
        },
        "name" => no_modifiers(DataType::Name),
        "char" => no_modifiers(DataType::Char),
        "oid" => no_modifiers(DataType::Oid),
        "regclass" => no_modifiers(DataType::Regclass),
        "regtype" => no_modifiers(DataType::Regtype),
        "regnamespace" => no_modifiers(DataType::Regnamespace),
        "text" => no_modifiers(DataType::Text),
        "bool" => no_modifiers(DataType::Bool),
        "int2" => no_modifiers(DataType::Int2),
        "int4" => no_modifiers(DataType::Int4),
        "int8" => no_modifiers(DataType::Int8),
        "float4" => no_modifiers(DataType::Float4),
        "float8" => no_modifiers(DataType::Float8),
        "date" => no_modifiers(DataType::Date),
        "timestamp" => no_modifiers(DataType::Timestamp),
        "timestamptz" => no_modifiers(DataType::TimestampTz),
        "interval" => no_modifiers(DataType::Interval),
        "bytea" => no_modifiers(DataType::Bytea),
        "uuid" => no_modifiers(DataType::Uuid),
        "jsonb" => no_modifiers(DataType::Jsonb),
        "unknown" => no_modifiers(DataType::Unknown),
        other if UNSUPPORTED_NAMES.contains(&other) => Err(unsupported_type(other)),
        other => Err(undefined_type(other)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn parse(sql_type: &str) -> Result<DataType> {
        let dialect = PostgreSqlDialect {};
        let ty = Parser::new(&dialect).try_with_sql(sql_type).unwrap().parse_data_type().unwrap();
        DataType::from_sql(&ty)
    }

    #[test]
    fn sql_type_names_map_to_types() {
        let cases = [
            ("int", DataType::Int4),
            ("integer", DataType::Int4),
            ("int4", DataType::Int4),
            ("smallint", DataType::Int2),
            ("int8", DataType::Int8),
            ("real", DataType::Float4),
            ("float", DataType::Float8),
            ("float(10)", DataType::Float4),
            ("double precision", DataType::Float8),
            ("numeric(10,2)", DataType::Numeric(Some((10, 2)))),
            ("decimal(5)", DataType::Numeric(Some((5, 0)))),
            ("numeric", DataType::Numeric(None)),
            ("varchar(10)", DataType::Varchar(Some(10))),
            ("character varying", DataType::Varchar(None)),
            ("char", DataType::Bpchar(Some(1))),
            ("character(84)", DataType::Bpchar(Some(84))),
            ("bpchar", DataType::Bpchar(None)),
            ("\"char\"", DataType::Char),
            ("name", DataType::Name),
            ("oid", DataType::Oid),
            ("regclass", DataType::Regclass),
            ("timestamp", DataType::Timestamp),
            ("timestamp without time zone", DataType::Timestamp),
            ("timestamptz", DataType::TimestampTz),
            ("timestamp with time zone", DataType::TimestampTz),
            ("date", DataType::Date),
            ("boolean", DataType::Bool),
            ("int[]", DataType::Array(Box::new(DataType::Int4))),
            ("text[][]", DataType::Array(Box::new(DataType::Text))),
            ("pg_catalog.int8", DataType::Int8),
        ];
        for (sql, want) in cases {
            assert_eq!(parse(sql).unwrap(), want, "{sql}");
        }
    }

    #[test]
    fn unknown_and_unsupported_types_fail_like_postgres() {
        let err = parse("foo").unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::UndefinedObject, "type \"foo\" does not exist")
        );
        let err = parse("json").unwrap_err();
        assert_eq!(err.kind, ErrorKind::FeatureNotSupported);
        assert_eq!(err.message, "type json is not supported yet");
        assert_eq!(parse("interval hour").unwrap_err().kind, ErrorKind::FeatureNotSupported);
        assert_eq!(parse("uuid").unwrap(), DataType::Uuid);
        assert_eq!(parse("jsonb[]").unwrap().oid(), 3807);
        assert_eq!(parse("interval").unwrap().type_size(), 16);
        assert_eq!(parse("bytea").unwrap().oid(), 17);
        assert_eq!(parse("serial").unwrap_err().kind, ErrorKind::UndefinedObject);
        assert_eq!(parse("varchar(0)").unwrap_err().kind, ErrorKind::InvalidParameterValue);
    }

    #[test]
    fn catalog_facts_match_postgres() {
        let t = DataType::Numeric(Some((10, 2)));
        assert_eq!((t.oid(), t.type_size(), t.type_modifier()), (1700, -1, (10 << 16 | 2) + 4));
        assert_eq!(DataType::Bpchar(Some(84)).type_modifier(), 88);
        assert_eq!(DataType::Bpchar(Some(84)).display_name(), "character(84)");
        assert_eq!(DataType::Name.type_size(), 64);
        assert_eq!(DataType::Unknown.type_size(), -2);
        let arr = DataType::Array(Box::new(DataType::Varchar(Some(5))));
        assert_eq!((arr.oid(), arr.type_size(), arr.type_modifier()), (1015, -1, 9));
        assert_eq!(DataType::Array(Box::new(DataType::Int4)).display_name(), "integer[]");
        for oid in [
            16, 21, 23, 20, 700, 701, 1700, 25, 1043, 1042, 19, 18, 26, 2205, 1114, 1184, 1082,
            705, 1000, 1003, 1005, 1007, 1009, 1016, 1231, 1185,
        ] {
            assert_eq!(DataType::from_oid(oid).unwrap().oid(), oid);
        }
        assert_eq!(DataType::from_oid(0), None);
        assert_eq!(DataType::Char.display_name(), "\"char\"");
    }
}
