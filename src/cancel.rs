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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

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
