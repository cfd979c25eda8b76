//! loom models of troupe's concurrency protocol live in `tests/`; see `run.sh`.
