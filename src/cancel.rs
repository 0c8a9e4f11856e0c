//! Cooperative cancellation for the whole process.
//!
//! One flag, set by a signal handler (the command line sets it on SIGINT
//! and SIGTERM) or by a program that embeds densebin, and checked by the
//! long operations: the binning driver between chunks, and the atomic
//! writer before it renames a finished file into place. A cancelled
//! operation fails with [`Error::Interrupted`], so its temporary files are
//! removed as for any other error and nothing appears under an output's
//! name.
//!
//! ```
//! // A signal handler would store `true` here (signal-hook's `flag`).
//! let flag = densebin::cancel::flag();
//! assert!(!densebin::cancel::requested());
//! # drop(flag);
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};

fn shared() -> &'static Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// The process's cancellation flag: store `true` to cancel what runs.
/// It is never reset.
pub fn flag() -> Arc<AtomicBool> {
    Arc::clone(shared())
}

/// True once cancellation was requested.
pub fn requested() -> bool {
    shared().load(Ordering::Relaxed)
}

/// `Err(Error::Interrupted)` once cancellation was requested.
pub(crate) fn check() -> Result<()> {
    if requested() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// The temporary files of writes under way (see
/// [`crate::store::write_atomically`]).
fn temporaries() -> &'static Mutex<Vec<PathBuf>> {
    static LIST: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    &LIST
}

/// A temporary file registered for [`remove_temporaries`] while it lives.
pub(crate) struct Temporary(PathBuf);

impl Temporary {
    pub(crate) fn new(path: &Path) -> Temporary {
        let path = path.to_path_buf();
        if let Ok(mut list) = temporaries().lock() {
            list.push(path.clone());
        }
        Temporary(path)
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Ok(mut list) = temporaries().lock()
            && let Some(i) = list.iter().position(|p| *p == self.0)
        {
            list.swap_remove(i);
        }
    }
}

/// Removes the temporary files of the writes under way, for a program that
/// must end at once, without the unwinding that would remove them: the
/// command line after a second signal, or when a cancelled run does not
/// stop. Does nothing if another thread holds the list at that moment.
pub fn remove_temporaries() {
    if let Ok(list) = temporaries().try_lock() {
        for p in list.iter() {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_temporaries_are_removed_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.tmp"), dir.path().join("b.tmp"));
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b").unwrap();
        let ta = Temporary::new(&a);
        let tb = Temporary::new(&b);
        drop(tb);
        remove_temporaries();
        assert!(!a.exists(), "a registered temporary is removed");
        assert!(b.exists(), "a dropped registration removes nothing");
        drop(ta);
        std::fs::write(&a, "a again").unwrap();
        remove_temporaries();
        assert!(a.exists(), "nothing is removed once dropped");
    }
}
