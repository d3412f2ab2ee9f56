//! Files written whole, atomically and durably: a reader (or a process killed mid-write)
//! sees the old file or the new one, never a torn one, and the new one survives a crash
//! once the call returns. The spool, the organization file's editor and `init` write this way.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Who may read a file written anew.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// 0600, always: the spool's entries (they hold no credential, but do hold issue keys
    /// and URLs that are nobody else's business).
    Private,
    /// An existing file keeps its permissions; a new one is 0644 (configuration that holds
    /// only the names of variables and files).
    KeepOrShared,
}

/// Writes `bytes` to `path`: creates the parent directory, writes a temporary file
/// `.NAME.XXXXXX.tmp` in the same directory, fsyncs it, renames it over `path`, and fsyncs the
/// directory. When `path` is a symbolic link, the file it points to is replaced and the link
/// is kept. A temporary file is removed if anything fails; one left by a killed process ends
/// in `.tmp`, so whoever owns the directory can sweep it.
pub fn write(path: &Path, bytes: &[u8], access: Access) -> io::Result<()> {
    let path = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let existing = match access {
        Access::Private => None,
        Access::KeepOrShared => match fs::metadata(&path) {
            Ok(meta) => Some(meta.permissions()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        },
    };
    let prefix = format!(
        ".{}.",
        path.file_name()
            .map_or_else(|| "deploylink".into(), |n| n.to_string_lossy())
    );
    // Created 0600; removed on drop if anything below fails.
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    temp.write_all(bytes)?;
    match (access, existing) {
        (Access::Private, _) => {}
        (Access::KeepOrShared, Some(permissions)) => temp.as_file().set_permissions(permissions)?,
        (Access::KeepOrShared, None) => set_shared_mode(temp.as_file())?,
    }
    temp.as_file().sync_all()?;
    temp.persist(&path).map_err(|e| e.error)?;
    sync_dir(&dir)
}

/// Writes `bytes` to a new temporary file `.NAME.XXXXXX.tmp` (0600) beside `path`, not
/// flushed and closed (so a batch of thousands holds no descriptor): flush a batch with
/// [`sync_files`], then `persist` each over its path and [`sync_dir`] once. Removed when
/// dropped unpersisted.
pub fn write_unsynced_temp(path: &Path, bytes: &[u8]) -> io::Result<tempfile::TempPath> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(
        ".{}.",
        path.file_name()
            .map_or_else(|| "deploylink".into(), |n| n.to_string_lossy())
    );
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    temp.write_all(bytes)?;
    Ok(temp.into_temp_path())
}

/// Makes the contents of `files` (all in `dir`) durable with one flush: `syncfs` of the
/// directory's file system on Linux, an fsync of each file elsewhere.
pub fn sync_files(dir: &Path, files: &[&Path]) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let _ = files;
        let handle = fs::File::open(dir)?;
        // SAFETY: syncfs takes a descriptor we own for the duration of the call.
        if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        for file in files {
            fs::File::open(file)?.sync_all()?;
        }
        Ok(())
    }
}

/// Makes a rename or a removal in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    // Directories can be opened and fsynced on Unix; elsewhere the rename is what we have.
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(unix)]
fn set_shared_mode(file: &fs::File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_shared_mode(_file: &fs::File) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_get_the_access_asked_for_and_existing_ones_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("a/b/entry.json");
        write(&private, b"{}", Access::Private).unwrap();
        assert_eq!(mode(&private), 0o600);
        let shared = dir.path().join("trackers.yml");
        write(&shared, b"one", Access::KeepOrShared).unwrap();
        assert_eq!(mode(&shared), 0o644);
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o640)).unwrap();
        write(&shared, b"two", Access::KeepOrShared).unwrap();
        assert_eq!(mode(&shared), 0o640);
        assert_eq!(fs::read(&shared).unwrap(), b"two");
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "no temporary file is left behind");
    }

    #[test]
    fn a_symbolic_link_is_kept_and_its_target_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.yml");
        fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.yml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write(&link, b"new", Access::KeepOrShared).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
    }
}
