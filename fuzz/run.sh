#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and prints, per target, the executions and what
# was found. Usage: bash fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]  (default 60 s, all).
# Needs the nightly toolchain (cargo-fuzz's sanitizer flags) and installs cargo-fuzz if absent.
# A crash is saved under fuzz/artifacts/TARGET/; copy it to fuzz/regressions/TARGET/ once
# fixed, and `cargo test --test it fuzz_regressions` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config hook_stdin keys jira_response)

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz --version 0.13.2
fi

cargo +nightly fuzz build >fuzz/build.log 2>&1 || { cat fuzz/build.log >&2; exit 2; }
failed=0
summary=()
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  log="fuzz/artifacts/$target/last-run.log"
  dict=()
  [ -f "fuzz/dicts/$target.dict" ] && dict=(-dict="fuzz/dicts/$target.dict")
  # -rss_limit_mb and -timeout make a memory blow-up or a hang a finding, not a stuck run.
  if cargo +nightly fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
    -print_final_stats=1 "${dict[@]}" >"$log" 2>&1; then
    result="no crash"
  else
    result="FOUND: $(grep -m1 -oE '(crash|timeout|oom|leak)-[0-9a-f]+' "$log" || echo 'see log')"
    failed=1
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  summary+=("$(printf '%-14s %10s executions in %ss, corpus %5s, %s' "$target" "$runs" "$seconds" "$corpus" "$result")")
done
printf '%s\n' "${summary[@]}"
[ "$failed" = 0 ] || echo "logs and inputs: fuzz/artifacts/TARGET/" >&2
exit "$failed"
