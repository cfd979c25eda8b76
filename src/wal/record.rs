//! What the WalWriter is asked to make durable ([`CommitRecord`], [`WalWrite`]) and
//! what it answers ([`Durable`]).
//!
//! A record is the complete write set of one committed transaction, already ordered
//! by the caller: the writer applies its writes in vector order, and records in the
//! order they were submitted (which must be commit-timestamp order). Keys and values
//! are opaque bytes here: the row and catalog encodings belong to storage and the
//! catalog, the WAL only moves them into fjall and back.

use crate::catalog::TableId;
use crate::error::Error;
use crate::txn::CommitTs;

/// One change inside a commit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalWrite {
    /// Insert or replace a row. `key` is the encoded primary key (or hidden row id).
    Put {
        /// The row's table.
        table: TableId,
        /// Encoded primary key or row id.
        key: Vec<u8>,
        /// Encoded row.
        value: Vec<u8>,
    },
    /// Remove a row.
    Delete {
        /// The row's table.
        table: TableId,
        /// Encoded primary key or row id.
        key: Vec<u8>,
    },
    /// Insert or replace a catalog (or sequence) entry in the one `catalog` keyspace.
    CatalogPut {
        /// Catalog key, in the catalog's own encoding.
        key: Vec<u8>,
        /// Catalog value.
        value: Vec<u8>,
    },
    /// Remove a catalog (or sequence) entry.
    CatalogDelete {
        /// Catalog key.
        key: Vec<u8>,
    },
    /// Every row of the table is gone for good once this record is durable. Table ids
    /// are never reused, so later writes to the same id are a caller bug.
    DropTable {
        /// The dropped table.
        table: TableId,
    },
}

impl WalWrite {
    /// Bytes of payload this write carries (keys and values, plus a small constant for
    /// the framing), used to cap the size of a group.
    pub fn approx_bytes(&self) -> usize {
        const FRAMING: usize = 16;
        FRAMING
            + match self {
                WalWrite::Put { key, value, .. } | WalWrite::CatalogPut { key, value } => {
                    key.len() + value.len()
                }
                WalWrite::Delete { key, .. } | WalWrite::CatalogDelete { key } => key.len(),
                WalWrite::DropTable { .. } => 0,
            }
    }
}

/// The write set of one committed transaction, sent by the TxnManager to the
/// WalWriter once the commit timestamp is assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRecord {
    /// The transaction's commit timestamp; records are submitted in this order.
    pub ts: CommitTs,
    /// The changes, applied in this order (a later write to a key wins).
    pub writes: Vec<WalWrite>,
}

impl CommitRecord {
    /// Approximate payload size of the record in bytes (sum of its writes).
    pub fn approx_bytes(&self) -> usize {
        self.writes.iter().map(WalWrite::approx_bytes).sum()
    }
}

/// The outcome of one persisted group, reported once per group in commit-ts order.
///
/// Every submitted record's timestamp appears in exactly one `Durable`. `result` is
/// `Ok` only when one persist (fsync) covered every listed commit; otherwise it is the
/// 58030 error, and the engine is poisoned (nothing is acknowledged `Ok` afterwards).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Durable {
    /// The commits this outcome is for, in the order they were submitted.
    pub commits: Vec<CommitTs>,
    /// `Ok` once durable; the I/O error otherwise.
    pub result: Result<(), Error>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_keys_values_and_framing() {
        let record = CommitRecord {
            ts: CommitTs(7),
            writes: vec![
                WalWrite::Put { table: TableId(1), key: vec![1; 4], value: vec![2; 10] },
                WalWrite::Delete { table: TableId(1), key: vec![1; 4] },
                WalWrite::CatalogPut { key: vec![3; 2], value: vec![4; 3] },
                WalWrite::CatalogDelete { key: vec![3; 2] },
                WalWrite::DropTable { table: TableId(2) },
            ],
        };
        assert_eq!(record.approx_bytes(), 5 * 16 + 14 + 4 + 5 + 2);
    }
}
