#!/usr/bin/env python3
"""Post-receive hook latency: a 10-commit `git push` into a bare repository with the
deploylink hook, minus the same push into one without it, with the fake Jira (deploylink
sandbox) answering in LATENCY ms. Target (issue 4): <= one round trip + 20 ms.

Two cases: 10 commits about 4 issues (several commits per issue, as pushes usually are: 4
remote links, one wave of requests), and 10 commits about 10 issues (10 links; at the
default concurrency of 8 that is two waves, reported against two round trips).
Usage: hook.py BIN RUNS LATENCY_MS
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

BIN, RUNS, LATENCY_MS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ENV = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null",
           GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
           GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com",
           JIRA_USER="bench@example.com", JIRA_API_TOKEN="bench-token")
ENV.pop("RUST_LOG", None)
ENV.pop("DEPLOYLINK_TRACKERS", None)


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


def start_sandbox():
    proc = subprocess.Popen([BIN, "sandbox", "--port", "0", "--latency", f"{LATENCY_MS}ms"],
                            stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        sys.exit("hook.py: cannot read the sandbox's address")
    return proc, url


def server(tmp, name, url, hook):
    path = os.path.join(tmp, name)
    git(tmp, "init", "-q", "--bare", "-b", "main", path)
    if hook:
        os.makedirs(os.path.join(path, "deploylink"))
        with open(os.path.join(path, "deploylink", "trackers.yml"), "w") as f:
            f.write(f"version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: {url}\n"
                    "    auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }\n")
        subprocess.run([BIN, "--repo", path, "install-hook", "post-receive"], env=ENV, check=True,
                       capture_output=True)
    return path


def push(work, remote):
    started = time.perf_counter()
    out = subprocess.run(["git", "push", "-q", remote, "main"], cwd=work, env=ENV,
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"hook.py: git push failed: {out.stderr}")
    return elapsed, out.stderr


def case(tmp, url, name, issues):
    work = os.path.join(tmp, f"work-{name}")
    git(tmp, "init", "-q", "-b", "main", work)
    with open(os.path.join(work, ".deploylink.yml"), "w") as f:
        f.write("version: 1\ndefault_tracker: acme\nrepo_url: https://git.example.com/bench\n"
                "projects:\n  bench:\n    environments:\n      production: { refs: [refs/heads/main] }\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "config")
    hooked = server(tmp, f"hooked-{name}.git", url, True)
    plain = server(tmp, f"plain-{name}.git", url, False)
    push(work, hooked)
    push(work, plain)
    extra = []
    for run in range(RUNS):
        for i in range(10):
            key = f"BENCH-{run * 100 + i % issues + 1}"
            git(work, "commit", "-q", "--allow-empty", "-m", f"{key}: change {i} of run {run}")
        # Alternate the order so that caches favour neither.
        if run % 2:
            with_hook, log = push(work, hooked)
            without, _ = push(work, plain)
        else:
            without, _ = push(work, plain)
            with_hook, log = push(work, hooked)
        if "linked" not in log and "updated" not in log:
            pass  # -q hides the hook's report; the sandbox state is checked below
        extra.append(with_hook - without)
    return statistics.median(extra)


def main():
    latency = LATENCY_MS / 1000
    proc, url = start_sandbox()
    failed = False
    try:
        with tempfile.TemporaryDirectory(prefix="deploylink-hookbench-") as tmp:
            print(f"fake Jira: {url}, {LATENCY_MS} ms per response; {RUNS} pushes per case, medians")
            added = case(tmp, url, "four", 4)
            target = latency + 0.020
            ok = added <= target
            failed |= not ok
            print(f"10-commit push about 4 issues: the hook adds {added * 1000:.1f} ms "
                  f"(target <= {target * 1000:.0f} ms: one round trip + 20 ms) {'ok' if ok else 'FAIL'}")
            added10 = case(tmp, url, "ten", 10)
            print(f"10-commit push about 10 issues (two waves at concurrency 8): the hook adds "
                  f"{added10 * 1000:.1f} ms; minus two round trips {(added10 - 2 * latency) * 1000:.1f} ms "
                  f"(reported)")
            state = subprocess.run(["curl", "-s", f"{url}/_sandbox/state"], capture_output=True, text=True)
            if state.returncode == 0 and '"remote_links"' not in state.stdout:
                print("hook.py: the sandbox received no links: the hook did not deliver")
                failed = True
    finally:
        proc.terminate()
        proc.wait()
    sys.exit(1 if failed else 0)


main()
