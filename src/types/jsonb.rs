//! `jsonb`: a parsed JSON document with PostgreSQL's jsonb semantics.
//!
//! ```text
//!   '{"b": [1, 2.50], "a": 1, "a": 2}'  ──parse──▶  Object[("a", 2), ("b", [1, 2.50])]
//!                                        ──print──▶  {"a": 2, "b": [1, 2.50]}
//! ```
//!
//! * Object keys are deduplicated (the last one wins) and kept in jsonb's storage order:
//!   shorter keys first, then bytewise. Output follows that order.
//! * Numbers are `numeric`s, so `1.50` prints as `1.50` and `1e2` as `100`, and `1.0`
//!   equals `1`. Numbers beyond numeric's 28 digits are refused (22003), not rounded.
//! * Order (the btree order PostgreSQL documents): a top-level `[]` first, then
//!   `null < strings < numbers < booleans < arrays < objects`; arrays by length, then
//!   element by element; objects by pair count, then key, value, key, value…
//!
//! The parser is written here rather than taken from serde_json because jsonb's input
//! rules differ from a generic JSON value's: numbers must stay exact decimal text,
//! `\u0000` is refused, duplicate keys resolve to the last, and the errors must be
//! PostgreSQL's (22P02 `invalid input syntax for type json` with its DETAIL).

use std::cmp::Ordering;

use rust_decimal::Decimal;

use super::numeric;
use crate::error::{Error, ErrorKind, Result};

/// Deepest nesting accepted (PostgreSQL is bounded by its stack depth limit).
const MAX_DEPTH: usize = 1000;

/// A jsonb value.
#[derive(Debug, Clone, PartialEq)]
pub enum Jsonb {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as numeric.
    Number(Decimal),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Jsonb>),
    /// An object: pairs in storage order (shorter keys first, then bytewise), unique keys.
    Object(Vec<(String, Jsonb)>),
}

/// jsonb's key order: length first, then bytes.
fn key_order(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

fn bad_json(detail: String) -> Error {
    Error::new(ErrorKind::InvalidTextRepresentation, "invalid input syntax for type json")
        .with_detail(detail)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// The token at the current position, as PostgreSQL's messages quote it.
    fn token(&self) -> String {
        let rest = &self.text[self.pos..];
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '-' || *c == '+')
            .collect();
        if word.is_empty() {
            rest.chars().next().map(String::from).unwrap_or_default()
        } else {
            word
        }
    }

    fn expected(&self, what: &str) -> Error {
        if self.pos >= self.s.len() {
            return bad_json("The input string ended unexpectedly.".into());
        }
        bad_json(format!("Expected {what}, but found \"{}\".", self.token()))
    }

    fn value(&mut self, depth: usize) -> Result<Jsonb> {
        if depth > MAX_DEPTH {
            return Err(Error::new(ErrorKind::FeatureNotSupported, "jsonb nesting is too deep"));
        }
        self.skip_ws();
        match self.s.get(self.pos) {
            None => Err(self.expected("JSON value")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Jsonb::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(c) if c.is_ascii_alphabetic() => {
                let word = self.token();
                let v = match word.as_str() {
                    "true" => Jsonb::Bool(true),
                    "false" => Jsonb::Bool(false),
                    "null" => Jsonb::Null,
                    _ => return Err(bad_json(format!("Token \"{word}\" is invalid."))),
                };
                self.pos += word.len();
                Ok(v)
            }
            Some(_) => Err(self.expected("JSON value")),
        }
    }

    fn number(&mut self) -> Result<Jsonb> {
        let word = self.token();
        let b = word.as_bytes();
        let mut i = usize::from(b.first() == Some(&b'-'));
        let digits = |i: &mut usize| {
            let start = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - start
        };
        let int_start = i;
        let int_len = digits(&mut i);
        let mut ok = int_len > 0 && !(int_len > 1 && b[int_start] == b'0');
        if ok && b.get(i) == Some(&b'.') {
            i += 1;
            ok = digits(&mut i) > 0;
        }
        if ok && matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            ok = digits(&mut i) > 0;
        }
        if !ok || i != b.len() {
            return Err(bad_json(format!("Token \"{word}\" is invalid.")));
        }
        self.pos += word.len();
        let mut d = numeric::parse_numeric(&word)?;
        if d.is_zero() {
            d.set_sign_positive(true);
        }
        Ok(Jsonb::Number(d))
    }

    fn hex4(&mut self) -> Result<u32> {
        let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
        let value = u32::from_str_radix(hex, 16).ok().filter(|_| hex.len() == 4);
        let Some(value) = value else {
            return Err(bad_json("\"\\u\" must be followed by four hexadecimal digits.".into()));
        };
        self.pos += 4;
        Ok(value)
    }

    fn string(&mut self) -> Result<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let Some(c) = rest.chars().next() else {
                return Err(bad_json("The input string ended unexpectedly.".into()));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(bad_json("The input string ended unexpectedly.".into()));
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => {
                            let shown: String = self.text[self.pos - 1..].chars().take(1).collect();
                            return Err(bad_json(format!(
                                "Escape sequence \"\\{shown}\" is invalid."
                            )));
                        }
                    }
                }
                c if (c as u32) < 0x20 => {
                    return Err(bad_json(format!(
                        "Character with value 0x{:02x} must be escaped.",
                        c as u32
                    )))
                }
                c => out.push(c),
            }
        }
    }

    fn unicode_escape(&mut self) -> Result<char> {
        let unsupported = |detail: &str| {
            Error::new(ErrorKind::UntranslatableCharacter, "unsupported Unicode escape sequence")
                .with_detail(detail)
        };
        let first = self.hex4()?;
        if first == 0 {
            return Err(unsupported("\\u0000 cannot be converted to text."));
        }
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return Err(bad_json(
                    "Unicode high surrogate must not follow a high surrogate.".into(),
                ));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(bad_json("Unicode low surrogate must follow a high surrogate.".into()));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else if (0xDC00..0xE000).contains(&first) {
            return Err(bad_json("Unicode low surrogate must follow a high surrogate.".into()));
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| unsupported("invalid code point"))
    }

    fn array(&mut self, depth: usize) -> Result<Jsonb> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Jsonb::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Jsonb::Array(items));
                }
                _ => return Err(self.expected("\",\" or \"]\"")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Jsonb> {
        self.pos += 1;
        let mut pairs: Vec<(String, Jsonb)> = Vec::new();
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Jsonb::Object(pairs));
        }
        loop {
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return Err(self.expected("string"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b':') {
                return Err(self.expected("\":\""));
            }
            self.pos += 1;
            let value = self.value(depth + 1)?;
            pairs.push((key, value));
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.expected("\",\" or \"}\"")),
            }
        }
        // A stable sort keeps duplicates in input order, so the last one is kept.
        pairs.sort_by(|a, b| key_order(&a.0, &b.0));
        let mut unique: Vec<(String, Jsonb)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            match unique.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => unique.push((k, v)),
            }
        }
        Ok(Jsonb::Object(unique))
    }
}

