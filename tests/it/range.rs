//! Commit ranges (SPEC 4) on real repositories built with `git`, checked against `git rev-list`.

use crate::support;

use deploylink::git::push::ReceivedRef;
use deploylink::git::repo::Repo;
use deploylink::git::GitError;
use deploylink::range::{self, Base, BaseSource, ParentMode, Resolved, TagRule, WalkOptions};
use git2::Oid;
use support::TestRepo;

/// The digest the tests keep: the whole message.
fn message(_: Oid, message: &[u8]) -> Vec<u8> {
    message.to_vec()
}

fn oid(s: &str) -> Oid {
    Oid::from_str(s).unwrap()
}

fn walk(
    repo: &TestRepo,
    to: &str,
    exclude: &[&str],
    options: WalkOptions,
) -> Result<Resolved<Vec<u8>>, GitError> {
    let opened = Repo::open(Some(repo.path())).unwrap();
    let base = Base {
        exclude: exclude.iter().map(|s| oid(s)).collect(),
        source: BaseSource::Given("test".into()),
    };
    range::resolve(&opened, oid(to), base, options, &mut |_| {}, &message)
}

/// The ids of a range, newest first, as `git rev-list` prints them.
fn ids(resolved: Resolved<Vec<u8>>) -> Vec<String> {
    match resolved {
        Resolved::Range(range) => range
            .commits
            .iter()
            .rev()
            .map(|c| c.id.to_string())
            .collect(),
        Resolved::TooLarge { .. } => panic!("unexpected size refusal"),
    }
}

/// The base of one update of `refs/heads/main`, pushed alone.
fn push_base(repo: &Repo, old: Oid, new: Oid) -> Result<Option<Base>, GitError> {
    let update = ReceivedRef {
        old,
        new,
        refname: "refs/heads/main".into(),
    };
    range::push_base(repo, &update, std::slice::from_ref(&update))
}

#[test]
fn from_to_is_exactly_git_rev_list() {
    let repo = TestRepo::new();
    let a = repo.commit("WEB-1 first");
    let _b = repo.commit("WEB-2 second");
    let c = repo.commit("WEB-3 third");
    let got = ids(walk(&repo, &c, &[&a], WalkOptions::default()).unwrap());
    assert_eq!(got, repo.rev_list(&[&format!("{a}..{c}")]));
    assert_eq!(got.len(), 2);
}

#[test]
fn range_is_oldest_first() {
    let repo = TestRepo::new();
    let a = repo.commit("base");
    let b = repo.commit("one");
    let c = repo.commit("two");
    let Resolved::Range(range) = walk(&repo, &c, &[&a], WalkOptions::default()).unwrap() else {
        panic!()
    };
    let order: Vec<String> = range.commits.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(order, vec![b, c]);
}

#[test]
fn pushed_ref_updates_new_deleted_updated_and_forced() {
    let repo = TestRepo::new();
    let base = repo.commit("base");
    let old = repo.commit("WEB-1 first push");
    repo.git(&["branch", "keep"]);
    repo.git(&["reset", "-q", "--hard", &base]);
    let new = repo.commit("WEB-2 force-pushed rewrite");
    let opened = Repo::open(Some(repo.path())).unwrap();
    let zero = Oid::ZERO_SHA1;
    // Deleted: nothing to deploy.
    assert!(push_base(&opened, oid(&old), zero).unwrap().is_none());
    // New ref: every other ref is the base.
    let created = push_base(&opened, zero, oid(&new)).unwrap().unwrap();
    assert!(
        matches!(created.source, BaseSource::OtherRefs { refs: 1 }),
        "{:?}",
        created.source
    );
    // Force push: new minus old, the shared base excluded, the old-only commit never deployed.
    let forced = push_base(&opened, oid(&old), oid(&new)).unwrap().unwrap();
    assert_eq!(forced.source, BaseSource::PreviousTip(oid(&old)));
    let Resolved::Range(r) = range::resolve(
        &opened,
        oid(&new),
        forced,
        WalkOptions::default(),
        &mut |_| {},
        &message,
    )
    .unwrap() else {
        panic!()
    };
    let got: Vec<String> = r.commits.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(got, vec![new.clone()]);
    assert_eq!(got, repo.rev_list(&[&new, "--not", &old]));
}

