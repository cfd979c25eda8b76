//! Oids for catalog objects that troupe's catalog does not store an oid for, derived
//! from their table's oid (which is below 2^24 in practice: oids are allocated from
//! 16384 up, one per table or sequence).
//!
//! ```text
//!   bits 31..30   rest
//!   11            table oid              primary-key constraint
//!   10            table oid              primary-key index (pg_class, pg_index)
//!   01            table oid << 6 | n     CHECK constraint n (n < 64)
//!   001           table oid << 6 | attnum  pg_attrdef row (attnum < 64)
//!   0001          table oid << 6 | n     secondary index n (pg_class, pg_index)
//!   00001         table oid << 6 | n     the UNIQUE constraint of index n
//!   000001        table oid << 6 | n     FOREIGN KEY constraint n (table oid < 2^20)
//!   0000001       view oid               the view's `_RETURN` rule (pg_rewrite)
//! ```
//!
//! A secondary index's number is its position in `TableDef::indexes` (creation
//! order), so dropping an earlier index renumbers the later ones: their oids change,
//! as they would not in PostgreSQL. Clients read an oid and use it within one query
//! (psql's `\d`), which this serves.
//!
//! The derivation is a pure function both ways, so `pg_get_constraintdef(oid)` and
//! `pg_get_indexdef(oid)` find their object again without any stored state.

const PKEY_CONSTRAINT: u32 = 0xC000_0000;
const PKEY_INDEX: u32 = 0x8000_0000;
const CHECK: u32 = 0x4000_0000;
const ATTRDEF: u32 = 0x2000_0000;
const TOP2: u32 = 0xC000_0000;
const INDEX: u32 = 0x1000_0000;
const UNIQUE: u32 = 0x0800_0000;
const FOREIGN_KEY: u32 = 0x0400_0000;
const RULE: u32 = 0x0200_0000;

/// What a derived oid names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    /// The primary-key constraint of the table with this oid.
    PkeyConstraint(u32),
    /// The primary-key index of the table with this oid.
    PkeyIndex(u32),
    /// CHECK constraint number `n` (0-based, in definition order) of the table.
    Check(u32, usize),
    /// Secondary index number `n` (position in `TableDef::indexes`) of the table.
    Index(u32, usize),
    /// The UNIQUE constraint made with secondary index number `n`.
    Unique(u32, usize),
    /// FOREIGN KEY constraint number `n` (position in `TableDef::foreign_keys`).
    ForeignKey(u32, usize),
}

/// The primary-key constraint's oid.
pub fn pkey_constraint(table: u32) -> u32 {
    PKEY_CONSTRAINT | (table & !TOP2)
}

/// The primary-key index's oid.
pub fn pkey_index(table: u32) -> u32 {
    PKEY_INDEX | (table & !TOP2)
}

/// CHECK constraint `n`'s oid.
pub fn check(table: u32, n: usize) -> u32 {
    CHECK | ((table << 6) & !TOP2) | (n as u32 & 63)
}

/// The pg_attrdef row's oid for column `attnum`.
pub fn attrdef(table: u32, attnum: usize) -> u32 {
    ATTRDEF | ((table << 6) & 0x1FFF_FFFF) | (attnum as u32 & 63)
}

/// Secondary index `n`'s oid.
pub fn index(table: u32, n: usize) -> u32 {
    INDEX | ((table << 6) & (INDEX - 1)) | (n as u32 & 63)
}

/// The oid of the UNIQUE constraint made with secondary index `n`.
pub fn unique(table: u32, n: usize) -> u32 {
    UNIQUE | ((table << 6) & (UNIQUE - 1)) | (n as u32 & 63)
}

/// FOREIGN KEY constraint `n`'s oid.
pub fn foreign_key(table: u32, n: usize) -> u32 {
    FOREIGN_KEY | ((table << 6) & (FOREIGN_KEY - 1)) | (n as u32 & 63)
}

/// The oid of a view's `_RETURN` rule.
pub fn rule(view: u32) -> u32 {
    RULE | (view & (RULE - 1))
}

/// What `oid` names, if it is one of the derived oids.
pub fn decode(oid: u32) -> Option<Derived> {
    match oid & TOP2 {
        PKEY_CONSTRAINT => Some(Derived::PkeyConstraint(oid & !TOP2)),
        PKEY_INDEX => Some(Derived::PkeyIndex(oid & !TOP2)),
        CHECK => Some(Derived::Check((oid & !TOP2) >> 6, (oid & 63) as usize)),
        _ if oid & 0xF000_0000 == INDEX => {
            Some(Derived::Index((oid & (INDEX - 1)) >> 6, (oid & 63) as usize))
        }
        _ if oid & 0xF800_0000 == UNIQUE => {
            Some(Derived::Unique((oid & (UNIQUE - 1)) >> 6, (oid & 63) as usize))
        }
        _ if oid & 0xFC00_0000 == FOREIGN_KEY => {
            Some(Derived::ForeignKey((oid & (FOREIGN_KEY - 1)) >> 6, (oid & 63) as usize))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_oids_decode_to_their_object() {
        assert_eq!(decode(pkey_constraint(16384)), Some(Derived::PkeyConstraint(16384)));
        assert_eq!(decode(pkey_index(16390)), Some(Derived::PkeyIndex(16390)));
        assert_eq!(decode(check(16384, 2)), Some(Derived::Check(16384, 2)));
        assert_eq!(decode(index(16384, 3)), Some(Derived::Index(16384, 3)));
        assert_eq!(decode(unique(16384, 1)), Some(Derived::Unique(16384, 1)));
        assert_eq!(decode(foreign_key(16390, 2)), Some(Derived::ForeignKey(16390, 2)));
        assert_eq!(decode(16384), None);
    }
}
