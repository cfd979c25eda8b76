//! The WalWriter actor: group commit into fjall, and recovery.
