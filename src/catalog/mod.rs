//! The catalog: table definitions, their columns and keys.

/// A table's id. Never reused within a data directory (a dropped table's id stays dead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(pub u32);
