#!/usr/bin/env python3
"""Build the bare benchmark repository for bench/keys.sh with `git fast-import`.

Usage: make-repo.py CORPUS_DIR DEST.git [MAINLINE_COMMITS]

History shape (everything deterministic: fixed identities, fixed dates):
  * refs/heads/main: MAINLINE_COMMITS (default 20,000) ordinary commits on the
    first-parent line.  Every 50 of them a pull request is simulated: a
    2-commit side branch forks from main (ref refs/pull/<N>/head, as in a
    GitHub mirror), main moves on, and 24 commits later the side branch is
    merged back with a --no-ff style merge commit whose subject is
    "Merge pull request #<N> from <user>/<KEY>-branch".
    => 20,000 + 400 * 3 = 21,200 commits on main, 400 of them merges.
  * tags: an annotated tag v0.<K> every 100 main-line commits (200) and a
    lightweight tag v0.<K>-rc1 every 200 (100): 300 tags.
  * branches: main, develop (main~3), release/0.<K> every 5,000 commits (4),
    gh-pages (an unrelated 5-commit history with its own root), and
    feature: 10 commits on top of main (the "new branch" case).
  * HEAD -> refs/heads/main.

Commit messages are the `message` fields of the corpus JSONL files, written
byte-exact (UTF-8, CRLFs and missing final newlines kept), cycled in corpus
order from oldest to newest.  After the import the script reads every commit
back with `git cat-file --batch` and checks that each message is byte-exact.

Prints a short summary (JSON) on stdout.
"""
import hashlib
import json
import os
import re
import subprocess
import sys

CORPUS_FILES = ["avro-messages.jsonl", "zookeeper-messages.jsonl", "kafka-tricky-messages.jsonl"]
KEY_RE = re.compile(rb"\b[A-Z][A-Z0-9_]+-[0-9]+\b")
PR_EVERY = 50          # one pull request merged every 50 main-line commits
PR_FORK_OFFSET = 25    # the side branch forks at i % 50 == 25, merged at i % 50 == 49
PR_COMMITS = 2
TAG_EVERY = 100
RC_EVERY = 200
RELEASE_EVERY = 5000
FEATURE_COMMITS = 10
GH_PAGES_COMMITS = 5
T0 = 1600000000        # 2020-09-13, first commit date; +300 s per commit
AUTHORS = [
    (b"Ada Lovelace", b"ada@example.com", b"+0000"),
    (b"Grace Hopper", b"grace@example.com", b"-0500"),
    (b"Linus Ahlberg", b"linus@example.org", b"+0100"),
    (b"Mei Chen", b"mei.chen@example.net", b"+0800"),
    (b"Ravi Kumar", b"ravi@example.in", b"+0530"),
    (b"Sofia Rossi", b"sofia@example.it", b"+0200"),
    (b"dependabot[bot]", b"49699333+dependabot[bot]@users.noreply.github.com", b"+0000"),
]
USERS = ["ada", "ghopper", "lahlberg", "meichen", "rkumar", "srossi"]
GITHUB = (b"GitHub", b"noreply@github.com", b"+0000")
RELEASER = (b"Release Bot", b"release@example.com", b"+0000")


def load_messages(corpus):
    msgs = []
    for name in CORPUS_FILES:
        path = os.path.join(corpus, name)
        with open(path, encoding="utf-8") as fh:
            part = [json.loads(line)["message"].encode("utf-8") for line in fh if line.strip()]
        part.reverse()  # the files are newest first; replay oldest first
        msgs.extend(part)
    if not msgs:
        raise SystemExit("make-repo.py: no messages in %s" % corpus)
    return msgs


class Stream:
    def __init__(self, out):
        self.out = out
        self.mark = 0
        self.clock = 0
        self.expected = {}  # mark -> message bytes
        self.ncommits = 0
        self.nmerges = 0

    def ident(self, who):
        self.clock += 1
        name, email, tz = who
        return b"%s <%s> %d %s" % (name, email, T0 + 300 * self.clock, tz)

    def commit(self, ref, msg, parents, files, author, committer=None):
        self.mark += 1
        w = self.out.write
        w(b"commit %s\nmark :%d\n" % (ref, self.mark))
        a = self.ident(author)
        c = a if committer is None else self.ident(committer)
        w(b"author %s\ncommitter %s\n" % (a, c))
        w(b"data %d\n%s\n" % (len(msg), msg))
        if parents:
            w(b"from :%d\n" % parents[0])
            for p in parents[1:]:
                w(b"merge :%d\n" % p)
        else:
            w(b"deleteall\n")
        for path, content in files:
            w(b"M 100644 inline %s\ndata %d\n%s\n" % (path, len(content), content))
        w(b"\n")
        self.expected[self.mark] = msg
        self.ncommits += 1
        if len(parents) > 1:
            self.nmerges += 1
        return self.mark

    def reset(self, ref, mark):
        self.out.write(b"reset %s\nfrom :%d\n\n" % (ref, mark))

    def tag(self, name, mark, msg):
        self.out.write(b"tag %s\nfrom :%d\ntagger %s\ndata %d\n%s\n"
                       % (name, mark, self.ident(RELEASER), len(msg), msg))


