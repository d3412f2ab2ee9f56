#!/usr/bin/env python3
"""Development information benchmark: a push of N new commits (default 1,000, each naming an
issue) to a feature branch of a bare repository with the post-receive hook, against
`deploylink sandbox --latency 50ms`.

Target (issue 14): the commits go in ceil(N / 400) bulk calls (the API's per-call limit), plus
the site's tenant_info and one OAuth token; all N stored. Reported: the push's wall time and
what it adds over the same push to a repository without the hook.
Each push is of a fresh branch (the same N commits under a new name would send nothing new, as
the base of a new branch is every ref before the push), so every run sends all N.
Usage: devinfo.py BIN RUNS LATENCY_MS COMMITS
"""
import json
import math
import re
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN, RUNS, LATENCY_MS, COMMITS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
GIT_ENV = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null",
               GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.com")
PROJECT = ("version: 1\ndefault_tracker: acme\nrepo_url: https://git.example.com/acme/bench\n"
           "projects:\n  bench:\n    environments:\n"
           "      production: { refs: [refs/heads/main] }\n"
           "    actions: [remote-link, development-info]\n")


def git(repo, *args, stdin=None):
    return subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, input=stdin,
                          capture_output=True, text=True).stdout.strip()


def start_sandbox():
    proc = subprocess.Popen([BIN, "sandbox", "--port", "0", "--latency", f"{LATENCY_MS}ms"],
                            stdout=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    url = first.strip().rsplit(" ", 1)[-1]
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        sys.exit(f"devinfo.py: cannot read the sandbox's address from {first!r}")
    return proc, url


def state(url):
    with urllib.request.urlopen(f"{url}/_sandbox/state") as reply:
        return json.load(reply)


def reset(url):
    urllib.request.urlopen(urllib.request.Request(f"{url}/_sandbox/state", method="DELETE"))


def commits_stream(branch, parent, run):
    """N commits on `branch` from `parent`, each changing one file and naming BENCH-n."""
    out = []
    for n in range(1, COMMITS + 1):
        message = f"BENCH-{n}: change {n} of run {run}\n"
        content = f"{run} {n}\n"
        start = f"from {parent}\n" if n == 1 else ""
        out.append(f"commit refs/heads/{branch}\ncommitter Bench <bench@example.com> "
                   f"{1_700_000_000 + run * 10_000 + n} +0000\ndata {len(message.encode())}\n"
                   f"{message}{start}M 644 inline f{n % 50}.txt\ndata {len(content)}\n{content}\n")
    return "".join(out)


def push(work, remote, branch):
    env = dict(GIT_ENV, JIRA_USER="bench@example.com", JIRA_API_TOKEN="bench-token")
    env.pop("RUST_LOG", None)
    started = time.perf_counter()
    out = subprocess.run(["git", "push", remote, branch], cwd=work, env=env,
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"devinfo.py: git push failed: {out.stderr}")
    return elapsed, out.stderr


def main():
    failed = True
    proc, url = start_sandbox()
    try:
        with tempfile.TemporaryDirectory(prefix="deploylink-bench-") as tmp:
            hooked, plain, work = (os.path.join(tmp, d) for d in ("hooked.git", "plain.git", "work"))
            for bare in (hooked, plain):
                git(tmp, "init", "-q", "--bare", bare)
            os.makedirs(os.path.join(hooked, "deploylink"))
            with open(os.path.join(hooked, "deploylink", "trackers.yml"), "w") as f:
                f.write(f"version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: {url}\n"
                        "    auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }\n"
                        "    deployments: { client_id_env: JIRA_USER, client_secret_env: JIRA_API_TOKEN,"
                        f" api_url: {url}, token_url: {url}/oauth/token }}\n")
            subprocess.run([BIN, "--repo", hooked, "install-hook", "post-receive"], check=True,
                           capture_output=True)
            git(tmp, "init", "-q", "-b", "main", work)
            with open(os.path.join(work, ".deploylink.yml"), "w") as f:
                f.write(PROJECT)
            git(work, "add", ".")
            git(work, "commit", "-q", "-m", "config")
            base = git(work, "rev-parse", "HEAD")
            for remote in (hooked, plain):
                push(work, remote, "main")
            print(f"fake Jira: {url}, {LATENCY_MS} ms per response; a push of {COMMITS} new commits "
                  f"each naming an issue, {RUNS} runs, medians")
            with_hook, without, sent = [], [], []
            for run in range(1, RUNS + 1):
                branch = f"feature/run-{run}"
                git(work, "fast-import", "--quiet", stdin=commits_stream(branch, base, run))
                reset(url)
                order = [(hooked, with_hook), (plain, without)]
                if run % 2 == 0:
                    order.reverse()
                for remote, times in order:
                    elapsed, stderr = push(work, remote, branch)
                    times.append(elapsed)
                    if remote == hooked:
                        hook_said = stderr
                        found = re.search(r"\((\d+) requests? sent\)", stderr)
                        if not found:
                            sys.exit(f"devinfo.py: run {run}: no request count in the hook's "
                                     f"report:\n{stderr[-2000:]}")
                        sent.append(int(found.group(1)))
                got = state(url)
                stored = sum(len(r["commits"]) for r in got["repositories"])
                if stored != COMMITS or got["rejected"]:
                    sys.exit(f"devinfo.py: run {run}: {stored} commits stored, "
                             f"rejected: {got['rejected'][:3]}; the hook said:\n{hook_said[-3000:]}")
            calls = math.ceil(COMMITS / 400)
            ok = all(n == calls + 2 for n in sent)
            wall = statistics.median(with_hook)
            plain_wall = statistics.median(without)
            print(f"requests per push: {sent} (target: {calls} bulk calls + tenant_info + token "
                  f"= {calls + 2}) {'ok' if ok else 'FAIL'}; {COMMITS} commits stored each run")
            print(f"push with the hook: {wall * 1000:.0f} ms; without: {plain_wall * 1000:.0f} ms; "
                  f"the hook adds {(wall - plain_wall) * 1000:.0f} ms")
            failed = not ok
    finally:
        proc.terminate()
        proc.wait()
    sys.exit(1 if failed else 0)


main()
