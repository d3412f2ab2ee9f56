#!/usr/bin/env python3
"""Timing harness for bench/keys.sh (run it through keys.sh, not directly).

Usage: measure.py [--any] DEPLOYLINK REPO.git [RESULTS.json]
  --any: REPO is any repository (a clone of apache/kafka is the reference), measured
  along the branch HEAD points to; without it, REPO is the one make-repo.py generated.
Environment: BENCH_RUNS (default 7), BENCH_QUICK_RUNS (default 5 * BENCH_RUNS,
used for the two millisecond-scale cases), BENCH_VERSION_RUNS (default 50).

Exit status: 0 all targets met, 1 a target missed or deploylink misbehaved,
2 setup error (the baseline itself failed, the repository is not as expected,
/usr/bin/time missing).
"""
import ctypes
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

KEY_RE = r"\b[A-Z][A-Z0-9_]+-[0-9]+\b"
PIPELINE = ("set -o pipefail; git --git-dir=\"$1\" log --format=%B \"$2\" "
            "| grep -oE '" + KEY_RE + "' | sort -u")
RSS_LIMIT_BYTES = 50_000_000  # "< 50 MB"; GNU time reports KiB
ANON_LIMIT_BYTES = 20_000_000  # anonymous (private) memory, "<= 20 MB"
VERSION_LIMIT_S = 0.005


class SetupError(Exception):
    pass


def env_int(name, default):
    v = os.environ.get(name, "")
    try:
        n = int(v) if v else default
    except ValueError:
        raise SetupError("%s must be an integer, got %r" % (name, v))
    if n < 1:
        raise SetupError("%s must be >= 1" % name)
    return n


