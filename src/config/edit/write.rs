//! Writing the edited file atomically.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Writes `text` to `path` atomically: creates the parent directory, writes a temporary file
/// in the same directory, fsyncs it, renames it over `path`, and fsyncs the directory. An
/// existing file keeps its permissions; a new file gets 0644 (it holds no secrets, only the
/// names of variables and files). When `path` is a symbolic link, the file it points to is
/// replaced and the link is kept.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let path = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let permissions = match fs::metadata(&path) {
        Ok(meta) => Some(meta.permissions()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let prefix = format!(
        ".{}.",
        path.file_name()
            .map_or_else(|| "deploylink".into(), |n| n.to_string_lossy())
    );
    // Removed on drop if anything below fails.
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    temp.write_all(text.as_bytes())?;
    match permissions {
        Some(permissions) => temp.as_file().set_permissions(permissions)?,
        None => set_new_file_mode(temp.as_file())?,
    }
    temp.as_file().sync_all()?;
    temp.persist(&path).map_err(|e| e.error)?;
    sync_dir(&dir)
}

/// A new file is 0644: the temporary file was created 0600.
#[cfg(unix)]
fn set_new_file_mode(file: &fs::File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_new_file_mode(_file: &fs::File) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