/// PostgreSQL's `jsonb_in`.
pub fn parse_jsonb(text: &str) -> Result<Jsonb> {
    let mut p = Parser { s: text.as_bytes(), text, pos: 0 };
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(p.expected("end of input"));
    }
    Ok(value)
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_jsonb(v: &Jsonb, out: &mut String) {
    match v {
        Jsonb::Null => out.push_str("null"),
        Jsonb::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Jsonb::Number(d) => out.push_str(&d.to_string()),
        Jsonb::String(s) => write_string(s, out),
        Jsonb::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_jsonb(item, out);
            }
            out.push(']');
        }
        Jsonb::Object(pairs) => {
            out.push('{');
            for (i, (k, item)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(k, out);
                out.push_str(": ");
                write_jsonb(item, out);
            }
            out.push('}');
        }
    }
}

/// PostgreSQL's `jsonb_out`: `{"a": 1, "b": [1, 2]}`.
pub fn format_jsonb(v: &Jsonb) -> String {
    let mut out = String::new();
    write_jsonb(v, &mut out);
    out
}

impl Jsonb {
    /// `jsonb_typeof`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Jsonb::Null => "null",
            Jsonb::Bool(_) => "boolean",
            Jsonb::Number(_) => "number",
            Jsonb::String(_) => "string",
            Jsonb::Array(_) => "array",
            Jsonb::Object(_) => "object",
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Jsonb::Null => 0,
            Jsonb::String(_) => 1,
            Jsonb::Number(_) => 2,
            Jsonb::Bool(_) => 3,
            Jsonb::Array(_) => 4,
            Jsonb::Object(_) => 5,
        }
    }

    /// `-> 'key'`: an object's field.
    pub fn field(&self, key: &str) -> Option<&Jsonb> {
        match self {
            Jsonb::Object(pairs) => {
                pairs.binary_search_by(|(k, _)| key_order(k, key)).ok().map(|i| &pairs[i].1)
            }
            _ => None,
        }
    }

    /// `-> n`: an array's element, negative counting from the end.
    pub fn element(&self, index: i64) -> Option<&Jsonb> {
        match self {
            Jsonb::Array(items) => {
                let i = if index < 0 { items.len() as i64 + index } else { index };
                usize::try_from(i).ok().and_then(|i| items.get(i))
            }
            _ => None,
        }
    }

    /// `#> '{a,0}'`: follows a path of keys and array indexes.
    pub fn path<'a>(&'a self, steps: &[&str]) -> Option<&'a Jsonb> {
        let mut at = self;
        for step in steps {
            at = match at {
                Jsonb::Object(_) => at.field(step)?,
                Jsonb::Array(_) => at.element(step.trim().parse::<i64>().ok()?)?,
                _ => return None,
            };
        }
        Some(at)
    }

    /// `->>`'s text: a string unquoted, other values as jsonb text, `null` as NULL.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Jsonb::Null => None,
            Jsonb::String(s) => Some(s.clone()),
            other => Some(format_jsonb(other)),
        }
    }

    /// `a ? key`: an object has the key, an array a string element equal to it, a
    /// string scalar is it (PostgreSQL's `jsonb_exists`).
    pub fn has_key(&self, key: &str) -> bool {
        match self {
            Jsonb::Object(pairs) => pairs.iter().any(|(k, _)| k == key),
            Jsonb::Array(items) => items.iter().any(|v| matches!(v, Jsonb::String(s) if s == key)),
            Jsonb::String(s) => s == key,
            _ => false,
        }
    }

    /// `a @> b`, PostgreSQL's containment: objects contain the pairs of `b`, arrays
    /// contain each element of `b` somewhere, scalars are equal; a top-level array
    /// also contains a scalar element.
    pub fn contains(&self, other: &Jsonb) -> bool {
        match (self, other) {
            (Jsonb::Array(items), scalar)
                if !matches!(scalar, Jsonb::Array(_) | Jsonb::Object(_)) =>
            {
                items.iter().any(|i| i.compare(scalar) == Ordering::Equal)
            }
            _ => self.contains_nested(other),
        }
    }

    fn contains_nested(&self, other: &Jsonb) -> bool {
        match (self, other) {
            (Jsonb::Object(_), Jsonb::Object(want)) => {
                want.iter().all(|(k, v)| self.field(k).is_some_and(|mine| mine.contains_nested(v)))
            }
            (Jsonb::Array(have), Jsonb::Array(want)) => want.iter().all(|w| {
                have.iter().any(|h| match (h, w) {
                    (Jsonb::Array(_) | Jsonb::Object(_), _) => h.contains_nested(w),
                    _ => h.compare(w) == Ordering::Equal,
                })
            }),
            (Jsonb::Array(_) | Jsonb::Object(_), _) | (_, Jsonb::Array(_) | Jsonb::Object(_)) => {
                false
            }
            (a, b) => a.compare(b) == Ordering::Equal,
        }
    }

    /// The btree order of a top-level value (see the module doc).
    pub fn compare_top(&self, other: &Jsonb) -> Ordering {
        let empty = |v: &Jsonb| matches!(v, Jsonb::Array(items) if items.is_empty());
        match (empty(self), empty(other)) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => self.compare(other),
        }
    }

    fn compare(&self, other: &Jsonb) -> Ordering {
        match (self, other) {
            (Jsonb::Null, Jsonb::Null) => Ordering::Equal,
            (Jsonb::String(a), Jsonb::String(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Jsonb::Number(a), Jsonb::Number(b)) => a.cmp(b),
            (Jsonb::Bool(a), Jsonb::Bool(b)) => a.cmp(b),
            (Jsonb::Array(a), Jsonb::Array(b)) => a.len().cmp(&b.len()).then_with(|| {
                a.iter()
                    .zip(b)
                    .map(|(x, y)| x.compare(y))
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            }),
            (Jsonb::Object(a), Jsonb::Object(b)) => a.len().cmp(&b.len()).then_with(|| {
                a.iter()
                    .zip(b)
                    .map(|((ka, va), (kb, vb))| {
                        ka.as_bytes().cmp(kb.as_bytes()).then_with(|| va.compare(vb))
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            }),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }

    /// Appends a memcomparable encoding whose byte order is [`Jsonb::compare_top`].
    pub(crate) fn encode_key(&self, out: &mut Vec<u8>) {
        if matches!(self, Jsonb::Array(items) if items.is_empty()) {
            out.push(0x01);
            return;
        }
        self.encode_key_nested(out);
    }

    fn encode_key_nested(&self, out: &mut Vec<u8>) {
        out.push(0x02 + self.rank());
        match self {
            Jsonb::Null => {}
            Jsonb::Bool(b) => out.push(u8::from(*b)),
            Jsonb::Number(d) => super::order::encode_numeric_key(d, out),
            Jsonb::String(s) => super::order::encode_bytes_key(s.as_bytes(), out),
            Jsonb::Array(items) => {
                out.extend_from_slice(&(items.len() as u32).to_be_bytes());
                for item in items {
                    item.encode_key_nested(out);
                }
            }
            Jsonb::Object(pairs) => {
                out.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
                for (k, v) in pairs {
                    super::order::encode_bytes_key(k.as_bytes(), out);
                    v.encode_key_nested(out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn round(text: &str) -> String {
        format_jsonb(&parse_jsonb(text).unwrap())
    }

    #[test]
    fn output_matches_postgres() {
        assert_eq!(
            round(
                r#"{"b":[1,2.50,1e2,-0,1.0E-3],"a":1,"aa":{},"a":"x\ny\u00e9\"","c":null,"d":true}"#
            ),
            r#"{"a": "x\nyé\"", "b": [1, 2.50, 100, 0, 0.0010], "c": null, "d": true, "aa": {}}"#
        );
        assert_eq!(round("[]"), "[]");
        assert_eq!(round(r#""\u0001""#), r#""\u0001""#);
        assert_eq!(round(" 1.50 "), "1.50");
        assert_eq!(round(r#""\ud83d\ude00""#), "\"😀\"");
    }

    #[test]
    fn errors_match_postgres() {
        for (input, detail) in [
            (r#"{"a":}"#, "Expected JSON value, but found \"}\"."),
            ("[1,2", "The input string ended unexpectedly."),
            ("abc", "Token \"abc\" is invalid."),
            (r#"{"a" 1}"#, "Expected \":\", but found \"1\"."),
            ("", "The input string ended unexpectedly."),
            ("1 2", "Expected end of input, but found \"2\"."),
            ("01", "Token \"01\" is invalid."),
        ] {
            let err = parse_jsonb(input).unwrap_err();
            assert_eq!(err.message, "invalid input syntax for type json", "{input}");
            assert_eq!(err.detail.as_deref(), Some(detail), "{input}");
        }
        let err = parse_jsonb(r#""\u0000""#).unwrap_err();
        assert_eq!(err.message, "unsupported Unicode escape sequence");
        assert!(parse_jsonb(&"[".repeat(5000)).is_err());
    }

    #[test]
    fn order_and_keys_agree() {
        let sorted = [
            "[]",
            "null",
            "\"\"",
            "\"a\"",
            "-1",
            "1",
            "false",
            "true",
            "[null]",
            "[\"a\"]",
            "[1]",
            "[0, 0]",
            "{}",
            "{\"a\": 1}",
            "{\"aa\": 0}",
            "{\"b\": 1}",
        ];
        let values: Vec<Jsonb> = sorted.iter().map(|s| parse_jsonb(s).unwrap()).collect();
        for (i, a) in values.iter().enumerate() {
            for (j, b) in values.iter().enumerate() {
                assert_eq!(a.compare_top(b), i.cmp(&j), "{a:?} {b:?}");
                let (mut ka, mut kb) = (Vec::new(), Vec::new());
                a.encode_key(&mut ka);
                b.encode_key(&mut kb);
                assert_eq!(ka.cmp(&kb), i.cmp(&j), "{a:?} {b:?}");
            }
        }
        assert_eq!(
            parse_jsonb("1.0").unwrap().compare_top(&parse_jsonb("1").unwrap()),
            Ordering::Equal
        );
    }

    #[test]
    fn operators() {
        let doc = parse_jsonb(r#"{"a": {"b": [10, 20, {"c": "x"}]}, "n": null}"#).unwrap();
        assert_eq!(
            doc.field("a").and_then(|a| a.field("b")).and_then(|b| b.element(-1)).map(format_jsonb),
            Some(r#"{"c": "x"}"#.into())
        );
        assert_eq!(doc.path(&["a", "b", "2", "c"]).and_then(Jsonb::as_text), Some("x".into()));
        assert_eq!(doc.field("n").and_then(Jsonb::as_text), None);
        assert!(doc.field("zz").is_none());
        assert!(doc.contains(&parse_jsonb(r#"{"a": {"b": [20]}}"#).unwrap()));
        assert!(!doc.contains(&parse_jsonb(r#"{"a": {"b": [30]}}"#).unwrap()));
        assert!(parse_jsonb("[1, 2]").unwrap().contains(&parse_jsonb("1").unwrap()));
        assert!(!parse_jsonb("1").unwrap().contains(&parse_jsonb("[1]").unwrap()));
    }
}
