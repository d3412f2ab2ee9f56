#!/usr/bin/env bash
# The latency the post-receive hook adds to a 10-commit push, against a fake Jira with
# 50 ms of latency. See bench/README.md.  Usage: bash bench/hook.sh
#
# Environment: DEPLOYLINK (binary, default target/release/deploylink, built if missing),
# BENCH_RUNS (pushes per case, default 9), BENCH_LATENCY (ms, default 50).
# Exit status: 0 target met, 1 missed, 2 setup error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for tool in git python3 curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "hook.sh: '$tool' not found" >&2; exit 2; }
done
bin="${DEPLOYLINK:-$root/target/release/deploylink}"
if [[ ! -x "$bin" ]]; then
  (cd "$root" && cargo build --release --locked) || exit 2
fi
exec python3 "$root/bench/hook.py" "$bin" "${BENCH_RUNS:-9}" "${BENCH_LATENCY:-50}"
