#!/usr/bin/env bash
# Benchmark delivery against a fake Jira with injected latency (the `deploylink sandbox`
# command, --latency 50ms). See bench/README.md.  Usage: bash bench/deliver.sh
#
# Environment:
#   DEPLOYLINK      binary to test (default target/release/deploylink, built if missing)
#   BENCH_RUNS      runs per case (default 5; the median is reported)
#   BENCH_LATENCY   the fake Jira's latency in ms (default 50)
#
# Exit status: 0 all targets met, 1 a target missed, 2 setup error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for tool in git python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "deliver.sh: '$tool' not found" >&2; exit 2; }
done
bin="${DEPLOYLINK:-$root/target/release/deploylink}"
if [[ ! -x "$bin" ]]; then
  (cd "$root" && cargo build --release --locked) || exit 2
fi
exec python3 "$root/bench/deliver.py" "$bin" "${BENCH_RUNS:-5}" "${BENCH_LATENCY:-50}"
