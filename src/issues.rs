//! The issues of a range: what each commit message says (its keys, its subject, the commit
//! it reverts), and the keys in first-appearance order with the commits that mention them.

use std::collections::HashMap;

use git2::Oid;
use serde::Serialize;

use crate::git::commit;
use crate::keys::{IssueKey, KeyRules};
use crate::range::WalkedCommit;

/// What deploylink keeps of a commit message: computed once, as the commit is read, so a
/// 20,000-commit range never holds its messages in memory.
#[derive(Clone, Debug, Default)]
pub struct CommitFacts {
    pub subject: String,
    /// Keys in order of first appearance in the message, each once.
    pub keys: Vec<IssueKey>,
    /// The commit this one reverts, from git's own message (`This reverts commit <sha>.`).
    pub reverts: Option<Oid>,
}

impl CommitFacts {
    /// Reads a message with one or more projects' key rules (their keys merged).
    pub fn read(rules: &[KeyRules], message: &[u8]) -> CommitFacts {
        CommitFacts {
            subject: commit::subject(message),
            keys: keys_of(rules, message),
            reverts: reverted_commit(message),
        }
    }

    /// Only the keys: what `deploylink keys` needs, on its hot path.
    pub fn keys_only(rules: &[KeyRules], message: &[u8]) -> CommitFacts {
        CommitFacts {
            keys: keys_of(rules, message),
            ..CommitFacts::default()
        }
    }
}

/// Each key once, in order of first appearance: a set keeps a message naming 100,000 keys
/// linear (a list search made it quadratic: 2 minutes).
fn keys_of(rules: &[KeyRules], message: &[u8]) -> Vec<IssueKey> {
    let mut keys: Vec<IssueKey> = Vec::new();
    let mut seen: std::collections::HashSet<IssueKey> = std::collections::HashSet::new();
    for rules in rules {
        rules.for_each_key(message, |key| {
            if seen.insert(key.clone()) {
                keys.push(key);
            }
        });
    }
    keys
}

/// The commit named by git's revert message, `This reverts commit <40 hex>`.
pub fn reverted_commit(message: &[u8]) -> Option<Oid> {
    const MARK: &[u8] = b"This reverts commit ";
    let at = memchr::memmem::find(message, MARK)? + MARK.len();
    let hex = message.get(at..at + 40)?;
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

/// One issue and the commits of the range that mention it (empty when only the branch does).
#[derive(Clone, Debug, Serialize)]
pub struct IssueCommits {
    pub key: IssueKey,
    pub commits: Vec<String>,
}

/// Keys in first-appearance order, each with the commits that mention it.
#[derive(Default)]
pub struct KeyIndex {
    order: Vec<IssueCommits>,
    position: HashMap<IssueKey, usize>,
}

impl KeyIndex {
    /// Keys of the branch name first, then of each commit, oldest first: SPEC 5's order.
    pub fn build(branch_keys: Vec<IssueKey>, commits: &[&WalkedCommit<CommitFacts>]) -> Self {
        let mut index = KeyIndex::default();
        for key in branch_keys {
            index.add(key, None);
        }
        for commit in commits {
            for key in &commit.digest.keys {
                index.add(key.clone(), Some(commit.id));
            }
        }
        index
    }

    pub fn add(&mut self, key: IssueKey, commit: Option<Oid>) {
        let index = *self.position.entry(key.clone()).or_insert_with(|| {
            self.order.push(IssueCommits {
                key,
                commits: Vec::new(),
            });
            self.order.len() - 1
        });
        if let Some(commit) = commit {
            let commits = &mut self.order[index].commits;
            let id = commit.to_string();
            if commits.last() != Some(&id) {
                commits.push(id);
            }
        }
    }

    pub fn contains(&self, key: &IssueKey) -> bool {
        self.position.contains_key(key)
    }

    pub fn into_vec(self) -> Vec<IssueCommits> {
        self.order
    }
}

/// The commits that ship something: a commit and its revert, both in the range, cancel out,
/// so their keys must not be reported as deployed (peer complaint: atlassian/github-for-jira
/// #1169). Pairs are matched newest first, so a revert of a revert brings the original back.
/// Also returns the keys that only cancelled commits mention.
pub fn without_reverted_pairs(
    commits: &[WalkedCommit<CommitFacts>],
) -> (Vec<&WalkedCommit<CommitFacts>>, Vec<IssueKey>) {
    let position: HashMap<Oid, usize> =
        commits.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let mut cancelled = vec![false; commits.len()];
    for (i, commit) in commits.iter().enumerate().rev() {
        let original = commit.digest.reverts.and_then(|id| position.get(&id));
        if let Some(&j) = original {
            if !cancelled[i] && j < i && !cancelled[j] {
                cancelled[i] = true;
                cancelled[j] = true;
            }
        }
    }
    let shipped: Vec<&WalkedCommit<CommitFacts>> = commits
        .iter()
        .zip(&cancelled)
        .filter(|(_, cancelled)| !**cancelled)
        .map(|(commit, _)| commit)
        .collect();
    let mut dropped: Vec<IssueKey> = Vec::new();
    for (commit, _) in commits.iter().zip(&cancelled).filter(|(_, c)| **c) {
        for key in &commit.digest.keys {
            let still_shipped = shipped.iter().any(|c| c.digest.keys.contains(key));
            if !still_shipped && !dropped.contains(key) {
                dropped.push(key.clone());
            }
        }
    }
    (shipped, dropped)
}
