#!/usr/bin/env bash
# The long crash loop: SIGKILLs `deploylink link` at random moments while it delivers to a
# slow fake Jira, then runs `retry`, TRIALS times (default 100), and prints each trial.
# `cargo test` runs 6 of these trials; this is the full run. A failure prints its trial and
# seed: DEPLOYLINK_CRASH_SEED=<seed> bash scripts/crash-loop.sh <trials> replays it.
# Usage: bash scripts/crash-loop.sh [TRIALS]
set -euo pipefail
cd "$(dirname "$0")/.."
export DEPLOYLINK_CRASH_TRIALS="${1:-100}"
export DEPLOYLINK_CRASH_SEED="${DEPLOYLINK_CRASH_SEED:-$(date +%s)}"
echo "crash loop: $DEPLOYLINK_CRASH_TRIALS trials, seed $DEPLOYLINK_CRASH_SEED"
cargo test --locked --test it spool::a_link_killed_at_random_moments_loses_nothing -- --nocapture