def run(argv):
    """Run argv once; return (seconds, returncode, stdout bytes, stderr bytes)."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    return dt, p.returncode, p.stdout, p.stderr


def git(repo, *args):
    p = subprocess.run(["git", "--git-dir", repo, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise SetupError("git %s failed: %s" % (" ".join(args), p.stderr.decode(errors="replace").strip()))
    return p.stdout.decode()


_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_libc.ptrace.restype = ctypes.c_long
PTRACE_TRACEME, PTRACE_CONT, PTRACE_SETOPTIONS = 0, 7, 0x4200
PTRACE_O_TRACEEXIT, PTRACE_EVENT_EXIT = 0x40, 6


def memory_at_exit(argv):
    """Run argv (stdio on /dev/null) and read its memory figures as it exits: ptrace stops it
    at exit, before the kernel frees anything, and /proc/PID/status and smaps_rollup are read.
    Linux keeps no peak of anonymous memory, and what a process frees near its end it rarely
    returns to the kernel, so the value at exit is close to the peak. Returns ({field: KiB},
    exit code); the dict is empty if tracing is not allowed."""
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(os.devnull, os.O_RDWR)
            for i in (0, 1, 2):
                os.dup2(fd, i)
            _libc.ptrace(PTRACE_TRACEME, 0, None, None)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    figures = {}
    _, status = os.waitpid(pid, 0)  # stopped at exec
    if os.WIFSTOPPED(status):
        _libc.ptrace(PTRACE_SETOPTIONS, pid, None, ctypes.c_void_p(PTRACE_O_TRACEEXIT))
        _libc.ptrace(PTRACE_CONT, pid, None, None)
        while True:
            _, status = os.waitpid(pid, 0)
            if not os.WIFSTOPPED(status):
                break
            sig = os.WSTOPSIG(status)
            if sig == signal.SIGTRAP:
                if (status >> 16) == PTRACE_EVENT_EXIT:
                    for name in ("status", "smaps_rollup"):
                        try:
                            with open("/proc/%d/%s" % (pid, name)) as fh:
                                for line in fh:
                                    parts = line.split()
                                    if len(parts) >= 3 and parts[-1] == "kB":
                                        figures[parts[0].rstrip(":")] = int(parts[-2])
                        except OSError:
                            pass
                sig = 0
            _libc.ptrace(PTRACE_CONT, pid, None, ctypes.c_void_p(sig))
    return figures, os.waitstatus_to_exitcode(status)


def mib(kib):
    return "%.1f MiB" % (kib / 1024)


def ms(s):
    return "%.2f ms" % (s * 1e3) if s < 0.1 else "%.1f ms" % (s * 1e3)


def lines(b):
    return [x for x in b.decode("utf-8", errors="replace").splitlines() if x.strip()]


def describe_failure(rc, err):
    msg = err.decode("utf-8", errors="replace").strip().splitlines()
    return "exit %d%s" % (rc, (": " + msg[0][:160]) if msg else "")


def compare(pairs_dl, pairs_base):
    ratios = [d / b for d, b in zip(pairs_dl, pairs_base)]
    return statistics.median(pairs_dl), statistics.median(pairs_base), statistics.median(ratios)


def timed_pairs(dl_argv, base_argv, runs):
    """Interleave the two commands (alternating which goes first) runs times.
    Returns (dl times, base times, first deploylink failure or None)."""
    dl, base = [], []
    for i in range(runs):
        order = [(dl_argv, dl), (base_argv, base)]
        if i % 2:
            order.reverse()
        for argv, acc in order:
            dt, rc, _, err = run(argv)
            if rc != 0:
                if argv is dl_argv:
                    return dl, base, describe_failure(rc, err)
                raise SetupError("baseline %r failed: %s" % (argv[:3], describe_failure(rc, err)))
            acc.append(dt)
    return dl, base, None


def main():
    args = sys.argv[1:]
    any_repo = bool(args) and args[0] == "--any"
    if any_repo:
        args = args[1:]
    if len(args) not in (2, 3):
        raise SetupError(__doc__)
    dl_bin, repo = args[0], args[1]
    results_path = args[2] if len(args) == 3 else None
    runs = env_int("BENCH_RUNS", 7)
    quick_runs = env_int("BENCH_QUICK_RUNS", 5 * runs)
    version_runs = env_int("BENCH_VERSION_RUNS", 50)
    if not os.access("/usr/bin/time", os.X_OK):
        raise SetupError("/usr/bin/time (GNU time) is required for the RSS measurement")

    if any_repo:
        # the branch HEAD names (a bare clone's default branch), else HEAD itself
        p = subprocess.run(["git", "--git-dir", repo, "symbolic-ref", "-q", "HEAD"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        tip = p.stdout.decode().strip() or "HEAD"
        git(repo, "rev-parse", "--verify", "--quiet", tip + "^{commit}")
    else:
        tip = "refs/heads/main"
        git(repo, "rev-parse", "--verify", "--quiet", "refs/heads/feature^{commit}")
    # `git rev-list` lists roots newest first; the last one is where history starts
    roots = git(repo, "rev-list", "--max-parents=0", tip).split()
    if not roots or (not any_repo and len(roots) != 1):
        raise SetupError("expected one root commit on %s, got %d" % (tip, len(roots)))
    root = roots[-1]
    short = tip[len("refs/heads/"):] if tip.startswith("refs/heads/") else tip
    last_from = short + "~100"
    new_tip = tip if any_repo else "refs/heads/feature"
    n_whole = int(git(repo, "rev-list", "--count", root + ".." + tip))
    n_last = int(git(repo, "rev-list", "--count", last_from + ".." + tip))
    other_refs = ["--not", "--exclude=HEAD", "--exclude=" + new_tip, "--all"]
    n_new = int(git(repo, "rev-list", "--count", new_tip, *other_refs))
    n_refs = len(git(repo, "for-each-ref", "--format=%(refname)").split())
    has_graph = any(os.path.exists(os.path.join(repo, "objects/info", f))
                    for f in ("commit-graph", "commit-graphs"))
    print("repository: %s (%s; %s commits on %s; %d refs; %s)"
          % (repo, "given" if any_repo else "generated", n_whole + 1, short, n_refs,
             "commit-graph" if has_graph else "no commit-graph"))

    pipeline = lambda rng: ["bash", "-c", PIPELINE, "bash", repo, rng]
    cases = [
        dict(id="whole", name="whole range (%d commits)" % n_whole, runs=runs,
             limit=0.45 if has_graph else 0.6,
             dl=[dl_bin, "keys", "--repo", repo, "--from", root, "--to", tip],
             base=pipeline(root + ".." + tip),
             base_text="git log --format=%%B %s..%s | grep -oE '%s' | sort -u" % (root[:10], tip, KEY_RE)),
        dict(id="last100", name="last 100 (%d commits)" % n_last, runs=quick_runs, limit=0.9,
             dl=[dl_bin, "keys", "--repo", repo, "--from", last_from, "--to", tip],
             base=pipeline(last_from + ".." + tip),
             base_text="same pipeline over %s..%s" % (last_from, tip)),
        # on a given repository the branch is an old one, not a new one: reported, no target
        dict(id="newbranch", name="%s (%d commits, %d refs)"
             % ("other-refs" if any_repo else "new branch", n_new, n_refs),
             runs=runs if any_repo else quick_runs, limit=None if any_repo else 1.5,
             dl=[dl_bin, "keys", "--repo", repo, "--to", new_tip, "--from", "other-refs"],
             base=["git", "--git-dir", repo, "rev-list", new_tip, *other_refs],
             base_text="git rev-list %s --not --exclude=HEAD --exclude=%s --all" % (new_tip, new_tip)),
    ]
    if any_repo:
        cases = cases[:2]  # a given repository has no new branch to measure
    # keys the naive regex finds in the commits of the new-branch case (for information)
    newbranch_keys_cmd = ["bash", "-c",
                          "set -o pipefail; git --git-dir=\"$1\" log --format=%B \"$2\" "
                          "--not --exclude=HEAD --exclude=\"$2\" --all "
                          "| grep -oE '" + KEY_RE + "' | sort -u", "bash", repo, new_tip]

    failures = []
    report = {"repo": repo, "deploylink": dl_bin, "root": root, "runs": runs,
              "quick_runs": quick_runs, "version_runs": version_runs, "cases": {}}

    # ---- correctness (these runs also warm the page cache) ----
    print("== correctness (informational unless deploylink fails or prints nothing)")
    for c in cases:
        _, rc, out, err = run(c["dl"])
        c["ok"] = rc == 0
        got = lines(out)
        if rc != 0:
            c["error"] = describe_failure(rc, err)
            failures.append("%s: deploylink %s" % (c["id"], c["error"]))
            print("  %-10s deploylink FAILED: %s" % (c["id"], c["error"]))
            continue
        ref_cmd = c["base"] if c["id"] != "newbranch" else newbranch_keys_cmd
        _, brc, bout, berr = run(ref_cmd)
        if brc != 0:
            raise SetupError("baseline for %s failed: %s" % (c["id"], describe_failure(brc, berr)))
        ref = set(lines(bout))
        mine = set(got)
        dups = len(got) - len(mine)
        odd = [k for k in got if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+", k)]
        print("  %-10s deploylink: %d keys (%d lines, %d duplicate, %d not key-shaped); naive regex: %d keys;"
              " common %d" % (c["id"], len(mine), len(got), dups, len(odd), len(ref), len(mine & ref)))
        only_dl = sorted(mine - ref)
        only_ref = sorted(ref - mine)
        if only_dl or only_ref:
            print("             only deploylink (%d): %s" % (len(only_dl), " ".join(only_dl[:10]) or "-"))
            print("             only naive regex (%d): %s" % (len(only_ref), " ".join(only_ref[:10]) or "-"))
        if odd:
            print("             not key-shaped: %s" % " | ".join(repr(x) for x in odd[:5]))
        c["keys"] = {"deploylink": len(mine), "naive": len(ref), "common": len(mine & ref),
                     "only_deploylink": only_dl[:50], "only_naive": only_ref[:50]}
        if not mine and ref:
            c["ok"] = False
            c["error"] = "deploylink printed no keys"
            failures.append("%s: deploylink printed no keys (the naive regex finds %d)" % (c["id"], len(ref)))
            print("  %-10s FAIL: deploylink printed no keys" % c["id"])

    # ---- timings ----
    print()
    print("== timings (median; ratio = median of per-run deploylink/baseline, runs interleaved)")
    header = "  %-34s %11s %11s %7s %9s  %s" % ("case", "deploylink", "baseline", "ratio", "target", "result")
    print(header)
    for c in cases:
        entry = {"name": c["name"], "baseline": c["base_text"], "runs": c["runs"], "limit_ratio": c["limit"]}
        target = "<= %.2f" % c["limit"] if c["limit"] is not None else "reported"
        report["cases"][c["id"]] = entry
        if not c["ok"]:
            entry.update(result="FAIL", error=c["error"])
            print("  %-34s %11s %11s %7s %9s  FAIL (not timed: %s)"
                  % (c["name"], "-", "-", "-", target, c["error"]))
            continue
        dl_t, base_t, err = timed_pairs(c["dl"], c["base"], c["runs"])
        if err:
            entry.update(result="FAIL", error=err)
            failures.append("%s: deploylink %s" % (c["id"], err))
            print("  %-34s FAIL (deploylink %s)" % (c["name"], err))
            continue
        d, b, r = compare(dl_t, base_t)
        ok = c["limit"] is None or r <= c["limit"]
        if not ok:
            failures.append("%s: ratio %.2f > %.2f" % (c["id"], r, c["limit"]))
        entry.update(deploylink_s=d, baseline_s=b, ratio=r, ratio_of_medians=d / b,
                     deploylink_all_s=dl_t, baseline_all_s=base_t, result="PASS" if ok else "FAIL")
        print("  %-34s %11s %11s %7.2f %9s  %s   (x%d; ratio of medians %.2f)"
              % (c["name"], ms(d), ms(b), r, target, "PASS" if ok else "FAIL",
                 c["runs"], d / b))

    # ---- --version ----
    ver = []
    ver_err = None
    for _ in range(version_runs):
        dt, rc, out, err = run([dl_bin, "--version"])
        if rc != 0:
            ver_err = describe_failure(rc, err)
            break
        if not out.strip():
            ver_err = "printed nothing"
            break
        ver.append(dt)
    floor = statistics.median(run(["true"])[0] for _ in range(version_runs))
    gitver = statistics.median(run(["git", "--version"])[0] for _ in range(version_runs))
    if ver_err:
        failures.append("version: deploylink --version %s" % ver_err)
        report["cases"]["version"] = {"result": "FAIL", "error": ver_err}
        print("  %-34s FAIL (%s)" % ("deploylink --version", ver_err))
    else:
        v = statistics.median(ver)
        ok = v < VERSION_LIMIT_S
        if not ok:
            failures.append("version: %.2f ms >= 5 ms" % (v * 1e3))
        report["cases"]["version"] = {"deploylink_s": v, "true_s": floor, "git_version_s": gitver,
                                      "runs": version_runs, "limit_s": VERSION_LIMIT_S,
                                      "result": "PASS" if ok else "FAIL"}
        print("  %-34s %11s %11s %7s %9s  %s   (x%d; `true` %s, `git --version` %s)"
              % ("deploylink --version", ms(v), "-", "-", "< 5 ms", "PASS" if ok else "FAIL",
                 version_runs, ms(floor), ms(gitver)))

    # ---- memory, whole range: peak RSS (GNU time), anonymous memory at exit (ptrace) ----
    whole = cases[0]
    rss_limit = None if any_repo else RSS_LIMIT_BYTES
    rss_target = "< 50 MB" if rss_limit else "reported"
    if whole["ok"]:
        p = subprocess.run(["/usr/bin/time", "-v", *whole["dl"]], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        if p.returncode != 0 or not m:
            failures.append("rss: deploylink under /usr/bin/time -v exited %d" % p.returncode)
            report["cases"]["rss"] = {"result": "FAIL"}
            print("  %-34s FAIL (exit %d)" % ("peak RSS, whole range", p.returncode))
        else:
            kib = int(m.group(1))
            ok = rss_limit is None or kib * 1024 < rss_limit
            if not ok:
                failures.append("rss: %.1f MB >= 50 MB" % (kib * 1024 / 1e6))
            report["cases"]["rss"] = {"max_rss_kib": kib, "limit_bytes": rss_limit,
                                      "result": "PASS" if ok else "FAIL"}
            print("  %-34s %11s %11s %7s %9s  %s   (%d KiB)"
                  % ("peak RSS, whole range", "%.1f MB" % (kib * 1024 / 1e6), "-", "-", rss_target,
                     "PASS" if ok else "FAIL", kib))
        dl_mem, dl_rc = memory_at_exit(whole["dl"])
        git_mem, _ = memory_at_exit(["git", "--git-dir", repo, "log", "--format=%B", root + ".." + tip])
        if dl_rc != 0 or "RssAnon" not in dl_mem:
            failures.append("anon: could not measure (exit %d; is ptrace allowed?)" % dl_rc)
            report["cases"]["anon"] = {"result": "FAIL"}
            print("  %-34s FAIL (exit %d, or ptrace not allowed)" % ("anonymous memory at exit", dl_rc))
        else:
            anon = dl_mem["RssAnon"]
            ok = anon * 1024 <= ANON_LIMIT_BYTES
            if not ok:
                failures.append("anon: %.1f MB > 20 MB" % (anon * 1024 / 1e6))
            report["cases"]["anon"] = {"deploylink_kib": dl_mem, "git_log_kib": git_mem,
                                       "limit_bytes": ANON_LIMIT_BYTES, "result": "PASS" if ok else "FAIL"}
            print("  %-34s %11s %11s %7s %9s  %s   (deploylink: peak RSS %s, at exit anon %s, file %s;"
                  " git log alone: peak RSS %s, at exit anon %s, file %s)"
                  % ("anonymous memory at exit, whole", "%.1f MB" % (anon * 1024 / 1e6),
                     "%.1f MB" % (git_mem.get("RssAnon", 0) * 1024 / 1e6), "-", "<= 20 MB",
                     "PASS" if ok else "FAIL", mib(dl_mem.get("VmHWM", 0)), mib(anon),
                     mib(dl_mem.get("RssFile", 0)), mib(git_mem.get("VmHWM", 0)),
                     mib(git_mem.get("RssAnon", 0)), mib(git_mem.get("RssFile", 0))))
    else:
        report["cases"]["rss"] = {"result": "FAIL", "error": "deploylink failed on the whole range"}
        print("  %-34s %11s %11s %7s %9s  FAIL (not measured)" % ("peak RSS, whole range", "-", "-", "-", rss_target))

    report["failures"] = failures
    if results_path:
        with open(results_path, "w") as fh:
            json.dump(report, fh, indent=1)
    print()
    if failures:
        print("RESULT: FAIL (%d): %s" % (len(failures), "; ".join(failures)))
        return 1
    print("RESULT: PASS (all targets met)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SetupError as e:
        print("measure.py: setup error: %s" % e, file=sys.stderr)
        sys.exit(2)
