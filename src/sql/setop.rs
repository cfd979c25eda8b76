//! UNION / INTERSECT / EXCEPT \[ALL\] over materialised inputs whose columns already
//! have the same types (the planner casts both sides to the resolved types).
//!
//! Rows compare as in DISTINCT: NULLs are equal to each other. Without ALL the result
//! has no duplicates; with ALL a row that occurs m times on the left and n times on the
//! right occurs m + n times (UNION), min(m, n) times (INTERSECT) or max(m - n, 0) times
//! (EXCEPT), as the standard says. Sans-IO: rows in, rows out.

use std::collections::{HashMap, HashSet};

use crate::types::{encode_key, Value};

use super::plan::SetOpKind;

type Row = Vec<Value>;

fn key(r: &Row) -> Vec<u8> {
    let mut k = Vec::new();
    encode_key(r, &mut k);
    k
}

/// Combines `left` and `right`.
pub fn set_op(op: SetOpKind, all: bool, left: Vec<Row>, right: Vec<Row>) -> Vec<Row> {
    match (op, all) {
        (SetOpKind::Union, true) => {
            let mut out = left;
            out.extend(right);
            out
        }
        (SetOpKind::Union, false) => {
            let mut seen = HashSet::new();
            left.into_iter().chain(right).filter(|r| seen.insert(key(r))).collect()
        }
        (SetOpKind::Intersect | SetOpKind::Except, _) => {
            let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
            for r in &right {
                *counts.entry(key(r)).or_default() += 1;
            }
            let mut emitted = HashSet::new();
            let mut out = Vec::new();
            for r in left {
                let k = key(&r);
                let in_right = counts.get(&k).copied().unwrap_or(0);
                let keep = match (op, all) {
                    (SetOpKind::Intersect, true) => {
                        if in_right > 0 {
                            counts.insert(k, in_right - 1);
                            true
                        } else {
                            false
                        }
                    }
                    (SetOpKind::Intersect, false) => in_right > 0 && emitted.insert(k),
                    (_, true) => {
                        if in_right > 0 {
                            counts.insert(k, in_right - 1);
                            false
                        } else {
                            true
                        }
                    }
                    (_, false) => in_right == 0 && emitted.insert(k),
                };
                if keep {
                    out.push(r);
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[i32]) -> Vec<Row> {
        v.iter().map(|&i| vec![Value::Int4(i)]).collect()
    }

    #[test]
    fn multiset_counts_follow_the_standard() {
        let l = || rows(&[1, 1, 1, 2, 3]);
        let r = || rows(&[1, 1, 3, 4]);
        assert_eq!(set_op(SetOpKind::Union, false, l(), r()), rows(&[1, 2, 3, 4]));
        assert_eq!(set_op(SetOpKind::Union, true, l(), r()).len(), 9);
        assert_eq!(set_op(SetOpKind::Intersect, false, l(), r()), rows(&[1, 3]));
        assert_eq!(set_op(SetOpKind::Intersect, true, l(), r()), rows(&[1, 1, 3]));
        assert_eq!(set_op(SetOpKind::Except, false, l(), r()), rows(&[2]));
        assert_eq!(set_op(SetOpKind::Except, true, l(), r()), rows(&[1, 2]));
    }
}
