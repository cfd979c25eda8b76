#!/usr/bin/env bash
# run.sh — runs every loom model in loom-tests/tests/ (see loom-tests/README.md).
#
#   loom-tests/run.sh [extra cargo test args, e.g. --test locks or a test name filter]
#
# Builds troupe with `--cfg troupe_loom` (the crate's sync facade then uses loom's
# types) in its own target dir, target/loom, so that it never invalidates the normal
# build. Debug profile: on 2 cores a cold debug build plus the models took 3m25s,
# a release one 5m32s; the models' faster run (4 s instead of ~20 s) does not win
# back the longer compile (numbers in README.md).
#
# Environment: LOOM_MAX_PREEMPTIONS (2, the bound the models are written for),
# LOOM_PROFILE=release to build optimised instead.
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="${RUSTFLAGS:-} --cfg troupe_loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target/loom}"
profile=()
[ "${LOOM_PROFILE:-debug}" = release ] && profile=(--release)

start=$(date +%s)
cargo test "${profile[@]}" -p troupe-loom-tests "$@"
echo "loom models: passed in $(($(date +%s) - start)) s (LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS, ${LOOM_PROFILE:-debug})"