def generate(out, msgs, n):
    s = Stream(out)
    nmsg = len(msgs)
    mi = 0  # next corpus message

    def next_msg():
        nonlocal mi
        m = msgs[mi % nmsg]
        mi += 1
        return m

    tip = None
    pr = 0
    pending = None  # (pr number, side tip mark, side files, first side message)
    ntags = 0
    nbranches = 0
    history = []  # main first-parent marks
    for i in range(n):
        m = next_msg()
        files = [(b"src/mod%d/file%d.txt" % (i % 7, i % 50), b"line %d\n" % i)]
        tip = s.commit(b"refs/heads/main", m, [tip] if tip else [], files, AUTHORS[i % len(AUTHORS)])
        history.append(tip)
        if i % PR_EVERY == PR_FORK_OFFSET:
            pr += 1
            side = tip
            side_files = []
            first = None
            for j in range(PR_COMMITS):
                sm = next_msg()
                first = first or sm
                f = (b"docs/pr%d-%d.md" % (pr, j), b"pull request %d, commit %d\n" % (pr, j))
                side_files.append(f)
                side = s.commit(b"refs/pull/%d/head" % pr, sm, [side], [f], AUTHORS[(i + j + 3) % len(AUTHORS)])
            pending = (pr, side, side_files, first)
        if i % PR_EVERY == PR_EVERY - 1 and pending:
            num, side, side_files, first = pending
            keys = KEY_RE.findall(first)
            key = keys[0] if keys else b"DEPLOY-%d" % num
            subject = first.split(b"\n", 1)[0].rstrip(b"\r")
            user = USERS[num % len(USERS)].encode()
            msg = b"Merge pull request #%d from %s/%s-branch\n\n%s\n" % (num, user, key, subject)
            tip = s.commit(b"refs/heads/main", msg, [tip, side], side_files,
                           AUTHORS[num % len(AUTHORS)], GITHUB)
            history.append(tip)
            pending = None
        if (i + 1) % TAG_EVERY == 0:
            k = (i + 1) // TAG_EVERY
            s.tag(b"v0.%d" % k, tip, b"Release 0.%d\n" % k)
            ntags += 1
            if (i + 1) % RC_EVERY == 0:
                s.reset(b"refs/tags/v0.%d-rc1" % k, history[-2])
                ntags += 1
        if (i + 1) % RELEASE_EVERY == 0:
            s.reset(b"refs/heads/release/0.%d" % ((i + 1) // TAG_EVERY), tip)
            nbranches += 1
    main_tip = tip
    # develop lags main by 3 first-parent commits
    s.reset(b"refs/heads/develop", history[-4])
    # an unrelated history, like gh-pages
    gp = None
    for j in range(GH_PAGES_COMMITS):
        gp = s.commit(b"refs/heads/gh-pages", b"Publish site %d\n" % j, [gp] if gp else [],
                      [(b"index.html", b"<p>site %d</p>\n" % j)], RELEASER)
    # the new branch: 10 commits on top of main
    ft = main_tip
    for j in range(FEATURE_COMMITS):
        ft = s.commit(b"refs/heads/feature", next_msg(), [ft],
                      [(b"src/feature/f%d.txt" % j, b"feature %d\n" % j)], AUTHORS[j % len(AUTHORS)])
    nbranches += 4  # main, develop, gh-pages, feature
    s.out.write(b"done\n")
    return s, {"mainline": n, "pull_requests": pr, "tags": ntags, "branches": nbranches}


def verify(dest, marks_file, expected):
    marks = {}
    with open(marks_file, "rb") as fh:
        for line in fh:
            mk, sha = line.split()
            marks[int(mk[1:])] = sha
    shas = [marks[m] for m in sorted(expected)]
    p = subprocess.run(["git", "--git-dir", dest, "cat-file", "--batch"],
                       input=b"".join(x + b"\n" for x in shas), stdout=subprocess.PIPE, check=True)
    buf = p.stdout
    pos = 0
    for m in sorted(expected):
        nl = buf.index(b"\n", pos)
        sha, typ, size = buf[pos:nl].split()
        size = int(size)
        body = buf[nl + 1:nl + 1 + size]
        pos = nl + 1 + size + 1
        if typ != b"commit" or sha != marks[m]:
            raise SystemExit("make-repo.py: unexpected object %r for mark %d" % (buf[pos:nl], m))
        msg = body.split(b"\n\n", 1)[1]
        if msg != expected[m]:
            raise SystemExit("make-repo.py: message of %s is not byte-exact" % sha.decode())
    return len(shas)


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    corpus, dest = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) == 4 else 20000
    msgs = load_messages(corpus)
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", "init", "--quiet", "--bare", dest], check=True, env=env)
    subprocess.run(["git", "--git-dir", dest, "symbolic-ref", "HEAD", "refs/heads/main"], check=True)
    marks_file = os.path.join(dest, "bench-marks")
    fi = subprocess.Popen(["git", "--git-dir", dest, "fast-import", "--quiet", "--done",
                           "--export-marks=" + marks_file], stdin=subprocess.PIPE)
    try:
        s, info = generate(fi.stdin, msgs, n)
        fi.stdin.close()
    except BrokenPipeError:
        pass
    if fi.wait() != 0:
        raise SystemExit("make-repo.py: git fast-import failed")
    checked = verify(dest, marks_file, s.expected)
    os.unlink(marks_file)
    # One well-formed pack, as after a clone: no bitmaps, no commit-graph
    # (`git clone` writes neither by default).
    subprocess.run(["git", "--git-dir", dest, "-c", "repack.writeBitmaps=false",
                    "repack", "-a", "-d", "-q"], check=True)
    subprocess.run(["git", "--git-dir", dest, "pack-refs", "--all"], check=True)
    info.update(commits=s.ncommits, merges=s.nmerges, messages_checked=checked,
                corpus_messages=len(msgs),
                corpus_sha256=hashlib.sha256(b"\0".join(msgs)).hexdigest()[:16])
    print(json.dumps(info))


if __name__ == "__main__":
    main()