#[test]
fn merge_commits_and_both_sides_count() {
    let repo = TestRepo::new();
    let base = repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.commit("WEB-5 on the branch");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("OPS-1 on main");
    repo.set_time(1_700_100_000);
    repo.git(&[
        "merge",
        "-q",
        "--no-ff",
        "feature",
        "-m",
        "Merge pull request #3 from acme/WEB-5-x",
    ]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let got = ids(walk(&repo, &head, &[&base], WalkOptions::default()).unwrap());
    assert_eq!(got, repo.rev_list(&[&format!("{base}..{head}")]));
    assert_eq!(got.len(), 3, "merge + one commit on each side");
    let first = ids(walk(
        &repo,
        &head,
        &[&base],
        WalkOptions {
            parents: ParentMode::First,
            max_commits: None,
        },
    )
    .unwrap());
    assert_eq!(
        first,
        repo.rev_list(&["--first-parent", &format!("{base}..{head}")])
    );
    assert_eq!(first.len(), 2, "merge + the mainline commit");
}

#[test]
fn force_push_excludes_commits_only_in_the_old_history() {
    let repo = TestRepo::new();
    let base = repo.commit("base");
    let old = repo.commit("WEB-1 pushed, then rewritten");
    repo.git(&["reset", "-q", "--hard", &base]);
    let new = repo.commit("WEB-2 the rewrite");
    // new minus old: the rewrite only, and the walk stops at the shared base.
    let got = ids(walk(&repo, &new, &[&old], WalkOptions::default()).unwrap());
    assert_eq!(got, vec![new.clone()]);
    assert_eq!(got, repo.rev_list(&[&new, "--not", &old]));
}

#[test]
fn new_ref_excludes_commits_reachable_from_other_refs() {
    let repo = TestRepo::new();
    repo.commit("base");
    let old = repo.commit("an annotated tag points here");
    repo.git(&["tag", "-a", "-m", "release", "v0", &old]);
    repo.commit("main work");
    repo.git(&["branch", "other"]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let f1 = repo.commit("WEB-7 one");
    let f2 = repo.commit("WEB-7 two");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["tag", "v1"]);
    // Loose refs first, then packed-refs (where annotated tags carry their peeled id).
    for packed in [false, true] {
        if packed {
            repo.git(&["pack-refs", "--all"]);
        }
        let opened = Repo::open(Some(repo.path())).unwrap();
        let refs = opened.refs().unwrap();
        let v0 = refs
            .iter()
            .find(|(name, _)| name == "refs/tags/v0")
            .unwrap();
        assert_eq!(
            v0.1.to_string(),
            old,
            "annotated tag peeled to its commit (packed: {packed})"
        );
        let base = range::other_refs_base(&opened, Some("refs/heads/feature")).unwrap();
        assert!(
            matches!(base.source, BaseSource::OtherRefs { refs: 4 }),
            "{:?}",
            base.source
        );
        let Resolved::Range(r) = range::resolve(
            &opened,
            oid(&f2),
            base,
            WalkOptions::default(),
            &mut |_| {},
            &message,
        )
        .unwrap() else {
            panic!()
        };
        let got: Vec<String> = r.commits.iter().map(|c| c.id.to_string()).collect();
        assert_eq!(got, vec![f1.clone(), f2.clone()]);
        let mut expected = repo.rev_list(&[
            &f2,
            "--not",
            "--exclude=HEAD",
            "--exclude=refs/heads/feature",
            "--all",
        ]);
        expected.reverse();
        assert_eq!(got, expected);
    }
}

#[test]
fn new_branch_range_does_not_walk_the_whole_history() {
    // 1,500 commits of history, then a 3-commit branch: the walk must stop near the branch
    // point. Counted in commits read (deterministic), not in seconds.
    let repo = TestRepo::bare();
    let mut tip = repo.commit_tree(&[], "root", 1_600_000_000);
    let mut input = String::new();
    for i in 1..1500 {
        input.push_str(&format!(
            "commit refs/heads/main\ncommitter C <c@x> {} +0000\ndata 6\nc {i:04}\n",
            1_600_000_000 + i * 60
        ));
        if i == 1 {
            input.push_str(&format!("from {tip}\n"));
        }
    }
    let output = repo.git_output(&["fast-import", "--quiet"], Some(input.as_bytes()));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    tip = repo.git(&["rev-parse", "refs/heads/main"]);
    let b1 = repo.commit_tree(&[&tip], "WEB-1 a", 1_700_000_000);
    let b2 = repo.commit_tree(&[&b1], "WEB-1 b", 1_700_000_060);
    let b3 = repo.commit_tree(&[&b2], "WEB-1 c", 1_700_000_120);
    repo.git(&["update-ref", "refs/heads/feature", &b3]);
    let opened = Repo::open(Some(repo.path())).unwrap();
    let base = range::other_refs_base(&opened, Some("refs/heads/feature")).unwrap();
    let mut read = 0;
    let Resolved::Range(r) = range::resolve(
        &opened,
        oid(&b3),
        base,
        WalkOptions::default(),
        &mut |n| read = n,
        &message,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(r.commits.len(), 3);
    assert!(read < 20, "read {read} commits for a 3-commit branch");
}

/// How the objects are stored: each case takes a different read path.
#[derive(Debug, Clone, Copy)]
enum Storage {
    /// Loose objects: libgit2 reads them.
    Loose,
    /// One pack, commits stored whole or as deltas: src/pack.rs, with libgit2 for deltas.
    Packed,
    /// Packed, plus git's commit-graph: the walk reads no commit, messages are read after.
    PackedWithGraph,
}

fn store(repo: &TestRepo, storage: Storage) {
    match storage {
        Storage::Loose => {}
        Storage::Packed => {
            repo.git(&["repack", "-q", "-a", "-d", "-f", "--window=50"]);
        }
        Storage::PackedWithGraph => {
            repo.git(&["repack", "-q", "-a", "-d", "-f", "--window=50"]);
            repo.git(&["commit-graph", "write", "--reachable"]);
        }
    }
}

#[test]
fn skewed_dates_and_random_histories_match_git() {
    // Random DAGs with merges and committer dates that go backwards: the walk's early stop
    // must never change the answer. git rev-list is the oracle.
    for storage in [Storage::Loose, Storage::Packed, Storage::PackedWithGraph] {
        let repo = TestRepo::bare();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut rounds = Vec::new();
        for round in 0..12 {
            let mut commits: Vec<String> = Vec::new();
            for i in 0..25 {
                let mut parents: Vec<String> = Vec::new();
                if !commits.is_empty() {
                    parents.push(commits[next(commits.len() as u64) as usize].clone());
                    if next(4) == 0 {
                        let p = commits[next(commits.len() as u64) as usize].clone();
                        if !parents.contains(&p) {
                            parents.push(p);
                        }
                    }
                }
                // Mostly increasing dates, with some going back up to two hours.
                let skew = (next(5) as i64) * 1800 * (next(3) == 0) as i64;
                let time = 1_700_000_000 + (i as i64) * 600 - skew;
                let refs: Vec<&str> = parents.iter().map(String::as_str).collect();
                commits.push(repo.commit_tree(&refs, &format!("r{round} c{i} WEB-{i}"), time));
            }
            // Keep every commit reachable, so repack and commit-graph include them all.
            repo.git(&["update-ref", &format!("refs/heads/r{round}"), &commits[24]]);
            for (i, c) in commits.iter().enumerate() {
                repo.git(&["update-ref", &format!("refs/keep/r{round}/{i}"), c]);
            }
            rounds.push(commits);
        }
        store(&repo, storage);
        for (round, commits) in rounds.iter().enumerate() {
            for _ in 0..5 {
                let to = commits[next(25) as usize].clone();
                let ex1 = commits[next(25) as usize].clone();
                let ex2 = commits[next(25) as usize].clone();
                let resolved = walk(&repo, &to, &[&ex1, &ex2], WalkOptions::default()).unwrap();
                let Resolved::Range(range) = resolved else {
                    panic!()
                };
                for c in &range.commits {
                    let expected = repo.git(&["log", "-1", "--format=%B", &c.id.to_string()]);
                    assert_eq!(
                        String::from_utf8_lossy(&c.digest).trim(),
                        expected,
                        "{storage:?}"
                    );
                }
                let mut got: Vec<String> = range.commits.iter().map(|c| c.id.to_string()).collect();
                let mut want = repo.rev_list(&[&to, "--not", &ex1, &ex2]);
                got.sort();
                want.sort();
                assert_eq!(
                    got, want,
                    "{storage:?} round {round}: {to} --not {ex1} {ex2}"
                );
            }
        }
    }
}

#[test]
fn packed_commits_read_the_same_as_git_cat_file() {
    // Similar messages, so that repack stores some commits as deltas (read through libgit2)
    // and others whole (read by src/pack.rs); many, so messages are read on several threads.
    let repo = TestRepo::bare();
    let mut tip = repo.commit_tree(&[], "root", 1_600_000_000);
    let mut input = String::new();
    for i in 1..1200 {
        let body = format!(
            "WEB-{i}: change number {i}\n\n{}\nSigned-off-by: A <a@example.com>\n",
            "detail line\n".repeat(i % 7)
        );
        input.push_str(&format!(
            "commit refs/heads/main\ncommitter C <c@x> {} +0000\ndata {}\n{body}\n",
            1_600_000_000 + i * 60,
            body.len()
        ));
        if i == 1 {
            input.push_str(&format!("from {tip}\n"));
        }
    }
    let output = repo.git_output(&["fast-import", "--quiet"], Some(input.as_bytes()));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    tip = repo.git(&["rev-parse", "refs/heads/main"]);
    repo.git(&[
        "repack",
        "-q",
        "-a",
        "-d",
        "-f",
        "--window=250",
        "--depth=50",
    ]);
    repo.git(&["commit-graph", "write", "--reachable"]);
    let root = repo.rev_list(&["--max-parents=0", &tip]).pop().unwrap();
    let Resolved::Range(range) = walk(&repo, &tip, &[&root], WalkOptions::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(range.commits.len(), 1199);
    let expected = repo.git(&["log", "--format=%H%n%B%x00", &format!("{root}..{tip}")]);
    let mut by_id = std::collections::HashMap::new();
    for entry in expected.split('\0') {
        let entry = entry.trim_start_matches('\n');
        if let Some((id, message)) = entry.split_once('\n') {
            by_id.insert(id.to_owned(), message.to_owned());
        }
    }
    for commit in &range.commits {
        let want = by_id
            .get(&commit.id.to_string())
            .expect("commit in git log");
        assert_eq!(
            String::from_utf8_lossy(&commit.digest).trim_end(),
            want.trim_end(),
            "{}",
            commit.id
        );
    }
}

#[test]
fn large_history_without_commit_graph_reads_in_git_order() {
    // A long walk from the pack reader alone: the order and every message must be git's.
    // Merges, 8-parent octopus merges and long author lines on the way; repacked so that some
    // commits are deltas and the index lookups go through the pack reader; no commit-graph.
    let repo = TestRepo::bare();
    let mut input = String::new();
    let mut time = 1_600_000_000;
    let mut commit = |input: &mut String,
                      branch: &str,
                      mark: usize,
                      author: &str,
                      body: &str,
                      from: Option<usize>,
                      merges: &[usize]| {
        time += 60;
        input.push_str(&format!(
            "commit refs/heads/{branch}\nmark :{mark}\nauthor {author} <a@example.com> {time} +0000\ncommitter C <c@x> {time} +0000\ndata {}\n{body}\n",
            body.len()
        ));
        if let Some(from) = from {
            input.push_str(&format!("from :{from}\n"));
        }
        for m in merges {
            input.push_str(&format!("merge :{m}\n"));
        }
    };
    let mut side = 100_000;
    for i in 1..=1700usize {
        let body = format!(
            "WEB-{i}: change number {i}\n\n{}Signed-off-by: A <a@example.com>\n",
            "detail line\n".repeat(i % 7)
        );
        let author = if i % 77 == 0 {
            "N".repeat(400)
        } else {
            "A".to_owned()
        };
        let mut merges = Vec::new();
        if i > 1 && i % 50 == 0 {
            for k in 0..if i % 100 == 0 { 7 } else { 1 } {
                side += 1;
                let text = format!("SIDE-{side}: side {k} of {i}\n");
                commit(
                    &mut input,
                    &format!("side{k}"),
                    side,
                    "S",
                    &text,
                    Some(i - 1),
                    &[],
                );
                merges.push(side);
            }
        }
        let from = (i > 1).then_some(i - 1);
        commit(&mut input, "main", i, &author, &body, from, &merges);
    }
    let output = repo.git_output(&["fast-import", "--quiet"], Some(input.as_bytes()));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    repo.git(&[
        "repack",
        "-q",
        "-a",
        "-d",
        "-f",
        "--window=250",
        "--depth=50",
    ]);
    assert!(!repo.path().join("objects/info/commit-graph").exists());
    let tip = repo.git(&["rev-parse", "refs/heads/main"]);
    let root = repo.rev_list(&["--max-parents=0", &tip]).pop().unwrap();
    let expected = repo.git(&["log", "--format=%H%n%B%x00", &format!("{root}..{tip}")]);
    let by_id: std::collections::HashMap<&str, &str> = expected
        .split('\0')
        .filter_map(|entry| entry.trim_start_matches('\n').split_once('\n'))
        .collect();

    let opened = Repo::open(Some(repo.path())).unwrap();
    let digest = message;
    for from in [root.clone(), format!("{tip}~100")] {
        let from = repo.git(&["rev-parse", &from]);
        let base = Base {
            exclude: vec![oid(&from)],
            source: BaseSource::Given("test".into()),
        };
        let resolved = range::resolve(
            &opened,
            oid(&tip),
            base,
            WalkOptions::default(),
            &mut |_| {},
            &digest,
        )
        .unwrap();
        let Resolved::Range(range) = resolved else {
            panic!()
        };
        let got: Vec<String> = range
            .commits
            .iter()
            .rev()
            .map(|c| c.id.to_string())
            .collect();
        assert_eq!(got, repo.rev_list(&[&tip, "--not", &from]), "{from}..{tip}");
        for commit in &range.commits {
            let want = by_id
                .get(commit.id.to_string().as_str())
                .expect("commit in git log");
            assert_eq!(
                String::from_utf8_lossy(&commit.digest).trim_end(),
                want.trim_end(),
                "{}",
                commit.id
            );
        }
    }
}

#[test]
fn last_tag_of_a_non_version_tag_is_the_nearest_earlier_matching_tag() {
    let repo = TestRepo::new();
    repo.commit("base");
    repo.git(&["tag", "build-a"]);
    repo.commit("WEB-1");
    repo.git(&["tag", "nightly"]);
    repo.git(&["tag", "build-b"]);
    repo.commit("WEB-2");
    repo.git(&["tag", "build-c"]);
    let opened = Repo::open(Some(repo.path())).unwrap();
    let to = opened.resolve("build-c").unwrap();
    let builds = |name: &str| name.starts_with("refs/tags/build-");
    let base = range::last_tag_base(&opened, to, Some("refs/tags/build-c"), &builds)
        .unwrap()
        .unwrap();
    assert_eq!(
        base.source,
        BaseSource::LastTag {
            tag: "build-b".into(),
            rule: TagRule::Reachable
        }
    );
    assert_eq!(base.exclude, vec![opened.resolve("build-b").unwrap()]);
    assert!(base
        .source
        .describe()
        .contains("nearest earlier tag reachable"));
    // A commit deployed without a tag name: the same rule.
    let base = range::last_tag_base(&opened, to, None, &builds).unwrap();
    assert_eq!(
        base.unwrap().exclude,
        vec![opened.resolve("build-b").unwrap()]
    );
    // No earlier tag: None, never "the whole history".
    let first = opened.resolve("build-a").unwrap();
    assert!(
        range::last_tag_base(&opened, first, Some("refs/tags/build-a"), &|_| true)
            .unwrap()
            .is_none()
    );
}

/// Kafka's shape: releases and release candidates tagged on release branches, so the
/// previous release is not an ancestor, and an old tag on trunk is.
///
/// ```text
/// trunk:  root(0.8.0-beta1) - KAFKA-1 - KAFKA-10 - KAFKA-20 - KAFKA-30
///                              \           \          \
///  3.6:  KAFKA-2 (3.6.0-rc2) - KAFKA-3 (3.6.0) - KAFKA-4 (3.6.1) - KAFKA-5 (3.6.2-rc1, 3.6.2)
///  3.7:                         KAFKA-11 (3.7.0-rc1, 3.7.0) - KAFKA-12 (3.7.1)
///  3.8:                                    KAFKA-21 (3.8.0-rc0) - KAFKA-22 (3.8.0-rc1, 3.8.0)
/// ```
fn release_branches() -> TestRepo {
    let repo = TestRepo::new();
    repo.commit("root");
    repo.git(&["tag", "0.8.0-beta1"]);
    repo.git(&["tag", "nightly"]);
    repo.commit("KAFKA-1 trunk");
    let branch = |name: &str, commits: &[(&str, &[&str])]| {
        repo.git(&["checkout", "-q", "-b", name]);
        for (message, tags) in commits {
            repo.commit(message);
            for tag in *tags {
                repo.git(&["tag", "-a", "-m", tag, tag]);
            }
        }
        repo.git(&["checkout", "-q", "main"]);
    };
    branch(
        "3.6",
        &[
            ("KAFKA-2", &["3.6.0-rc2"]),
            ("KAFKA-3", &["3.6.0"]),
            ("KAFKA-4", &["3.6.1"]),
        ],
    );
    repo.commit("KAFKA-10 trunk");
    branch("3.7", &[("KAFKA-11", &["3.7.0-rc1", "3.7.0"])]);
    repo.commit("KAFKA-20 trunk");
    branch(
        "3.8",
        &[
            ("KAFKA-21", &["3.8.0-rc0"]),
            ("KAFKA-22", &["3.8.0-rc1", "3.8.0"]),
        ],
    );
    // Fixes released later on older branches.
    repo.git(&["checkout", "-q", "3.7"]);
    repo.commit("KAFKA-12");
    repo.git(&["tag", "3.7.1"]);
    repo.git(&["checkout", "-q", "3.6"]);
    repo.commit("KAFKA-5");
    repo.git(&["tag", "3.6.2-rc1"]);
    repo.git(&["tag", "3.6.2"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("KAFKA-30 trunk");
    repo.git(&["tag", "v9.0.0"]); // another prefix: never a base of `3.x`
    repo
}

/// The base the previous-tag rule picks for tag `to`, among tags `matches` accepts.
fn previous_tag(repo: &TestRepo, to: &str, matches: &dyn Fn(&str) -> bool) -> Option<Base> {
    let opened = Repo::open(Some(repo.path())).unwrap();
    let id = opened.resolve(to).unwrap();
    range::last_tag_base(&opened, id, Some(&format!("refs/tags/{to}")), matches).unwrap()
}

fn tag_of(base: &Base) -> &str {
    match &base.source {
        BaseSource::LastTag { tag, .. } => tag,
        other => panic!("not a tag base: {other:?}"),
    }
}

#[test]
fn previous_release_tag_is_the_greatest_smaller_version_on_any_branch() {
    let repo = release_branches();
    let all = |_: &str| true;
    for (to, want) in [
        ("3.8.0", "3.7.1"), // not an ancestor; not 0.8.0-beta1, the nearest ancestor tag
        ("3.6.2", "3.6.1"), // never 3.6.0-rc2 nor 3.6.2-rc1
        ("3.7.1", "3.7.0"), // not 3.6.2, tagged later
        ("3.8.0-rc1", "3.8.0-rc0"), // a pre-release: the previous tag of any kind
        ("3.8.0-rc0", "3.7.1"),
        ("3.6.0-rc2", "0.8.0-beta1"),
    ] {
        let base = previous_tag(&repo, to, &all).unwrap_or_else(|| panic!("{to}: no base"));
        assert_eq!(tag_of(&base), want, "base of {to}");
        assert_eq!(
            base.exclude,
            vec![oid(&repo.git(&["rev-parse", &format!("{want}^{{commit}}")]))],
            "{to}"
        );
    }
    // The range is `base..to` in git's sense, ancestor or not.
    let base = previous_tag(&repo, "3.8.0", &all).unwrap();
    let to = repo.git(&["rev-parse", "3.8.0^{commit}"]);
    let from = repo.git(&["rev-parse", "3.7.1^{commit}"]);
    assert_eq!(
        ids(walk(&repo, &to, &[&from], WalkOptions::default()).unwrap()),
        repo.rev_list(&["3.7.1..3.8.0"])
    );
    let opened = Repo::open(Some(repo.path())).unwrap();
    let resolved = range::resolve(
        &opened,
        oid(&to),
        base,
        WalkOptions::default(),
        &mut |_| {},
        &message,
    )
    .unwrap();
    let Resolved::Range(range) = resolved else {
        panic!("refused")
    };
    let subjects: Vec<_> = range
        .commits
        .iter()
        .map(|c| String::from_utf8_lossy(&c.digest).into_owned())
        .collect();
    assert_eq!(subjects, ["KAFKA-20 trunk", "KAFKA-21", "KAFKA-22"]);
    // The output says which tag and why.
    let described = previous_tag(&repo, "3.6.2", &all)
        .unwrap()
        .source
        .describe();
    assert_eq!(
        described,
        "previous release 3.6.1 (the greatest version below 3.6.2 with the same prefix; \
         pre-releases skipped)"
    );
}

#[test]
fn previous_release_tag_keeps_to_the_environment_tags_and_the_prefix() {
    let repo = release_branches();
    // Only the environment's tags count.
    let not_371 = |name: &str| name != "refs/tags/3.7.1";
    let base = previous_tag(&repo, "3.8.0", &not_371).unwrap();
    assert_eq!(tag_of(&base), "3.7.0");
    // Nothing smaller with the prefix `v`: no base (not the 3.x tags, not `nightly`).
    assert!(previous_tag(&repo, "v9.0.0", &|_| true).is_none());
    // The first version: no base; the first final release has only pre-releases before it.
    assert!(previous_tag(&repo, "0.8.0-beta1", &|_| true).is_none());
    assert!(previous_tag(&repo, "3.6.0", &|_| true).is_none());
    // A tag that is not a version: the nearest earlier reachable tag.
    repo.git(&["tag", "latest", "3.8.0"]);
    let base = previous_tag(&repo, "latest", &|_| true).unwrap();
    assert_eq!(tag_of(&base), "3.8.0-rc0");
    assert_eq!(
        base.source,
        BaseSource::LastTag {
            tag: "3.8.0-rc0".into(),
            rule: TagRule::Reachable
        }
    );
}

#[test]
fn max_commits_refuses_large_ranges() {
    let repo = TestRepo::new();
    let base = repo.commit("base");
    for i in 0..10 {
        repo.commit(&format!("c{i}"));
    }
    let head = repo.git(&["rev-parse", "HEAD"]);
    let options = WalkOptions {
        parents: ParentMode::All,
        max_commits: Some(5),
    };
    assert!(matches!(
        walk(&repo, &head, &[&base], options).unwrap(),
        Resolved::TooLarge { limit: 5, .. }
    ));
    let options = WalkOptions {
        parents: ParentMode::All,
        max_commits: Some(10),
    };
    assert_eq!(
        ids(walk(&repo, &head, &[&base], options).unwrap()).len(),
        10
    );
}

#[test]
fn a_size_refusal_says_how_large_the_range_is_at_least() {
    let describe = |limit| range::SizeRefusal { limit }.describe();
    assert_eq!(describe(2000), "more than 2,000 commits");
    assert_eq!(describe(1), "more than 1 commit");
    assert_eq!(describe(999), "more than 999 commits");
    assert_eq!(describe(1_234_567), "more than 1,234,567 commits");
    assert_eq!(describe(100_000), "more than 100,000 commits");
}

#[test]
fn unknown_revision_is_a_git_error() {
    let repo = TestRepo::new();
    repo.commit("base");
    let opened = Repo::open(Some(repo.path())).unwrap();
    let err = opened.resolve("no-such-branch").unwrap_err();
    assert!(matches!(err, GitError::UnknownRevision { .. }), "{err}");
    assert!(err.to_string().contains("no-such-branch"));
    let err = opened
        .resolve("1111111111111111111111111111111111111111")
        .unwrap_err();
    assert!(err.to_string().contains("1111111"), "{err}");
}

#[test]
fn a_missing_parent_object_fails_the_range_instead_of_ending_it() {
    let repo = TestRepo::new();
    let a = repo.commit("a");
    let b = repo.commit("b");
    let c = repo.commit("c");
    let d = repo.commit("d");
    // Remove commit b's object: the walk from d down to a must fail, not stop at c.
    let object = repo.path().join(".git/objects").join(&b[..2]).join(&b[2..]);
    std::fs::remove_file(object).unwrap();
    let err = walk(&repo, &d, &[&a], WalkOptions::default())
        .err()
        .expect("an error");
    assert!(
        matches!(err, GitError::MissingObject { id } if id.to_string() == b),
        "{err}"
    );
    let _ = c;
}

#[test]
fn shallow_clone_is_reported_not_truncated() {
    let origin = TestRepo::new();
    let root = origin.commit("root");
    for i in 0..6 {
        origin.commit(&format!("WEB-{} change", i + 1));
    }
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    let out = support::git_command(clone.path())
        .args(["clone", "-q", "--depth", "3", &url, "c"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opened = Repo::open(Some(&clone.path().join("c"))).unwrap();
    assert!(opened.is_shallow());
    // The base is not in the clone at all.
    let err = opened.resolve(&root).unwrap_err();
    assert!(matches!(err, GitError::ShallowMissing { .. }), "{err}");
    assert!(err.to_string().contains("fetch-depth: 0"), "{err}");
    let head = opened.resolve("HEAD").unwrap();
    let base = Base {
        exclude: vec![],
        source: BaseSource::None,
    };
    assert!(
        range::resolve(
            &opened,
            head,
            base,
            WalkOptions::default(),
            &mut |_| {},
            &message
        )
        .is_ok(),
        "to alone needs no history"
    );
    let two_back = opened.resolve("HEAD~1").unwrap();
    let ok = range::resolve(
        &opened,
        head,
        Base {
            exclude: vec![two_back],
            source: BaseSource::None,
        },
        WalkOptions::default(),
        &mut |_| {},
        &message,
    );
    assert!(ok.is_ok(), "a range inside the clone's history works");
}

#[test]
fn shallow_boundary_inside_the_range_is_an_error() {
    let origin = TestRepo::new();
    origin.commit("root");
    for i in 0..6 {
        origin.commit(&format!("WEB-{} change", i + 1));
    }
    origin.git(&["branch", "side", "HEAD~5"]);
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    let out = support::git_command(clone.path())
        .args([
            "clone",
            "-q",
            "--depth",
            "3",
            "--no-single-branch",
            &url,
            "c",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opened = Repo::open(Some(&clone.path().join("c"))).unwrap();
    let head = opened.resolve("HEAD").unwrap();
    let side = opened.resolve("origin/side").unwrap();
    // side is not an ancestor inside the clone's 3 commits: the walk hits the cut-off.
    let base = Base {
        exclude: vec![side],
        source: BaseSource::None,
    };
    let err = range::resolve(
        &opened,
        head,
        base,
        WalkOptions::default(),
        &mut |_| {},
        &message,
    )
    .err()
    .expect("an error");
    assert!(matches!(err, GitError::ShallowRange { .. }), "{err}");
}

#[test]
fn non_utf8_and_huge_messages_are_read_whole() {
    let repo = TestRepo::new();
    let base = repo.commit("base");
    let mut latin1 = b"WEB-1 caf\xe9 cr\xe8me\n\nbody ".to_vec();
    latin1.extend_from_slice(b"OPS-2\n");
    let a = repo.commit_raw(Some(&base), &latin1, 1_700_000_100);
    let mut huge = b"WEB-3 huge\n\n".to_vec();
    huge.extend(std::iter::repeat_n(b"lorem ipsum dolor sit amet ".as_slice(), 150_000).flatten());
    huge.extend_from_slice(b"\nends with WEB-4\n");
    let b = repo.commit_raw(Some(&a), &huge, 1_700_000_200);
    let Resolved::Range(r) = walk(&repo, &b, &[&base], WalkOptions::default()).unwrap() else {
        panic!()
    };
    assert_eq!(r.commits[0].id.to_string(), a);
    assert_eq!(r.commits[0].digest, latin1);
    assert_eq!(r.commits[1].digest.len(), huge.len());
    assert!(huge.len() > 4_000_000);
}
