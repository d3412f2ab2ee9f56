#!/usr/bin/env bash
# Development information for a push of 1,000 new commits through the post-receive hook,
# against a fake Jira with 50 ms of latency: the requests it takes and the push's wall time.
# See bench/README.md.  Usage: bash bench/devinfo.sh
#
# Environment: DEPLOYLINK (binary, default target/release/deploylink, built if missing),
# BENCH_RUNS (pushes, default 5; the median is reported), BENCH_LATENCY (ms, default 50),
# BENCH_COMMITS (default 1000).
# Exit status: 0 target met, 1 missed, 2 setup error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for tool in git python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "devinfo.sh: '$tool' not found" >&2; exit 2; }
done
bin="${DEPLOYLINK:-$root/target/release/deploylink}"
if [[ ! -x "$bin" ]]; then
  (cd "$root" && cargo build --release --locked) || exit 2
fi
exec python3 "$root/bench/devinfo.py" "$bin" "${BENCH_RUNS:-5}" "${BENCH_LATENCY:-50}" "${BENCH_COMMITS:-1000}"
