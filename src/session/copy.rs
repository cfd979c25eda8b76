//! COPY … FROM STDIN in text format: rows arrive in CopyData chunks that may split a
//! line anywhere; each complete line is one row (tab-separated, `\N` for NULL,
//! backslash escapes), and a line `\.` ends the data (psql and pgbench still send it).
//!
//! And in binary format (`FORMAT binary`, asyncpg's `copy_records_to_table`):
//!
//! ```text
//!  "PGCOPY\n\xff\r\n\0"  flags:i32  ext_len:i32  ext[ext_len]       header
//!  count:i16 { len:i32 (-1 = NULL)  bytes[len] } × count              tuple, …
//!  -1:i16                                                             trailer
//! ```
//!
//! Each field is the type's binary send format (`types::parse_binary`). Chunks may
//! split anything anywhere; bytes wait in `partial` until a whole tuple is there.

use crate::catalog::TableDef;
use crate::error::{Error, ErrorKind, Result};
use crate::sync::Arc;
use crate::types::{parse_text, Value};

/// An active COPY FROM STDIN.
#[derive(Debug)]
pub struct CopyIn {
    /// Target table.
    pub table: Arc<TableDef>,
    /// Target column positions, in input order.
    pub columns: Vec<usize>,
    partial: Vec<u8>,
    /// Rows parsed so far.
    pub rows: u64,
    line: u64,
    ended: bool,
    /// Parsed rows not yet written (written in batches of [`BATCH`]).
    pub ready: Vec<Vec<Value>>,
    /// Binary format (else text).
    binary: bool,
    /// Binary: the header has been read.
    header_done: bool,
}

/// The binary COPY signature.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Rows written to storage at a time: pgbench sends one CopyData per row, and taking a
/// snapshot and the partition lock per row would dominate the copy.
pub const BATCH: usize = 4096;

impl CopyIn {
    /// Starts a copy into `columns` of `table`.
    pub fn new(table: Arc<TableDef>, columns: Vec<usize>, binary: bool) -> CopyIn {
        CopyIn {
            table,
            columns,
            partial: Vec::new(),
            rows: 0,
            line: 0,
            ended: false,
            ready: Vec::new(),
            binary,
            header_done: false,
        }
    }

    /// Binary: parses the header and every whole tuple in `partial`.
    fn feed_binary(&mut self, data: &[u8]) -> Result<Vec<Vec<Value>>> {
        let mut out = Vec::new();
        if self.ended {
            if !data.is_empty() {
                return Err(self.bad("received copy data after EOF marker".to_owned()));
            }
            return Ok(out);
        }
        self.partial.extend_from_slice(data);
        let buf = std::mem::take(&mut self.partial);
        let mut at = 0;
        let result = self.binary_tuples(&buf, &mut at, &mut out);
        self.partial = buf[at..].to_vec();
        result.map(|()| out)
    }

