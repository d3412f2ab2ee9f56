#!/usr/bin/env bash
# A push whose one commit names KEYS issue keys (default 20,000), into a bare repository with
# the post-receive hook, against the sandbox Jira: how long the push takes and the hook's
# peak RSS. The hook must end within its budget (20 s) + 1 s under 150 MB.
# Usage: bash bench/flood.sh [KEYS [PROJECTS]]
# With PROJECTS (default 1) the project file defines that many projects, each deploying every
# key to production: 100 projects x 40 keys is 4,000 writes, past `--max-deliveries` (2,000).
# Environment: DEPLOYLINK (binary, default target/release/deploylink), BENCH_LATENCY (the
# sandbox's delay per answer, default 0ms).
# Exit status: 0 target met, 1 missed, 2 setup error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
keys="${1:-20000}"
projects="${2:-1}"
bin="${DEPLOYLINK:-$root/target/release/deploylink}"
for tool in git python3 /usr/bin/time; do
  command -v "$tool" >/dev/null 2>&1 || { echo "flood.sh: '$tool' not found" >&2; exit 2; }
done
[[ -x "$bin" ]] || { echo "flood.sh: no binary at $bin (cargo build --release)" >&2; exit 2; }
dir="$(mktemp -d)"
trap 'kill "$sandbox" 2>/dev/null || true; rm -rf "$dir"' EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$bin" sandbox --port "$port" --latency "${BENCH_LATENCY:-0ms}" >/dev/null 2>&1 &
sandbox=$!
git init -q --bare "$dir/server.git"
mkdir -p "$dir/server.git/deploylink"
cat >"$dir/server.git/deploylink/trackers.yml" <<YAML
version: 1
trackers:
  acme:
    kind: jira-cloud
    url: http://127.0.0.1:$port
    auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }
YAML
cat >"$dir/server.git/hooks/post-receive" <<HOOK
#!/bin/sh
exec /usr/bin/time -f '%M %e' -o '$dir/rss' '$bin' hook post-receive
HOOK
chmod +x "$dir/server.git/hooks/post-receive"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export JIRA_USER=bench@example.com JIRA_API_TOKEN=token
git init -q -b main "$dir/work"
cd "$dir/work"
python3 - "$projects" >.deploylink.yml <<'PY'
import sys
n = int(sys.argv[1])
print("version: 1\ndefault_tracker: acme\nrepo_url: https://git.example.com/acme/shop\nprojects:")
for i in range(n):
    name = "shop" if n == 1 else f"p{i}"
    print(f"  {name}:\n    keys: {{ projects: [WEB] }}\n    environments:\n      production: {{ refs: [refs/heads/main], type: production }}")
PY
git add .deploylink.yml
git commit -q -m "WEB-1: first"
git remote add origin "$dir/server.git"
git push -q origin main 2>/dev/null
python3 -c "import sys; print('Flood\n\n' + ' '.join(f'WEB-{i}' for i in range(2, $keys + 2)))" >"$dir/msg"
git commit -q --allow-empty -F "$dir/msg"
start="$(date +%s.%N)"
git push origin main >"$dir/push.log" 2>&1 || true
end="$(date +%s.%N)"
read -r rss hook_secs <"$dir/rss"
push_secs="$(python3 -c "print(f'{$end - $start:.2f}')")"
echo "keys=$keys projects=$projects push=${push_secs}s hook=${hook_secs}s peak_rss=$((rss / 1024))MB"
grep -E "max_issues|max-deliveries|spooled|summary|linked" "$dir/push.log" | cut -c1-200 | tail -4 || true
python3 -c "import sys; sys.exit(0 if $push_secs <= 21 and $rss <= 150 * 1024 else 1)"
