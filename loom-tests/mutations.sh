#!/usr/bin/env bash
# mutations.sh — proves that the loom models bite (see loom-tests/README.md).
#
#   loom-tests/mutations.sh            every mutation, then every model unmutated
#   loom-tests/mutations.sh NAME...    only these mutations (e.g. mutate-no-deadlock-victim)
#
# Each mutation is a cargo feature of the troupe crate (Cargo.toml, [features]) that
# breaks one invariant of the concurrency protocol at its decision point, in a sans-IO
# core. For each, this script builds the loom models with the feature on and runs the
# model(s) that guard that invariant (filtered to them, to keep it fast), and requires
# them to FAIL. At the end it runs every model without mutations (run.sh) and requires
# them to pass. Exit status: non-zero if a mutation survived, a build failed, or an
# unmutated model failed.
#
# Same environment as run.sh: RUSTFLAGS --cfg troupe_loom, LOOM_MAX_PREEMPTIONS=2,
# target/loom. A feature only rebuilds troupe and the models (a RUSTFLAGS change would
# rebuild every dependency). Logs of every run: target/loom/mutations/NAME.log.
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="${RUSTFLAGS:-} --cfg troupe_loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target/loom}"
export RUST_BACKTRACE=0
logs="$CARGO_TARGET_DIR/mutations"
mkdir -p "$logs"

# feature | model file | test-name filter ("" = every model in the file) | what it breaks
mutations=(
  "mutate-ack-before-persist|group_commit|every_persist_succeeds|a commit is acknowledged before a persist covered it"
  "mutate-persist-failure-not-poisoning|group_commit|the_first_persist_fails|a failed persist does not poison: later commits are persisted and acknowledged"
  "mutate-watermark-before-publish|visibility|two_commits_in|the watermark moves before the statuses it covers are published"
  "mutate-watermark-out-of-order|visibility|out_of_commit_order|commits are published, and the watermark moved, out of timestamp order"
  "mutate-forget-waiter-on-release|locks|release_racing_a_new_wait|a release forgets the waiters (lost wake-up)"
  "mutate-no-deadlock-victim|locks|_cycle_|a deadlock cycle gets no victim"
  "mutate-grant-conflicting-lock|locks|holders_never_conflict|a lock is granted next to a conflicting holder"
  "mutate-lifo-wake|locks|arrival_order|waiters are granted newest first, not in arrival order (FIFO)"
  "mutate-rr-no-changed-since-check|row_writes|repeatable_read|REPEATABLE READ builds on a row changed since its snapshot (lost update)"
  "mutate-put-without-compare|row_writes||a put installs over a version that is no longer the newest (lost update)"
  "mutate-retry-keeps-failed-attempt|session_retry||a retried statement runs inside the failed attempt's transaction"
  "mutate-poison-forgets-commits|commit_vs_disconnect|failed_persist|a poisoned TxnManager leaves a commit unanswered and its locks held"
)

selected=("$@")
survived=()
broken=()
results=()
start=$(date +%s)

for entry in "${mutations[@]}"; do
  IFS='|' read -r feature file filter what <<<"$entry"
  if [ ${#selected[@]} -gt 0 ] && [[ " ${selected[*]} " != *" $feature "* ]]; then
    continue
  fi
  log="$logs/$feature.log"
  t0=$SECONDS
  touch "$logs/.started"
  args=(-p troupe-loom-tests --features "troupe/$feature" --test "$file")
  if ! cargo test "${args[@]}" --no-run >"$log" 2>&1; then
    results+=("BUILD FAILED  $feature (see $log)")
    broken+=("$feature")
    continue
  fi
  filter_args=()
  [ -n "$filter" ] && filter_args=("$filter")
  if cargo test "${args[@]}" -- "${filter_args[@]}" >>"$log" 2>&1; then
    results+=("SURVIVED      $feature: $file ${filter:-*} passed ($((SECONDS - t0)) s)")
    survived+=("$feature")
  else
    # A mutated run must fail in a model, not for another reason. A model that loom
    # finds deadlocked can also abort the whole test process (loom panics again while
    # unwinding), so a panic on a model's own thread counts as that model failing.
    failed=$(grep "^test .* FAILED$" "$log" | sed 's/^test \(.*\) \.\.\. FAILED$/\1/' | tr '\n' ' ' || true)
    if [ -z "$failed" ]; then
      failed=$(sed -n "s/^thread '\([a-z0-9_]*\)' ([0-9]*) panicked at .*/\1 (aborted)/p" "$log" \
        | sort -u | tr '\n' ' ' || true)
    fi
    if [ -z "$failed" ]; then
      results+=("NO MODEL FAIL $feature: $file exited non-zero without a failed model (see $log)")
      broken+=("$feature")
      continue
    fi
    results+=("killed        $feature: $file fails: ${failed% } ($((SECONDS - t0)) s)")
  fi
  echo "${results[-1]}"
  echo "                ($what)"
  # A mutated build is never reused by run.sh: drop it (about 150 MB each, with its
  # incremental cache) so that the script does not fill a shared disk.
  find "$CARGO_TARGET_DIR/debug/deps" "$CARGO_TARGET_DIR/debug/incremental" -maxdepth 1 \
    -newer "$logs/.started" \( -name 'libtroupe-*' -o -name 'troupe-*' -o -name "$file-*" \) \
    -exec rm -rf {} +
done

echo
echo "== every model without mutations =="
clean=ok
if [ ${#selected[@]} -eq 0 ]; then
  loom-tests/run.sh || clean=FAILED
else
  echo "skipped (mutations selected by name)"
fi

echo
echo "== mutations: $(($(date +%s) - start)) s =="
for r in "${results[@]}"; do echo "  $r"; done
echo "  unmutated models: $clean"
if [ ${#survived[@]} -ne 0 ] || [ ${#broken[@]} -ne 0 ] || [ "$clean" != ok ]; then
  echo "mutations: FAILED (survived: ${survived[*]:-none}; broken: ${broken[*]:-none})" >&2
  exit 1
fi
echo "mutations: every mutation was killed"
