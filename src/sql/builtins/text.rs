//! The string functions beyond the everyday ones: like_escape, md5, to_hex,
//! translate, format, quote_ident / quote_literal / quote_nullable, regexp_replace,
//! string_to_array and get_byte, as PostgreSQL 15 defines them. What they do not
//! cover is refused with 0A000 (format's widths and argument positions, regexp flags
//! other than `g` and `i`), never approximated.

use md5::{Digest, Md5};

use crate::error::{Error, ErrorKind, Result};
use crate::types::{DataType, Value};

use super::super::functions::text_like;
use super::{int, text, Resolved};

/// A string function of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFn {
    /// like_escape(pattern, escape): the pattern with `\` as its escape.
    LikeEscape,
    /// md5(text | bytea).
    Md5,
    /// to_hex(int4 | int8).
    ToHex,
    /// translate(s, from, to).
    Translate,
    /// format(fmt, …).
    Format,
    /// quote_ident(s).
    QuoteIdent,
    /// quote_literal(s).
    QuoteLiteral,
    /// quote_nullable(s).
    QuoteNullable,
    /// regexp_replace(s, pattern, replacement [, flags]).
    RegexpReplace,
    /// string_to_array(s, delimiter [, null string]).
    StringToArray,
    /// get_byte(bytea, n).
    GetByte,
    /// substr / substring(bytea, from [, count]).
    ByteaSubstr,
}

/// Resolves a function of this module (None: not one of its names).
pub(super) fn resolve(name: &str, args: &[DataType]) -> Option<Resolved> {
    use DataType::*;
    let n = args.len();
    let all_text = args.iter().all(text_like);
    let text = Some(Text);
    let f = match name {
        "like_escape" if n == 2 && all_text => (TextFn::LikeEscape, Text, vec![text; 2]),
        "md5" if n == 1 && matches!(args[0], Bytea) => (TextFn::Md5, Text, vec![None]),
        "md5" if n == 1 && all_text => (TextFn::Md5, Text, vec![text]),
        "to_hex" if n == 1 && matches!(args[0], Int8) => (TextFn::ToHex, Text, vec![None]),
        "to_hex" if n == 1 && matches!(args[0], Int2 | Int4 | Unknown) => {
            (TextFn::ToHex, Text, vec![Some(Int4)])
        }
        "translate" if n == 3 && all_text => (TextFn::Translate, Text, vec![text; 3]),
        "format" if n >= 1 && text_like(&args[0]) => {
            let targets = args.iter().map(|t| if *t == Bool { None } else { Some(Text) }).collect();
            (TextFn::Format, Text, targets)
        }
        "quote_ident" if n == 1 && all_text => (TextFn::QuoteIdent, Text, vec![text]),
        "quote_literal" if n == 1 => (TextFn::QuoteLiteral, Text, vec![text]),
        "quote_nullable" if n == 1 => (TextFn::QuoteNullable, Text, vec![text]),
        "regexp_replace" if (n == 3 || n == 4) && all_text => {
            (TextFn::RegexpReplace, Text, vec![text; n])
        }
        "string_to_array" if (n == 2 || n == 3) && all_text => {
            (TextFn::StringToArray, Array(Box::new(Text)), vec![text; n])
        }
        "get_byte" if n == 2 && matches!(args[0], Bytea | Unknown) => {
            (TextFn::GetByte, Int4, vec![Some(Bytea), Some(Int4)])
        }
        "substr" | "substring" if (n == 2 || n == 3) && matches!(args[0], Bytea) => {
            (TextFn::ByteaSubstr, Bytea, vec![None, Some(Int4), Some(Int4)][..n].to_vec())
        }
        _ => return None,
    };
    Some((super::Builtin::Text(f.0), f.1, f.2))
}

