//! `--push-history REMOTE`: a CI clone is thrown away after the job, so the history entries
//! it appended are pushed. Another job may have pushed first: then this clone's new entries
//! are put on top of the remote's history (the same trees, new parents) and pushed again, so
//! both jobs' deploys end up in the chain. The `git` binary pushes (it has the CI's
//! credentials and transports).

use std::process::{Command, Output};

use git2::{Oid, Repository};

use super::chain::HistoryError;

/// How often the push is tried when other jobs keep pushing first.
const ATTEMPTS: u32 = 10;

/// Where the remote's tip is fetched to while the entries are replayed on it.
const FETCHED: &str = "refs/deploylink-fetched/history";

/// Pushes each of `refnames` to `remote`.
pub fn push(git: &Repository, remote: &str, refnames: &[String]) -> Result<(), HistoryError> {
    for refname in refnames {
        push_one(git, remote, refname)?;
    }
    Ok(())
}

fn push_one(git: &Repository, remote: &str, refname: &str) -> Result<(), HistoryError> {
    let failed = |message: String, hint: &str| HistoryError::Push {
        remote: remote.to_owned(),
        message,
        hint: hint.to_owned(),
    };
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let fetched = run_git(
            git,
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                remote,
                &format!("+{refname}:{FETCHED}"),
            ],
        )
        .map_err(|e| failed(e, "git must be on the PATH"))?;
        let remote_tip = if fetched.status.success() {
            git.refname_to_id(FETCHED).ok()
        } else {
            let why = String::from_utf8_lossy(&fetched.stderr).into_owned();
            if !why.contains("couldn't find remote ref") {
                return Err(failed(
                    why.trim().to_owned(),
                    "check the remote's name or URL and that this job may fetch from it",
                ));
            }
            None
        };
        if let Some(remote_tip) = remote_tip {
            replay_on(git, refname, remote_tip)
                .map_err(|e| failed(e.to_string(), "run the job again"))?;
        }
        let pushed = run_git(
            git,
            &["push", "--quiet", remote, &format!("{refname}:{refname}")],
        )
        .map_err(|e| failed(e, "git must be on the PATH"))?;
        if pushed.status.success() {
            cleanup(git);
            return Ok(());
        }
        last = String::from_utf8_lossy(&pushed.stderr).trim().to_owned();
        if !(last.contains("non-fast-forward")
            || last.contains("fetch first")
            || last.contains("rejected"))
        {
            break;
        }
        log::debug!("{refname}: another job pushed first, trying again: {last}");
    }
    cleanup(git);
    Err(failed(
        last,
        "check that this job may push to the remote (refs/deploylink-history/*), then run it again",
    ))
}

fn cleanup(git: &Repository) {
    if let Ok(mut fetched) = git.find_reference(FETCHED) {
        let _ = fetched.delete();
    }
}

fn run_git(git: &Repository, args: &[&str]) -> Result<Output, String> {
    Command::new("git")
        .arg("--git-dir")
        .arg(git.path())
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))
}

/// Puts the local entries of `refname` that the remote lacks on top of `remote_tip`, in
/// order, and points `refname` at the result. Nothing to do when the local history already
/// contains the remote's.
fn replay_on(git: &Repository, refname: &str, remote_tip: Oid) -> Result<(), git2::Error> {
    let local_tip = match git.refname_to_id(refname) {
        Ok(id) => id,
        Err(_) => return Ok(()),
    };
    if local_tip == remote_tip || git.graph_descendant_of(local_tip, remote_tip)? {
        return Ok(());
    }
    let mut own = Vec::new();
    let mut next = Some(git.find_commit(local_tip)?);
    while let Some(commit) = next {
        if commit.id() == remote_tip || git.graph_descendant_of(remote_tip, commit.id())? {
            break;
        }
        next = commit.parents().next();
        own.push(commit);
    }
    let mut parent = git.find_commit(remote_tip)?;
    for commit in own.iter().rev() {
        let id = git.commit(
            None,
            &commit.author(),
            &commit.committer(),
            commit.message().unwrap_or("deploy\n"),
            &commit.tree()?,
            &[&parent],
        )?;
        parent = git.find_commit(id)?;
    }
    git.reference(
        refname,
        parent.id(),
        true,
        "deploylink: history replayed on the remote's",
    )?;
    Ok(())
}
