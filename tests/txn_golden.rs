//! Golden scripts for the TxnManager's core: `tests/golden/txn/*.txt`, one behaviour
//! per file.
//!
//! ```text
//! start 10                # a core whose last commit timestamp was 10
//! commit c1               # committer c1 asks to commit
//!   submit c1 ts=11       # the shell must hand record ts=11 to the WalWriter
//! durable 11 12           # the WalWriter persisted a group holding ts 11 and 12
//!   publish c1 ts=11      # c1's status gets ts 11 and it is told OK
//!   publish c2 ts=12
//!   watermark 12          # then the watermark moves
//! durable-failed 13       # the persist of a group failed
//!   fail c3
//! submit-failed 14        # the WalWriter refused a record (poisoned / gone)
//! ```
//! `TROUPE_GOLDEN_REWRITE=1 cargo test --test txn_golden` rewrites the expectations.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;

use troupe::txn::core::{Effect, Input, TxnCore};
use troupe::txn::CommitTs;

fn render(effects: &[Effect], out: &mut String) {
    for e in effects {
        match e {
            Effect::Submit { token, ts } => writeln!(out, "  submit c{token} ts={}", ts.0),
            Effect::Publish { token, ts } => writeln!(out, "  publish c{token} ts={}", ts.0),
            Effect::Watermark(ts) => writeln!(out, "  watermark {}", ts.0),
            Effect::Fail { token } => writeln!(out, "  fail c{token}"),
        }
        .unwrap();
    }
}

fn run(script: &str) -> String {
    let mut out = String::new();
    let mut core = TxnCore::new(CommitTs(0));
    for line in script.lines() {
        if line.starts_with("  ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        let words: Vec<&str> = line.split_whitespace().collect();
        let effects = match words.as_slice() {
            [] => continue,
            [w, ..] if w.starts_with('#') => continue,
            ["start", ts] => {
                core = TxnCore::new(CommitTs(ts.parse().unwrap()));
                continue;
            }
            ["commit", c] => {
                core.step(Input::Commit { token: c.trim_start_matches('c').parse().unwrap() })
            }
            ["durable", ts @ ..] | ["durable-failed", ts @ ..] => core.step(Input::Durable {
                commits: ts.iter().map(|t| CommitTs(t.parse().unwrap())).collect(),
                ok: words[0] == "durable",
            }),
            ["submit-failed", ts] => {
                core.step(Input::SubmitFailed { ts: CommitTs(ts.parse().unwrap()) })
            }
            other => panic!("unknown command {other:?}"),
        };
        render(&effects, &mut out);
    }
    out
}

#[test]
fn golden_scripts() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/txn");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let expected = std::fs::read_to_string(&path).unwrap();
        let actual = run(&expected);
        if std::env::var_os("TROUPE_GOLDEN_REWRITE").is_some() {
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        assert_eq!(actual, expected, "golden script {} differs", path.display());
    }
}
