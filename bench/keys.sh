#!/usr/bin/env bash
# Benchmark `deploylink keys` against the plain git pipeline it replaces.
# See bench/README.md.  Usage: bash bench/keys.sh [REPO...]
#   With no REPO: the generated repository, in two layouts. With REPO (a bare repository,
#   a .git directory or a work tree; a clone of apache/kafka is the reference): each one as
#   it is, along the branch its HEAD names.
#
# Environment:
#   DEPLOYLINK         binary to test (default target/release/deploylink; built with
#                      `cargo build --release --locked` if that default is missing)
#   BENCH_DIR          cache for the generated repository (default target/bench)
#   BENCH_CORPUS       commit-message corpus (default ../shared/corpus)
#   BENCH_COMMITS      main-line commits to generate (default 20000; +3 per 50 for PRs)
#   BENCH_RUNS         runs per case for the whole range (default 7)
#   BENCH_QUICK_RUNS   runs per case for the millisecond cases (default 5 x BENCH_RUNS)
#   BENCH_VERSION_RUNS runs of `deploylink --version` (default 50)
# Relative paths given in these variables are taken from the current directory;
# the defaults are relative to the repository root.
#
# Exit status: 0 all targets met, 1 a target missed (or deploylink failed / printed
# no keys), 2 setup error.
set -euo pipefail
trap 'echo "keys.sh: setup error (line $LINENO, exit $?)" >&2; exit 2' ERR

setup_error() { echo "keys.sh: setup error: $*" >&2; exit 2; }
abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

bench_src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench_src")"

for tool in git python3 grep sort bash; do
  command -v "$tool" >/dev/null 2>&1 || setup_error "'$tool' not found in PATH"
done
[[ -x /usr/bin/time ]] || setup_error "/usr/bin/time (GNU time) is required for the RSS target"

if [[ -n "${BENCH_DIR:-}" ]]; then bench_dir="$(abspath "$BENCH_DIR")"; else bench_dir="$root/target/bench"; fi
if [[ -n "${BENCH_CORPUS:-}" ]]; then corpus="$(abspath "$BENCH_CORPUS")"; else corpus="$root/../shared/corpus"; fi
commits="${BENCH_COMMITS:-20000}"
[[ "$commits" =~ ^[0-9]+$ ]] && ((commits >= 20000)) || setup_error "BENCH_COMMITS must be an integer >= 20000"
corpus_files=(avro-messages.jsonl zookeeper-messages.jsonl kafka-tricky-messages.jsonl)
given=()
for r in "$@"; do
  d="$(git -C "$r" rev-parse --absolute-git-dir 2>/dev/null)" || setup_error "not a git repository: $r"
  given+=("$d")
done
if ((${#given[@]} == 0)); then
  for f in "${corpus_files[@]}"; do
    [[ -r "$corpus/$f" ]] || setup_error "corpus file not found: $corpus/$f"
  done
fi

# ---- the binary ----
if [[ -n "${DEPLOYLINK:-}" ]]; then
  bin="$(abspath "$DEPLOYLINK")"
  [[ -x "$bin" ]] || setup_error "DEPLOYLINK=$DEPLOYLINK is not an executable file"
else
  bin="$root/target/release/deploylink"
  if [[ ! -x "$bin" ]]; then
    echo "keys.sh: $bin missing, running cargo build --release --locked" >&2
    (cd "$root" && cargo build --release --locked) || setup_error "cargo build --release --locked failed"
    [[ -x "$bin" ]] || setup_error "cargo build did not produce $bin"
  fi
fi

mkdir -p "$bench_dir"

# ---- environment ----
echo "date:       $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:    $(uname -sm), nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || echo 'cpu unknown')"
echo "git:        $(git --version)"
echo "grep/sort:  $(grep --version | head -n1); $(sort --version | head -n1)"
echo "locale:     LC_ALL='${LC_ALL:-}' LANG='${LANG:-}' -> LC_CTYPE=$(locale 2>/dev/null | sed -n 's/^LC_CTYPE=//p' | tr -d '"') LC_COLLATE=$(locale 2>/dev/null | sed -n 's/^LC_COLLATE=//p' | tr -d '"') (used as is for the pipeline)"
version="$("$bin" --version 2>&1 | head -n1 || true)"
echo "deploylink: $bin (--version: ${version:-no output})"
echo

if ((${#given[@]} > 0)); then
  rc=0 i=0
  for r in "${given[@]}"; do
    i=$((i + 1))
    echo "######## $r"
    r_rc=0
    python3 "$bench_src/measure.py" --any "$bin" "$r" "$bench_dir/last-results-given-$i.json" || r_rc=$?
    if ((r_rc > rc)); then rc=$r_rc; fi
    echo
  done
  exit "$rc"
fi

# ---- the repository (cached; the key covers the generator, the corpus and the size) ----
key="$( { cat "$bench_src/make-repo.py"; for f in "${corpus_files[@]}"; do cat "$corpus/$f"; done; echo "$commits"; } \
        | sha256sum | cut -c1-12)"
repo="$bench_dir/keys-$key.git"
if [[ -f "$repo/bench-ok" ]]; then
  echo "repository: $repo (cached)"
else
  tmp="$bench_dir/tmp-$key-$$.git"
  rm -rf -- "$tmp"
  start=$SECONDS
  python3 "$bench_src/make-repo.py" "$corpus" "$tmp" "$commits" >"$tmp.info" \
    || { rm -rf -- "$tmp" "$tmp.info"; setup_error "make-repo.py failed"; }
  mv -- "$tmp.info" "$tmp/bench-ok"
  # drop repositories of older generator/corpus versions, then publish ours
  for old in "$bench_dir"/keys-*.git; do
    if [[ -d "$old" && "$old" != "$repo" ]]; then rm -rf -- "$old"; fi
  done
  if ! mv -T -- "$tmp" "$repo" 2>/dev/null; then rm -rf -- "$tmp"; fi  # lost a race: use the other one
  echo "repository: $repo (generated in about $((SECONDS - start)) s)"
fi
echo "  $(cat "$repo/bench-ok")"

# Two storage layouts of the same history: as git fast-import left it (one pack in import
# order, no commit-graph, like a fresh import), and after `git gc` (repacked in recency order,
# with the commit-graph that gc writes by default, as on a maintained server repository).
gc_repo="${repo%.git}-gc.git"
if [[ ! -f "$gc_repo/bench-ok" ]]; then
  rm -rf -- "$gc_repo" "$gc_repo.tmp"
  cp -r -- "$repo" "$gc_repo.tmp"
  git --git-dir="$gc_repo.tmp" -c gc.writeCommitGraph=true gc --quiet --prune=now
  [[ -f "$gc_repo.tmp/objects/info/commit-graph" || -d "$gc_repo.tmp/objects/info/commit-graphs" ]] \
    || setup_error "git gc wrote no commit-graph"
  mv -T -- "$gc_repo.tmp" "$gc_repo"
fi

rc=0
echo "######## layout 1: as imported (no commit-graph)"
python3 "$bench_src/measure.py" "$bin" "$repo" "$bench_dir/last-results.json" || rc=$?
echo
echo "######## layout 2: after git gc (repacked, commit-graph)"
rc2=0
python3 "$bench_src/measure.py" "$bin" "$gc_repo" "$bench_dir/last-results-gc.json" || rc2=$?
if ((rc2 > rc)); then rc=$rc2; fi
exit "$rc"
