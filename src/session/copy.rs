//! COPY … FROM STDIN in text format: rows arrive in CopyData chunks that may split a
//! line anywhere; each complete line is one row (tab-separated, `\N` for NULL,
//! backslash escapes), and a line `\.` ends the data (psql and pgbench still send it).

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
}

/// Rows written to storage at a time: pgbench sends one CopyData per row, and taking a
/// snapshot and the partition lock per row would dominate the copy.
pub const BATCH: usize = 4096;

impl CopyIn {
    /// Starts a copy into `columns` of `table`.
    pub fn new(table: Arc<TableDef>, columns: Vec<usize>) -> CopyIn {
        CopyIn {
            table,
            columns,
            partial: Vec::new(),
            rows: 0,
            line: 0,
            ended: false,
            ready: Vec::new(),
        }
    }

    /// Feeds a chunk; returns the complete rows it finished (full table width, NULL
    /// where the copy names no column).
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<Vec<Value>>> {
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
            name: "t".into(),
            columns: vec![
                Column::new("a", DataType::Int4, true),
                Column::new("b", DataType::Text, false),
            ],
            primary_key: None,
            checks: Vec::new(),
        })
    }

    #[test]
    fn rows_split_across_chunks_and_end_marker() {
        let mut c = CopyIn::new(table(), vec![0, 1]);
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
        let mut c = CopyIn::new(table(), vec![0, 1]);
        let e = c.feed(b"1\n").expect_err("short row");
        assert_eq!(e.kind.sqlstate(), "22P04");
        assert_eq!(unescape("a\\tb\\\\c\\101"), "a\tb\\cA");
    }
}
