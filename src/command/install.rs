//! `deploylink install-hook`: puts a shim from `hooks/` into a repository's hooks directory
//! (`core.hooksPath` when set), never over a hook deploylink did not write unless asked
//! (`--force` replaces it, `--chain` keeps it and runs it first).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::command::cli::{HookKind, InstallHookArgs};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::report::{Format, Installed};

/// Every shim carries this line, so deploylink recognises its own hooks.
pub const MARKER: &str = "# installed by deploylink install-hook";

const POST_RECEIVE: &str = include_str!("../../hooks/post-receive");
const PRE_PUSH: &str = include_str!("../../hooks/pre-push");
const COMMIT_MSG: &str = include_str!("../../hooks/commit-msg");

fn shim(kind: HookKind) -> &'static str {
    match kind {
        HookKind::PostReceive => POST_RECEIVE,
        HookKind::PrePush => PRE_PUSH,
        HookKind::CommitMsg => COMMIT_MSG,
    }
}

pub fn install(
    repo_dir: Option<&Path>,
    args: &InstallHookArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<()> {
    let repo = Repo::open(repo_dir)?;
    let dir = hooks_dir(&repo);
    let name = args.hook.file_name();
    let path = dir.join(name);
    let chained = dir.join(format!("{name}.chained"));
    let existing = std::fs::read_to_string(&path).ok();
    let ours = existing.as_deref().is_some_and(|t| t.contains(MARKER));
    let mut chain = false;
    match (&existing, ours) {
        (Some(_), false) if args.chain => {
            rename(&path, &chained)?;
            chain = true;
        }
        (Some(_), false) if !args.force => {
            return Err(Error::usage(format!(
                "{} exists and was not written by deploylink\n  hint: --chain keeps it and runs it \
                 before deploylink; --force replaces it",
                path.display()
            )))
        }
        // Reinstalling over our own shim keeps a chain that is already there.
        (Some(_), true) => chain = chained.exists(),
        _ => {}
    }
    let exe = std::env::current_exe().map_err(|e| Error::io("find the deploylink binary", e))?;
    let text = shim(args.hook)
        .replace("@DEPLOYLINK@", &shell_quote(&exe.display().to_string()))
        .replace("@CHAIN@", if chain { "1" } else { "0" });
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
    crate::durable::write(&path, text.as_bytes(), crate::durable::Access::KeepOrShared)
        .map_err(|e| Error::io(format!("write {}", path.display()), e))?;
    make_executable(&path)?;
    let installed = Installed {
        hook: path,
        chained: chain.then_some(chained),
    };
    crate::command::write_report(out, format, &installed)
}

/// `core.hooksPath` (relative to the work tree, or to the git directory of a bare
/// repository, as git reads it), else `$GIT_DIR/hooks`.
fn hooks_dir(repo: &Repo) -> PathBuf {
    let configured = repo
        .git()
        .config()
        .and_then(|c| c.get_path("core.hooksPath"))
        .ok();
    let root = repo
        .git()
        .workdir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.git_dir().to_path_buf());
    match configured {
        Some(path) if path.is_absolute() => path,
        Some(path) => root.join(path),
        None => repo.git_dir().join("hooks"),
    }
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        return Err(Error::usage(format!(
            "cannot chain: {} exists already\n  hint: remove or merge it by hand, then install again",
            to.display()
        )));
    }
    std::fs::rename(from, to).map_err(|e| Error::io(format!("rename {}", from.display()), e))
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io(format!("make {} executable", path.display()), e))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

/// `'...'` for sh, with `'` written as `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
