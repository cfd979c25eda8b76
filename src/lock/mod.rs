//! The LockManager actor and its sans-IO core.