    fn binary_tuples(
        &mut self,
        buf: &[u8],
        at: &mut usize,
        out: &mut Vec<Vec<Value>>,
    ) -> Result<()> {
        let i32_at = |p: usize| -> Option<i32> {
            buf.get(p..p + 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        if !self.header_done {
            if buf.len() < SIGNATURE.len() + 8 {
                if !SIGNATURE.starts_with(&buf[..buf.len().min(SIGNATURE.len())]) {
                    return Err(self.bad("COPY file signature not recognized".to_owned()));
                }
                return Ok(());
            }
            if &buf[..SIGNATURE.len()] != SIGNATURE {
                return Err(self.bad("COPY file signature not recognized".to_owned()));
            }
            let flags = i32_at(11).unwrap_or(0);
            if flags & (1 << 16) != 0 {
                return Err(Error::unsupported("COPY binary data with OIDs"));
            }
            if flags & !(0xffff) & !(1 << 16) != 0 {
                return Err(self.bad("unrecognized critical flags in COPY file header".to_owned()));
            }
            let ext = i32_at(15).unwrap_or(0).max(0) as usize;
            if buf.len() < 19 + ext {
                return Ok(());
            }
            *at = 19 + ext;
            self.header_done = true;
        }
        loop {
            let start = *at;
            let Some(count) = buf.get(start..start + 2).map(|b| i16::from_be_bytes([b[0], b[1]]))
            else {
                return Ok(());
            };
            if count == -1 {
                self.ended = true;
                *at = buf.len();
                return Ok(());
            }
            if count as usize != self.columns.len() || count < 0 {
                self.line += 1;
                return Err(self
                    .bad(format!("row field count is {count}, expected {}", self.columns.len())));
            }
            let mut p = start + 2;
            let mut fields: Vec<Option<&[u8]>> = Vec::with_capacity(count as usize);
            for _ in 0..count {
                let Some(len) = i32_at(p) else { return Ok(()) };
                p += 4;
                if len < 0 {
                    fields.push(None);
                    continue;
                }
                let Some(bytes) = buf.get(p..p + len as usize) else { return Ok(()) };
                fields.push(Some(bytes));
                p += len as usize;
            }
            *at = p;
            self.line += 1;
            let mut row = vec![Value::Null; self.table.columns.len()];
            for (field, &col) in fields.iter().zip(&self.columns) {
                if let Some(bytes) = field {
                    let ty = &self.table.columns[col].ty;
                    row[col] = crate::types::parse_binary(bytes, ty).map_err(|e| {
                        let name = &self.table.columns[col].name;
                        e.with_detail(format!(
                            "COPY {}, line {}, column {name}",
                            self.table.name, self.line
                        ))
                    })?;
                }
            }
            self.rows += 1;
            out.push(row);
        }
    }

    /// Feeds a chunk; returns the complete rows it finished (full table width, NULL
    /// where the copy names no column).
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<Vec<Value>>> {
        if self.binary {
            return self.feed_binary(data);
        }
        let mut out = Vec::new();
        if self.ended {
            return Ok(out);
        }
        self.partial.extend_from_slice(data);
        let mut start = 0;
        let buf = std::mem::take(&mut self.partial);
        while let Some(pos) = buf[start..].iter().position(|b| *b == b'\n') {
            let mut line = &buf[start..start + pos];
            start += pos + 1;
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            self.line += 1;
            if line == b"\\." {
                self.ended = true;
                break;
            }
            out.push(self.row(line)?);
        }
        if !self.ended {
            self.partial = buf[start..].to_vec();
        }
        Ok(out)
    }

    /// At CopyDone: a last line without a newline is a row too.
    pub fn finish(&mut self) -> Result<Option<Vec<Value>>> {
        if self.binary && !self.ended {
            // PostgreSQL: a binary copy must end with its trailer.
            return Err(self.bad("unexpected EOF in COPY data".to_owned()));
        }
        if self.ended || self.partial.is_empty() {
            return Ok(None);
        }
        let line = std::mem::take(&mut self.partial);
        self.line += 1;
        if line == b"\\." {
            return Ok(None);
        }
        Ok(Some(self.row(&line)?))
    }

    fn bad(&self, msg: String) -> Error {
        Error::new(ErrorKind::BadCopyFileFormat, msg)
            .with_detail(format!("COPY {}, line {}", self.table.name, self.line))
    }

    fn row(&mut self, line: &[u8]) -> Result<Vec<Value>> {
        let text = std::str::from_utf8(line).map_err(|_| {
            Error::new(ErrorKind::BadCopyFileFormat, "invalid byte sequence for encoding \"UTF8\"")
        })?;
        let fields: Vec<&str> = text.split('\t').collect();
        if fields.len() < self.columns.len() {
            let missing = &self.table.columns[self.columns[fields.len()]].name;
            return Err(self.bad(format!("missing data for column \"{missing}\"")));
        }
        if fields.len() > self.columns.len() {
            return Err(self.bad("extra data after last expected column".to_owned()));
        }
        let mut row = vec![Value::Null; self.table.columns.len()];
        for (field, &col) in fields.iter().zip(&self.columns) {
            if *field == "\\N" {
                continue;
            }
            let unescaped = unescape(field);
            let ty = &self.table.columns[col].ty;
            row[col] = parse_text(&unescaped, ty).map_err(|e| {
                let name = &self.table.columns[col].name;
                e.with_detail(format!(
                    "COPY {}, line {}, column {name}: \"{field}\"",
                    self.table.name, self.line
                ))
            })?;
        }
        self.rows += 1;
        Ok(row)
    }
}

/// Undoes COPY text escapes (`\t`, `\n`, `\\`, octal and `\x` hex).
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 == b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = (c - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + (b[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            b'x' if i < b.len() && b[i].is_ascii_hexdigit() => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && i < b.len() && b[i].is_ascii_hexdigit() {
                    v = v * 16 + (b[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Column, TableId};
    use crate::types::DataType;

    fn table() -> Arc<TableDef> {
        Arc::new(TableDef {
            id: TableId(1),
            oid: 16384,
            schema: "public".into(),
            name: "t".into(),
            columns: vec![
                Column::new("a", DataType::Int4, true),
                Column::new("b", DataType::Text, false),
            ],
            primary_key: None,
            checks: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
        })
    }

    #[test]
    fn rows_split_across_chunks_and_end_marker() {
        let mut c = CopyIn::new(table(), vec![0, 1], false);
        assert!(c.feed(b"1\tx").expect("feed").is_empty());
        let rows = c.feed(b"y\n2\t\\N\n\\.\n3\tignored\n").expect("feed");
        assert_eq!(
            rows,
            vec![vec![Value::Int4(1), Value::Text("xy".into())], vec![Value::Int4(2), Value::Null]]
        );
        assert_eq!(c.finish().expect("finish"), None);
    }

    #[test]
    fn wrong_column_count_is_22p04() {
        let mut c = CopyIn::new(table(), vec![0, 1], false);
        let e = c.feed(b"1\n").expect_err("short row");
        assert_eq!(e.kind.sqlstate(), "22P04");
        assert_eq!(unescape("a\\tb\\\\c\\101"), "a\tb\\cA");
    }

    #[test]
    fn binary_tuples_split_anywhere() {
        let mut data = SIGNATURE.to_vec();
        data.extend(0i32.to_be_bytes());
        data.extend(0i32.to_be_bytes());
        for (a, b) in [(7i32, Some("x")), (8, None)] {
            data.extend(2i16.to_be_bytes());
            data.extend(4i32.to_be_bytes());
            data.extend(a.to_be_bytes());
            match b {
                Some(s) => {
                    data.extend((s.len() as i32).to_be_bytes());
                    data.extend(s.as_bytes());
                }
                None => data.extend((-1i32).to_be_bytes()),
            }
        }
        data.extend((-1i16).to_be_bytes());
        let mut c = CopyIn::new(table(), vec![0, 1], true);
        let mut rows = Vec::new();
        for chunk in data.chunks(5) {
            rows.extend(c.feed(chunk).expect("feed"));
        }
        assert_eq!(
            rows,
            vec![vec![Value::Int4(7), Value::Text("x".into())], vec![Value::Int4(8), Value::Null]]
        );
        assert_eq!(c.finish().expect("finish"), None);
        let mut bad = CopyIn::new(table(), vec![0, 1], true);
        assert_eq!(bad.feed(b"PGCOPX").expect_err("signature").kind.sqlstate(), "22P04");
    }
}
