//! `bytea` and `uuid`: the two byte-string types, each a thin layer over bytes.
//!
//! ```text
//!   bytea  text out: \x0102ff (hex, PostgreSQL's default bytea_output)
//!          text in:  \x0102ff (hex, whitespace between pairs) or escape form:
//!                    bytes as themselves, \\ for a backslash, \ooo octal
//!   uuid   text out: a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 (lower case)
//!          text in:  32 hex digits, any case, a hyphen allowed after any group of
//!                    four, optionally in braces
//! ```
//!
//! Both compare bytewise (`memcmp`, then length for bytea), which is also their order
//! in PostgreSQL; the key encoding reuses the escaped-bytes form of text.

use crate::error::{Error, ErrorKind, Result};

use super::text::invalid_syntax;

/// `\x` followed by two lower-case hex digits per byte.
pub(crate) fn bytea_out(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + bytes.len() * 2);
    out.push_str("\\x");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// PostgreSQL's `byteain`: the hex form (`\x…`) or the escape form.
pub(crate) fn bytea_in(text: &str) -> Result<Vec<u8>> {
    let bytes = text.as_bytes();
    if let Some(hex) = text.strip_prefix("\\x") {
        return hex_in(hex.as_bytes());
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
        } else if bytes.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if let [a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7', ..] = &bytes[i + 1..] {
            out.push(((a - b'0') << 6) | ((b - b'0') << 3) | (c - b'0'));
            i += 4;
        } else {
            return Err(Error::new(
                ErrorKind::InvalidTextRepresentation,
                "invalid input syntax for type bytea",
            ));
        }
    }
    Ok(out)
}

fn hex_in(hex: &[u8]) -> Result<Vec<u8>> {
    let bad_digit = |c: u8| {
        let shown = String::from_utf8_lossy(&[c]).into_owned();
        Error::new(
            ErrorKind::InvalidParameterValue,
            format!("invalid hexadecimal digit: \"{shown}\""),
        )
    };
    let mut out = Vec::with_capacity(hex.len() / 2);
    let mut i = 0;
    while i < hex.len() {
        if hex[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let high = hex_value(hex[i]).ok_or_else(|| bad_digit(hex[i]))?;
        let Some(&next) = hex.get(i + 1) else {
            return Err(Error::new(
                ErrorKind::InvalidParameterValue,
                "invalid hexadecimal data: odd number of digits",
            ));
        };
        let low = hex_value(next).ok_or_else(|| bad_digit(next))?;
        out.push((high << 4) | low);
        i += 2;
    }
    Ok(out)
}

/// Lower-case hyphenated form.
pub(crate) fn uuid_out(u: &[u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// PostgreSQL's `uuid_in`.
pub(crate) fn uuid_in(text: &str) -> Result<[u8; 16]> {
    let bad = || invalid_syntax("uuid", text);
    let mut s = text.as_bytes();
    let braces = s.first() == Some(&b'{');
    if braces {
        s = &s[1..];
    }
    let mut out = [0u8; 16];
    let mut pos = 0;
    for (i, slot) in out.iter_mut().enumerate() {
        let (Some(h), Some(l)) =
            (s.get(pos).copied().and_then(hex_value), s.get(pos + 1).copied().and_then(hex_value))
        else {
            return Err(bad());
        };
        *slot = (h << 4) | l;
        pos += 2;
        if i % 2 == 1 && i < 15 && s.get(pos) == Some(&b'-') {
            pos += 1;
        }
    }
    if braces {
        if s.get(pos) != Some(&b'}') {
            return Err(bad());
        }
        pos += 1;
    }
    if pos != s.len() {
        return Err(bad());
    }
    Ok(out)
}

/// A version-4 (random) UUID, as `gen_random_uuid()` returns.
pub fn random_uuid() -> [u8; 16] {
    let mut u: [u8; 16] = rand::random();
    u[6] = (u[6] & 0x0F) | 0x40;
    u[8] = (u[8] & 0x3F) | 0x80;
    u
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bytea_forms() {
        assert_eq!(bytea_in("\\x0102ff").unwrap(), vec![1, 2, 255]);
        assert_eq!(bytea_in("\\x01 02").unwrap(), vec![1, 2]);
        assert_eq!(bytea_in("a\\\\b\\001").unwrap(), b"a\\b\x01".to_vec());
        assert_eq!(bytea_out(&[1, 2, 0xAB]), "\\x0102ab");
        assert_eq!(bytea_out(&[]), "\\x");
        assert_eq!(
            bytea_in("\\x123").unwrap_err().message,
            "invalid hexadecimal data: odd number of digits"
        );
        assert_eq!(bytea_in("\\xzz").unwrap_err().message, "invalid hexadecimal digit: \"z\"");
        assert_eq!(bytea_in("\\9").unwrap_err().message, "invalid input syntax for type bytea");
    }

    #[test]
    fn uuid_forms() {
        let want = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        for input in [
            want,
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
            "{a0eebc999c0b4ef8bb6d6bb9bd380a11}",
        ] {
            assert_eq!(uuid_out(&uuid_in(input).unwrap()), want, "{input}");
        }
        for bad in [
            "",
            "a0eebc99",
            "{a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11-",
            "a0e-ebc999c0b4ef8bb6d6bb9bd380a11",
        ] {
            assert_eq!(
                uuid_in(bad).unwrap_err().message,
                format!("invalid input syntax for type uuid: \"{bad}\"")
            );
        }
        let r = random_uuid();
        assert_eq!(r[6] >> 4, 4);
    }
}
