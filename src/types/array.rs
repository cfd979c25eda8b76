//! The text form of arrays (`array_in` / `array_out`), one dimension, lower bound 1.
//!
//! ```text
//!   {1,2,NULL}      {"a b",c,"",NULL,"null","q\"\\"}      {}
//! ```
//!
//! Output quotes an element when it is empty, equals `NULL` in any case, or contains
//! a brace, comma, double quote, backslash or whitespace; inside quotes `"` and `\`
//! are backslash-escaped. Input accepts the same, unquoted elements with surrounding
//! whitespace, and backslash escapes anywhere. Multidimensional arrays and bounds
//! decorations (`[0:1]={...}`) are refused with 0A000.

use super::text::{parse_text, text_of};
use super::Zone;
use super::{DataType, Value};
use crate::error::{Error, ErrorKind, Result};

/// `{1,2,NULL}`, quoting elements PostgreSQL would quote.
pub(crate) fn array_out(items: &[Value], elem_ty: &DataType, zone: Zone) -> String {
    let mut out = String::from("{");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if item.is_null() {
            out.push_str("NULL");
            continue;
        }
        let text = text_of(item, elem_ty, zone);
        let needs_quotes = text.is_empty()
            || text.eq_ignore_ascii_case("null")
            || text
                .bytes()
                .any(|b| matches!(b, b'{' | b'}' | b',' | b'"' | b'\\') || b.is_ascii_whitespace());
        if needs_quotes {
            out.push('"');
            for c in text.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        } else {
            out.push_str(&text);
        }
    }
    out.push('}');
    out
}

/// 22P02 `malformed array literal` with PostgreSQL's DETAIL.
fn malformed_array(text: &str, detail: &str) -> Error {
    Error::new(ErrorKind::InvalidTextRepresentation, format!("malformed array literal: \"{text}\""))
        .with_detail(detail)
}

