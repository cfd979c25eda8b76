//! Golden scripts for the lock table: `tests/golden/lock/*.txt`, one behaviour per file.
//!
//! A script is a header comment (`#`: the setup and the expectation), then commands,
//! each followed by the output it must produce, indented by two spaces:
//!
//! ```text
//! t1 acquire row(1,"a") X          # also: S; table(1); a trailing nowait | skip-locked
//!   t1 granted
//! t2 acquire row(1,"a") X
//!   t2 waits                       # the acquire produced no answer for t2
//! t1 release                       # ReleaseAll; `t1 cancel` is CancelWait
//!   t2 granted
//! show row(1,"a")                  # holders and queue of a target
//!   holders: t2 X | waiters: -
//! idle                             # is the whole table empty?
//!   idle
//! ```
//!
//! Errors print as `t3 ! <SQLSTATE> <message>`; a deadlock adds the cycle as txn
//! numbers (`3->1->2->3`, victim first) and then the DETAIL lines. Transaction `tN`
//! runs in backend pid `100 + N`. After every step the table's invariants are checked.
//!
//! `TROUPE_GOLDEN_REWRITE=1 cargo test --test lock_golden` rewrites the expected
//! output from what the code does (review the diff before committing).

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::Path;

use troupe::catalog::TableId;
use troupe::lock::core::{Effect, Input, LockTable};
use troupe::lock::{LockMode, LockTarget, WaitPolicy};
use troupe::txn::TxnId;

fn parse_txn(word: &str) -> TxnId {
    TxnId(
        word.strip_prefix('t')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("bad txn {word}")),
    )
}

fn parse_target(word: &str) -> LockTarget {
    let inner = |prefix: &str| word.strip_prefix(prefix).and_then(|s| s.strip_suffix(')'));
    if let Some(args) = inner("row(") {
        let (table, key) = args.split_once(',').unwrap_or_else(|| panic!("bad row {word}"));
        let key = key.trim().trim_matches('"');
        LockTarget::Row {
            table: TableId(table.trim().parse().unwrap()),
            key: key.as_bytes().into(),
        }
    } else if let Some(table) = inner("table(") {
        LockTarget::Table(TableId(table.trim().parse().unwrap()))
    } else {
        panic!("bad target {word}")
    }
}

fn mode_name(m: LockMode) -> &'static str {
    match m {
        LockMode::Shared => "S",
        LockMode::Exclusive => "X",
        _ => "?",
    }
}

fn list(v: &[(TxnId, LockMode)]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.iter().map(|(t, m)| format!("t{} {}", t.0, mode_name(*m))).collect::<Vec<_>>().join(", ")
}

/// Runs one command; returns its output lines.
fn run(table: &mut LockTable, line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["show", target] => {
            let t = parse_target(target);
            return vec![format!(
                "holders: {} | waiters: {}",
                list(&table.holders(&t)),
                list(&table.waiters(&t))
            )];
        }
        ["idle"] => return vec![if table.is_idle() { "idle" } else { "not idle" }.into()],
        _ => {}
    }
    let (input, acquiring) = match words.as_slice() {
        [txn, "acquire", target, mode, rest @ ..] => {
            let txn = parse_txn(txn);
            let mode = match *mode {
                "S" => LockMode::Shared,
                "X" => LockMode::Exclusive,
                m => panic!("bad mode {m}"),
            };
            let wait = match rest {
                [] => WaitPolicy::Block,
                ["nowait"] => WaitPolicy::NoWait,
                ["skip-locked"] => WaitPolicy::SkipLocked,
                r => panic!("bad wait policy {r:?}"),
            };
            let pid = 100 + txn.0 as i32;
            (Input::Acquire { txn, pid, target: parse_target(target), mode, wait }, Some(txn))
        }
        [txn, "release"] => (Input::ReleaseAll { txn: parse_txn(txn) }, None),
        [txn, "cancel"] => (Input::CancelWait { txn: parse_txn(txn) }, None),
        _ => panic!("bad command {line:?}"),
    };
    let effects = table.step(input);
    let mut out = Vec::new();
    for e in &effects {
        let t = e.txn().0;
        match e {
            Effect::Granted { .. } => out.push(format!("t{t} granted")),
            Effect::Skipped { .. } => out.push(format!("t{t} skipped")),
            Effect::Failed { error, .. } => {
                let mut s = format!("t{t} ! {} {}", error.kind.sqlstate(), error.message);
                let detail = error.detail.as_deref().unwrap_or("");
                // The cycle, in txn numbers, from the detail's "Process <pid> waits" lines.
                let cycle: Vec<String> = detail
                    .lines()
                    .filter_map(|l| {
                        l.strip_prefix("Process ")?.split(' ').next()?.parse::<i64>().ok()
                    })
                    .map(|pid| (pid - 100).to_string())
                    .collect();
                if let Some(first) = cycle.first() {
                    write!(s, ": {}->{first}", cycle.join("->")).unwrap();
                }
                out.push(s);
                out.extend(detail.lines().map(|l| format!("  {l}")));
            }
        }
    }
    if let Some(txn) = acquiring {
        if !effects.iter().any(|e| e.txn() == txn) {
            out.push(format!("t{} waits", txn.0));
        }
    }
    out
}

/// Replays `script`, returning the same script with the produced output in place of
/// the expected one.
fn transcript(name: &str, script: &str) -> String {
    let mut table = LockTable::new();
    let mut out = String::new();
    for (n, line) in script.lines().enumerate() {
        if line.starts_with(' ') {
            continue; // expected output: regenerated below its command
        }
        out.push_str(line);
        out.push('\n');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for produced in run(&mut table, line) {
            writeln!(out, "  {produced}").unwrap();
        }
        if let Err(broken) = table.check_invariants() {
            panic!("{name}:{}: invariant broken after {line:?}: {broken}", n + 1);
        }
    }
    out
}

#[test]
fn golden_lock_scripts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/lock");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scripts in {}", dir.display());
    let rewrite = std::env::var_os("TROUPE_GOLDEN_REWRITE").is_some();
    let mut failed = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let script = std::fs::read_to_string(&path).unwrap();
        let actual = transcript(&name, &script);
        if actual != script {
            if rewrite {
                std::fs::write(&path, &actual).unwrap();
            } else {
                eprintln!("--- {name}: expected\n{script}\n--- {name}: actual\n{actual}");
                failed.push(name);
            }
        }
    }
    assert!(
        failed.is_empty(),
        "golden scripts differ: {failed:?} (TROUPE_GOLDEN_REWRITE=1 to accept)"
    );
}
