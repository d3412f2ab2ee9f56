#!/usr/bin/env bash
# Benchmark the deploy history: `deploylink metrics` and `history` over a chain of 10,000
# deploys, and appending one deploy (`link --record`). Each figure is printed beside a git
# baseline measured here on the same chain. See bench/README.md.  Usage: bash bench/history.sh
#
# Environment:
#   DEPLOYLINK       binary to test (default target/release/deploylink, built if missing)
#   BENCH_DEPLOYS    deploys in the generated history (default 10000)
#   BENCH_RUNS       runs of each read case (default 5; the median is reported)
#   BENCH_APPENDS    appends measured (default 20; the median is reported)
#
# Exit status: 0 all targets met, 1 a target missed, 2 setup error.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for tool in git python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "history.sh: '$tool' not found" >&2; exit 2; }
done
bin="${DEPLOYLINK:-$root/target/release/deploylink}"
if [[ ! -x "$bin" ]]; then
  (cd "$root" && cargo build --release --locked) || exit 2
fi
deploys="${BENCH_DEPLOYS:-10000}"
runs="${BENCH_RUNS:-5}"
appends="${BENCH_APPENDS:-20}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
repo="$work/shop"
git init -q -b main "$repo"
cat > "$repo/.deploylink.yml" <<'YAML'
version: 1
default_tracker: acme
projects:
  shop:
    keys: { projects: [WEB] }
    environments:
      production: { refs: [refs/heads/main], type: production }
YAML
cat > "$work/trackers.yml" <<'YAML'
version: 1
trackers:
  acme:
    kind: jira-cloud
    url: https://jira.invalid
    auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }
YAML
git -C "$repo" add .deploylink.yml
git -C "$repo" commit -q -m "Add deploylink configuration"

# The history: one commit per deploy, each tree one deploy.json, as deploylink writes it.
python3 - "$deploys" <<'PY' | git -C "$repo" fast-import --quiet
import json, sys, time
count = int(sys.argv[1])
at = 1_700_000_000
out = sys.stdout
commit = 0
def rfc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
for i in range(count):
    at += 3600 * (2 + i % 7)
    state = "failed" if i % 11 == 5 else "rolled_back" if i % 17 == 9 else "successful"
    commits = []
    for k in range(1 + i % 4):
        commit += 1
        t = at - 3600 * (1 + (i * 7 + k) % 40)
        commits.append({"id": f"{commit:040x}", "authored_at": rfc(t), "committed_at": rfc(t)})
    doc = json.dumps({"version": 1, "project": "shop", "environment": "production",
                      "ref": "refs/heads/main", "from": None, "to": f"{i:040x}", "state": state,
                      "deployed_at": rfc(at), "commits": commits, "keys": [f"WEB-{i}"],
                      "run_url": None}, indent=2).encode()
    out.write(f"commit refs/deploylink-history/shop/production\n"
              f"committer deploylink <deploylink@localhost> {at} +0000\ndata 7\ndeploy\n"
              f"deleteall\nM 100644 inline deploy.json\ndata {len(doc)}\n")
    out.flush()
    out.buffer.write(doc + b"\n")
    out.buffer.flush()
PY
ref=refs/deploylink-history/shop/production
echo "history: $(git -C "$repo" rev-list --count "$ref") deploys (packed by fast-import), $(uname -m), $(nproc) cores"
echo "binary: $bin ($("$bin" --version))"

# The median wall time of a command, in milliseconds.
median_ms() {
  local n="$1"; shift
  python3 - "$n" "$@" <<'PY'
import statistics, subprocess, sys, time
n = int(sys.argv[1]); cmd = sys.argv[2:]
times = []
for _ in range(n):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(times):.1f}")
PY
}

status=0
baseline=$(median_ms "$runs" git -C "$repo" rev-list --count "$ref")
readall=$(median_ms "$runs" git -C "$repo" log --format= -p "$ref")
metrics=$(median_ms "$runs" "$bin" --repo "$repo" metrics --format json)
history=$(median_ms "$runs" "$bin" --repo "$repo" history --format json)
printf '%-44s %9s ms\n' "git rev-list --count (baseline)" "$baseline"
printf '%-44s %9s ms\n' "git log -p, every deploy.json (baseline)" "$readall"
printf '%-44s %9s ms   target < 1000\n' "deploylink metrics --format json" "$metrics"
printf '%-44s %9s ms\n' "deploylink history --format json" "$history"
python3 -c "import sys; sys.exit(0 if float('$metrics') < 1000 else 1)" || { echo "MISSED: metrics over $deploys deploys"; status=1; }

# Appending: `link --record` of one new commit (no issue keys, so nothing is sent), its
# append timed by deploylink itself (`-v` logs "appended ... in N us"); the git baseline
# writes the same objects and moves the ref with plumbing (hash-object, mktree,
# commit-tree, update-ref).
git -C "$repo" show "$ref:deploy.json" > "$work/deploy.json"
python3 - "$bin" "$repo" "$work" "$appends" <<'PY' || status=1
import re, statistics, subprocess, sys, time
bin, repo, work, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ref = "refs/deploylink-history/shop/production"
def git(*args, input=None):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, input=input).stdout.decode().strip()
appended, whole, plumbing = [], [], []
for i in range(n):
    git("commit", "-q", "--allow-empty", "-m", f"change {i}")
    start = time.perf_counter()
    run = subprocess.run([bin, "--repo", repo, "--trackers", f"{work}/trackers.yml", "-v", "link",
                          "--environment", "production", "--record"],
                         capture_output=True, env={"PATH": "/usr/bin:/bin", "JIRA_USER": "u", "JIRA_API_TOKEN": "t"})
    whole.append((time.perf_counter() - start) * 1000)
    if run.returncode != 0:
        sys.exit(f"link --record failed: {run.stderr.decode()}")
    found = re.search(rb"appended \w+ \(\w+\) in (\d+) us", run.stderr)
    if not found:
        sys.exit(f"no append logged: {run.stderr.decode()}")
    appended.append(int(found.group(1)) / 1000)
    start = time.perf_counter()
    blob = git("hash-object", "-w", f"{work}/deploy.json")
    tree = git("mktree", input=f"100644 blob {blob}\tdeploy.json\n".encode())
    tip = git("rev-parse", ref)
    new = git("commit-tree", tree, "-p", tip, "-m", "deploy")
    git("update-ref", ref, new, tip)
    plumbing.append((time.perf_counter() - start) * 1000)
a, w, p = statistics.median(appended), statistics.median(whole), statistics.median(plumbing)
print(f"{'git plumbing append, 5 commands (baseline)':<44} {p:9.1f} ms")
print(f"{'deploylink append (logged by itself)':<44} {a:9.1f} ms   target < 20")
print(f"{'deploylink link --record, whole run':<44} {w:9.1f} ms")
if a >= 20:
    print(f"MISSED: append {a:.1f} ms")
    sys.exit(1)
PY
exit "$status"