impl TextFn {
    /// Calls the function; arguments arrive cast to the resolved types.
    pub(super) fn call(self, args: &[Value]) -> Result<Value> {
        match self {
            TextFn::Format => return format(args),
            TextFn::QuoteNullable if args[0].is_null() => return Ok(Value::Text("NULL".into())),
            TextFn::StringToArray if args[1].is_null() && !args[0].is_null() => {
                return string_to_array(args)
            }
            _ => {}
        }
        if args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        Ok(match self {
            TextFn::LikeEscape => Value::Text(like_escape(text(&args[0])?, text(&args[1])?)?),
            TextFn::Md5 => {
                let bytes = match &args[0] {
                    Value::Bytea(b) => b.clone(),
                    v => text(v)?.as_bytes().to_vec(),
                };
                let digest = Md5::digest(&bytes);
                Value::Text(digest.iter().map(|b| format!("{b:02x}")).collect())
            }
            TextFn::ToHex => match &args[0] {
                Value::Int8(x) => Value::Text(format!("{:x}", *x as u64)),
                v => Value::Text(format!("{:x}", int(v)? as i32 as u32)),
            },
            TextFn::Translate => {
                let from: Vec<char> = text(&args[1])?.chars().collect();
                let to: Vec<char> = text(&args[2])?.chars().collect();
                let out = text(&args[0])?
                    .chars()
                    .filter_map(|c| match from.iter().position(|f| *f == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect();
                Value::Text(out)
            }
            TextFn::QuoteIdent => Value::Text(quote_ident(text(&args[0])?)),
            TextFn::QuoteLiteral | TextFn::QuoteNullable => {
                Value::Text(quote_literal(text(&args[0])?))
            }
            TextFn::RegexpReplace => regexp_replace(args)?,
            TextFn::StringToArray => string_to_array(args)?,
            TextFn::GetByte => {
                let Value::Bytea(b) = &args[0] else {
                    return Err(Error::internal("get_byte on a non-bytea"));
                };
                let i = int(&args[1])?;
                match usize::try_from(i).ok().and_then(|i| b.get(i)) {
                    Some(x) => Value::Int4(*x as i32),
                    None => {
                        return Err(Error::new(
                            ErrorKind::ArraySubscriptError,
                            format!("index {i} out of valid range, 0..{}", b.len() as i64 - 1),
                        ))
                    }
                }
            }
            TextFn::ByteaSubstr => {
                let Value::Bytea(b) = &args[0] else {
                    return Err(Error::internal("substr on a non-bytea"));
                };
                let start = int(&args[1])?;
                let end = match args.get(2) {
                    Some(c) => {
                        let count = int(c)?;
                        if count < 0 {
                            return Err(Error::new(
                                ErrorKind::SubstringError,
                                "negative substring length not allowed",
                            ));
                        }
                        start.saturating_add(count)
                    }
                    None => i64::MAX,
                };
                let len = b.len() as i64;
                let (from, to) = ((start - 1).clamp(0, len), (end - 1).clamp(0, len));
                Value::Bytea(if from < to {
                    b[from as usize..to as usize].to_vec()
                } else {
                    vec![]
                })
            }
            TextFn::Format => return Err(Error::internal("format")),
        })
    }
}

fn like_escape(pattern: &str, escape: &str) -> Result<String> {
    let mut esc = escape.chars();
    let esc = match (esc.next(), esc.next()) {
        (None, _) => None,
        (Some(c), None) => Some(c),
        _ => {
            return Err(Error::new(ErrorKind::InvalidEscapeSequence, "invalid escape string")
                .with_hint("Escape string must be empty or one character."))
        }
    };
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if Some(c) == esc {
            match chars.next() {
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => {
                    return Err(Error::new(
                        ErrorKind::InvalidEscapeSequence,
                        "LIKE pattern must not end with escape character",
                    ))
                }
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Words PostgreSQL's quote_ident quotes although they are lower-case: the reserved
/// keywords.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

fn quote_ident(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !RESERVED.contains(&s);
    if plain {
        s.to_owned()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

fn quote_literal(s: &str) -> String {
    let body = s.replace('\'', "''");
    if s.contains('\\') {
        format!("E'{}'", body.replace('\\', "\\\\"))
    } else {
        format!("'{body}'")
    }
}

/// format(): `%s`, `%I`, `%L` and `%%`; widths, flags and `n$` positions are refused.
fn format(args: &[Value]) -> Result<Value> {
    let fmt = match &args[0] {
        Value::Null => return Ok(Value::Null),
        v => text(v)?,
    };
    let as_text = |v: &Value| -> Option<String> {
        match v {
            Value::Null => None,
            Value::Bool(b) => Some(if *b { "t" } else { "f" }.to_owned()),
            Value::Text(t) => Some(t.clone()),
            other => Some(format!("{other:?}")),
        }
    };
    let mut out = String::new();
    let mut next = 1;
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = chars.next().ok_or_else(|| {
            Error::new(ErrorKind::InvalidParameterValue, "unterminated format() type specifier")
                .with_hint("For a single \"%\" use \"%%\".")
        })?;
        if spec == '%' {
            out.push('%');
            continue;
        }
        if !matches!(spec, 's' | 'I' | 'L') {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                format!(
                    "format() specifier \"%{spec}\" is not supported yet (only %s, %I, %L and %%)"
                ),
            ));
        }
        let arg = args.get(next).ok_or_else(|| {
            Error::new(ErrorKind::InvalidParameterValue, "too few arguments for format()")
        })?;
        next += 1;
        match (spec, as_text(arg)) {
            ('s', Some(t)) => out.push_str(&t),
            ('s', None) => {}
            ('I', Some(t)) => out.push_str(&quote_ident(&t)),
            ('I', None) => {
                return Err(Error::new(
                    ErrorKind::NullValueNotAllowed,
                    "null values cannot be formatted as an SQL identifier",
                ))
            }
            (_, Some(t)) => out.push_str(&quote_literal(&t)),
            (_, None) => out.push_str("NULL"),
        }
    }
    Ok(Value::Text(out))
}

fn regexp_replace(args: &[Value]) -> Result<Value> {
    let (s, pattern, replacement) = (text(&args[0])?, text(&args[1])?, text(&args[2])?);
    let flags = match args.get(3) {
        Some(f) => text(f)?,
        None => "",
    };
    let (mut global, mut icase) = (false, false);
    for f in flags.chars() {
        match f {
            'g' => global = true,
            'i' => icase = true,
            'c' => icase = false,
            other => {
                return Err(Error::new(
                    ErrorKind::FeatureNotSupported,
                    format!("regexp_replace flag \"{other}\" is not supported yet"),
                ))
            }
        }
    }
    let re = regex::RegexBuilder::new(pattern).case_insensitive(icase).build().map_err(|e| {
        Error::new(ErrorKind::InvalidRegularExpression, format!("invalid regular expression: {e}"))
    })?;
    // PostgreSQL's \1…\9 and \& become the regex crate's ${1} and ${0}; a literal $ is $$.
    let mut rep = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(d @ '1'..='9') => rep.push_str(&format!("${{{d}}}")),
                Some('&') => rep.push_str("${0}"),
                Some('\\') | None => rep.push('\\'),
                Some(other) => {
                    rep.push('\\');
                    rep.push(other);
                }
            },
            '$' => rep.push_str("$$"),
            c => rep.push(c),
        }
    }
    let out = if global { re.replace_all(s, rep.as_str()) } else { re.replace(s, rep.as_str()) };
    Ok(Value::Text(out.into_owned()))
}

fn string_to_array(args: &[Value]) -> Result<Value> {
    let s = text(&args[0])?;
    let null = match args.get(2) {
        Some(Value::Text(n)) => Some(n.as_str()),
        _ => None,
    };
    let item = |p: &str| {
        if Some(p) == null {
            Value::Null
        } else {
            Value::Text(p.to_owned())
        }
    };
    if s.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    Ok(Value::Array(match &args[1] {
        Value::Null => s.chars().map(|c| item(&c.to_string())).collect(),
        d => match text(d)? {
            "" => vec![item(s)],
            d => s.split(d).map(item).collect(),
        },
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    #[test]
    fn like_escape_rewrites_to_backslash() {
        assert_eq!(like_escape("a#%c", "#").unwrap(), "a\\%c");
        assert_eq!(like_escape("a##c", "#").unwrap(), "a\\#c");
        assert_eq!(like_escape("a\\b", "").unwrap(), "a\\\\b");
        assert!(like_escape("ab#", "#").is_err());
        assert!(like_escape("ab", "##").is_err());
    }

    #[test]
    fn format_specifiers() {
        let v = format(&[t("%s-%I-%L-%L-%%"), t("a"), t("Col"), t("it's"), Value::Null]).unwrap();
        assert_eq!(v, t("a-\"Col\"-'it''s'-NULL-%"));
        assert!(format(&[t("%5s"), t("a")]).is_err());
        assert!(format(&[t("%s %s"), t("a")]).is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("abc"), "abc");
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("a\\b'"), "E'a\\\\b'''");
    }

    #[test]
    fn regexp_replace_references_and_flags() {
        let r = regexp_replace(&[t("abcabc"), t("(b)(c)"), t("<\\2\\1\\&$>"), t("g")]).unwrap();
        assert_eq!(r, t("a<cbbc$>a<cbbc$>"));
        assert!(regexp_replace(&[t("a"), t("a"), t("b"), t("x")]).is_err());
    }
}
