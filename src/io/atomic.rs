//! Atomic, exclusive writes: a temporary file beside the destination, renamed into place;
//! a lock that serialises read-modify-write updates of one pack; clean-up of temporary
//! files that a killed process left behind.
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Marks this crate's temporary files: `.{file name}.gonpack-tmp-{pid}-{random}`.
const TEMP_MARK: &str = ".gonpack-tmp-";

/// A reserved destination: its temporary file exists already, so a destination that cannot
/// be written fails before any work is done; [`PendingFile::commit`] writes and renames it
/// into place, and dropping it uncommitted removes it.
pub struct PendingFile {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl PendingFile {
    /// Reserves `path`: refuses a folder, creates the parent folder if missing and creates a
    /// temporary file next to it.
    pub fn create(path: &Path) -> Result<Self> {
        if path.is_dir() {
            return Err(Error::Usage("is a folder; give a file name".into()).in_file(path));
        }
        let dir = parent(path);
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
        let name = file_name(path)?;
        let prefix = format!(".{name}{TEMP_MARK}{}-", std::process::id());
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .tempfile_in(dir)
            .map_err(|e| Error::io("create a file in", dir, e))?;
        #[cfg(unix)]
        {
            // tempfile creates 0600; give the result the usual permissions of a new file.
            use std::os::unix::fs::PermissionsExt;
            let perms = std::fs::Permissions::from_mode(0o644);
            tmp.as_file()
                .set_permissions(perms)
                .map_err(|e| Error::io("set permissions of", tmp.path(), e))?;
        }
        Ok(PendingFile {
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// [`Self::create`], then removes the temporary files of `path` that processes which no
    /// longer run left behind (one listing of the folder: for packs, not for each of many
    /// images, whose writers clean their folders once with [`remove_stale_temps`]).
    pub fn replacing(path: &Path) -> Result<Self> {
        let pending = Self::create(path)?; // its own temporary file is never stale
        remove_stale_temps(parent(path), Some(&file_name(path)?))?;
        Ok(pending)
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes`, syncs them and renames the file into place.
    pub fn commit(mut self, bytes: &[u8]) -> Result<()> {
        let path = self.path;
        self.tmp
            .write_all(bytes)
            .and_then(|()| self.tmp.as_file().sync_all())
            .map_err(|e| Error::io("write", &path, e))?;
        self.tmp
            .persist(&path)
            .map_err(|e| Error::io("rename into place", &path, e.error))?;
        Ok(())
    }
}

/// Writes `bytes` to `path` atomically ([`PendingFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    PendingFile::create(path)?.commit(bytes)
}

/// Removes the temporary files in `dir` (of the file `name` only, when given) whose process
/// no longer runs: what a write killed before its rename leaves behind.
pub fn remove_stale_temps(dir: &Path, name: Option<&str>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        let Some((owner, rest)) = file.split_once(TEMP_MARK) else {
            continue;
        };
        if !owner.starts_with('.') || name.is_some_and(|n| owner[1..] != *n) {
            continue;
        }
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| pid != std::process::id() && !process_runs(pid)) {
            let stale = entry.path();
            std::fs::remove_file(&stale).map_err(|e| Error::io("remove stale", &stale, e))?;
        }
    }
    Ok(())
}

/// Whether process `pid` runs. Where that cannot be told (no `/proc`), every process is taken
/// to run, so nothing is removed that might be in use.
fn process_runs(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// An exclusive lock on a pack file, held while it is read, changed and replaced, so that
/// two updates of one pack run one after the other instead of one losing the other's work.
/// Released when dropped.
pub struct PackLock {
    _file: File,
}

/// Locks the pack at `path`, waiting for other holders; `None` when there is no such file.
/// A writer replaces the file by renaming a new one over it, so the lock is taken on the file
/// that is at `path` once the lock is held (a waiter that wakes on a replaced file tries again).
pub fn lock_pack(path: &Path) -> Result<Option<PackLock>> {
    loop {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("open", path, e)),
        };
        file.lock().map_err(|e| Error::io("lock", path, e))?;
        if still_at(&file, path)? {
            return Ok(Some(PackLock { _file: file }));
        }
    }
}

/// Whether the open `file` is still the one at `path`.
fn still_at(file: &File, path: &Path) -> Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let open = file.metadata().map_err(|e| Error::io("inspect", path, e))?;
        Ok(match std::fs::metadata(path) {
            Ok(now) => (now.dev(), now.ino()) == (open.dev(), open.ino()),
            Err(_) => false,
        })
    }
    #[cfg(not(unix))]
    {
        // Elsewhere a file that is open cannot be replaced.
        let _ = (file, path);
        Ok(true)
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Usage("has no file name".into()).in_file(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temporaries_of_dead_processes_go_and_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        // pid 4294967 cannot exist on Linux (pid_max is at most 2^22).
        let dead = dir.path().join(".a.gonpack.gonpack-tmp-4294967-x1");
        let mine = dir
            .path()
            .join(format!(".a.gonpack.gonpack-tmp-{}-x2", std::process::id()));
        let other_file = dir.path().join(".b.gonpack.gonpack-tmp-4294967-x3");
        for p in [&dead, &mine, &other_file] {
            std::fs::write(p, b"partial").unwrap();
        }
        PendingFile::replacing(&dir.path().join("a.gonpack"))
            .unwrap()
            .commit(b"done")
            .unwrap();
        assert!(!dead.exists() || !Path::new("/proc/self").exists());
        assert!(mine.exists() && other_file.exists());
        assert_eq!(
            std::fs::read(dir.path().join("a.gonpack")).unwrap(),
            b"done"
        );
        remove_stale_temps(dir.path(), None).unwrap();
        assert!(!other_file.exists() || !Path::new("/proc/self").exists());
    }
}
