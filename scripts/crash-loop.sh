#!/usr/bin/env bash
# The long crash loops: SIGKILL `deploylink link`, and the post-receive hook (half the trials
# the environment's first deploy), at random moments while they deliver to a slow sandbox
# Jira, then run `retry` (and, for the hook, a follow-up push), TRIALS times each (default
# 100), and print each trial. `cargo test` runs a few of each; this is the full run. A
# failure prints its trial and seed: DEPLOYLINK_CRASH_SEED=<seed> bash scripts/crash-loop.sh
# <trials> replays it.
# Usage: bash scripts/crash-loop.sh [TRIALS] [link|hook|both]
set -euo pipefail
cd "$(dirname "$0")/.."
export DEPLOYLINK_CRASH_TRIALS="${1:-100}"
export DEPLOYLINK_CRASH_SEED="${DEPLOYLINK_CRASH_SEED:-$(date +%s)}"
which="${2:-both}"
echo "crash loop: $DEPLOYLINK_CRASH_TRIALS trials, seed $DEPLOYLINK_CRASH_SEED, $which"
if [ "$which" != hook ]; then
  cargo test --locked --test it spool::a_link_killed_at_random_moments_loses_nothing -- --nocapture
fi
if [ "$which" != link ]; then
  cargo test --locked --test it nothing_lost::a_hook_killed_at_random_moments_links_and_comments_each_issue_once -- --nocapture
fi