/// PostgreSQL's `array_in` for one-dimensional arrays: `{1, "a b", NULL, \"q}`.
pub(crate) fn parse_array(text: &str, elem: &DataType, zone: Zone) -> Result<Vec<Value>> {
    let s = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if s.starts_with('[') {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            "array bounds decorations are not supported yet",
        ));
    }
    let Some(body) = s.strip_prefix('{') else {
        return Err(malformed_array(
            text,
            "Array value must start with \"{\" or dimension information.",
        ));
    };
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let mut items = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    if chars.get(i) == Some(&'}') {
        i += 1;
    } else {
        loop {
            skip_ws(&mut i);
            let mut element = String::new();
            let mut quoted = false;
            // Length of `element` up to its last escaped or quoted character, so that
            // only unescaped trailing whitespace is trimmed.
            let mut protected = 0;
            match chars.get(i) {
                Some('{') => {
                    return Err(Error::new(
                        ErrorKind::FeatureNotSupported,
                        "multidimensional arrays are not supported yet",
                    ))
                }
                Some('"') => {
                    quoted = true;
                    i += 1;
                    loop {
                        match chars.get(i) {
                            None => return Err(malformed_array(text, "Unexpected end of input.")),
                            Some('"') => {
                                i += 1;
                                break;
                            }
                            Some('\\') => {
                                let Some(c) = chars.get(i + 1) else {
                                    return Err(malformed_array(text, "Unexpected end of input."));
                                };
                                element.push(*c);
                                i += 2;
                            }
                            Some(c) => {
                                element.push(*c);
                                i += 1;
                            }
                        }
                    }
                    skip_ws(&mut i);
                }
                _ => loop {
                    match chars.get(i) {
                        None => return Err(malformed_array(text, "Unexpected end of input.")),
                        Some(',' | '}') => break,
                        Some('"' | '{') => {
                            return Err(malformed_array(
                                text,
                                &format!("Unexpected \"{}\" character.", chars[i]),
                            ))
                        }
                        Some('\\') => {
                            let Some(c) = chars.get(i + 1) else {
                                return Err(malformed_array(text, "Unexpected end of input."));
                            };
                            element.push(*c);
                            protected = element.len();
                            i += 2;
                        }
                        Some(c) => {
                            element.push(*c);
                            i += 1;
                        }
                    }
                },
            }
            if !quoted {
                let keep = element
                    .trim_end_matches(|c: char| c.is_ascii_whitespace())
                    .len()
                    .max(protected);
                element.truncate(keep);
                if element.is_empty() {
                    let c = chars.get(i).copied().unwrap_or('}');
                    return Err(malformed_array(text, &format!("Unexpected \"{c}\" character.")));
                }
            }
            items.push(if !quoted && protected == 0 && element.eq_ignore_ascii_case("null") {
                Value::Null
            } else {
                parse_text(&element, elem, zone)?
            });
            match chars.get(i) {
                Some(',') => i += 1,
                Some('}') => {
                    i += 1;
                    break;
                }
                Some(c) => {
                    return Err(malformed_array(text, &format!("Unexpected \"{c}\" character.")))
                }
                None => return Err(malformed_array(text, "Unexpected end of input.")),
            }
        }
    }
    if chars[i..].iter().any(|c| !c.is_ascii_whitespace()) {
        return Err(malformed_array(text, "Junk after closing right brace."));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn array_out_of(v: &Value, ty: &DataType) -> String {
        text_of(v, ty, crate::types::UTC)
    }

    #[test]
    fn arrays_round_trip_with_postgres_quoting() {
        let text_arr = DataType::Array(Box::new(DataType::Text));
        let v = Value::Array(vec![
            Value::Text("a b".into()),
            Value::Text("c".into()),
            Value::Text("".into()),
            Value::Null,
            Value::Text("null".into()),
            Value::Text("q\"\\".into()),
        ]);
        let printed = array_out_of(&v, &text_arr);
        assert_eq!(printed, r#"{"a b",c,"",NULL,"null","q\"\\"}"#);
        assert_eq!(parse_text(&printed, &text_arr, crate::types::UTC).unwrap(), v);
        let int_arr = DataType::Array(Box::new(DataType::Int4));
        assert_eq!(
            parse_text(" { 1 , 2,NULL } ", &int_arr, crate::types::UTC).unwrap(),
            Value::Array(vec![Value::Int4(1), Value::Int4(2), Value::Null])
        );
        assert_eq!(parse_text("{}", &int_arr, crate::types::UTC).unwrap(), Value::Array(vec![]));
        assert_eq!(array_out_of(&Value::Array(vec![]), &int_arr), "{}");
        assert_eq!(
            parse_text("{a b , c}", &text_arr, crate::types::UTC).unwrap(),
            Value::Array(vec![Value::Text("a b".into()), Value::Text("c".into())])
        );
        let err = parse_text("1,2", &int_arr, crate::types::UTC).unwrap_err();
        assert_eq!(err.message, "malformed array literal: \"1,2\"");
        assert_eq!(
            err.detail.as_deref(),
            Some("Array value must start with \"{\" or dimension information.")
        );
        assert!(parse_text("{1,2}x", &int_arr, crate::types::UTC).is_err());
        assert!(parse_text("{1,,2}", &int_arr, crate::types::UTC).is_err());
        assert_eq!(
            parse_text("{{1}}", &int_arr, crate::types::UTC).unwrap_err().kind,
            ErrorKind::FeatureNotSupported
        );
        assert_eq!(
            parse_text("{x}", &int_arr, crate::types::UTC).unwrap_err().message,
            "invalid input syntax for type integer: \"x\""
        );
        let ts_arr = DataType::Array(Box::new(DataType::Timestamp));
        let v = parse_text("{\"2024-01-02 03:04:05\"}", &ts_arr, crate::types::UTC).unwrap();
        assert_eq!(array_out_of(&v, &ts_arr), "{\"2024-01-02 03:04:05\"}");
    }
}
