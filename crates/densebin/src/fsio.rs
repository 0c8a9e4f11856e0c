//! Files written atomically: into a temporary file next to the target,
//! synced, then renamed over it, so that a crash, a full disk or a
//! cancelled run never leaves a partial file under the real name. Grid
//! files, images and converted records all go through here.

use std::path::{Path, PathBuf};

use crate::context::RunContext;
use crate::error::{Error, Result};

/// Runs `write` on a temporary path next to `path`, then syncs it and
/// renames it to `path`. On any failure the temporary file is removed and
/// `path` is untouched; so too when `ctx` was cancelled before the rename.
/// While it is written, the temporary file is registered with `ctx` (see
/// [`RunContext::remove_temporaries`]).
pub fn write_atomically(
    path: &Path,
    ctx: &RunContext,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::request(format!("{}: not a file name", path.display())))?;
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // open(2) applies the umask to this mode, as for any new file.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(&dir).map_err(|e| Error::io(&dir, e))?;
    // For a program that has to end without unwinding.
    let _registered = ctx.temporary(tmp.path());
    write(tmp.path())?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    // Cancelled while writing: the temporary file goes with `tmp`.
    ctx.check_cancelled()?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        // Make the rename itself durable; failure here loses nothing.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_writes_leave_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        let ctx = RunContext::new();
        std::fs::write(&path, b"old").unwrap();
        let err = write_atomically(&path, &ctx, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(Error::request("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "the temporary file is gone");

        write_atomically(&path, &ctx, |tmp| {
            std::fs::write(tmp, b"new").map_err(|e| Error::io(tmp, e))
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn a_cancelled_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        let ctx = RunContext::new();
        let err = write_atomically(&path, &ctx, |tmp| {
            std::fs::write(tmp, b"done").unwrap();
            ctx.cancel_token().cancel();
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(err, Error::Interrupted), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
