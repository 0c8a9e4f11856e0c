//! What one run works with: a cancellation token, a progress sink, the
//! threads and the memory it may use, and the temporary files of the
//! writes it has under way.
//!
//! A [`RunContext`] is made per run and passed to every long operation
//! (binning, range scans, conversion, grid writes). Nothing of it is
//! process-wide: a program that embeds densebin — a Python session, a Dask
//! worker — makes a fresh context for each call, so cancelling one run
//! leaves the next one untouched.
//!
//! ```
//! use densebin::RunContext;
//!
//! # fn main() -> Result<(), densebin::Error> {
//! let ctx = RunContext::new().with_threads(Some(2))?;
//! assert_eq!(ctx.threads(), 2);
//! ctx.cancel_token().cancel(); // from a signal handler, another thread...
//! assert!(ctx.check_cancelled().is_err());
//! // ...and the next run, with its own context, is not cancelled.
//! assert!(RunContext::new().check_cancelled().is_ok());
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::param::Param;

/// Reports progress of long phases (the command line draws a bar).
pub trait Progress: Send + Sync {
    /// A phase begins over `total` bytes, when known.
    fn begin(&self, phase: &str, total: Option<u64>);
    /// `bytes` more bytes are done.
    fn advance(&self, bytes: u64);
}

/// A cooperative cancellation flag, shared by clones: once
/// [`CancelToken::cancel`] is called, the operations of every context that
/// holds it stop at their next check (between chunks, between the waves of
/// a grid write, before renaming an output into place) with
/// [`Error::Interrupted`], removing their temporary files.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Asks every operation holding this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once [`CancelToken::cancel`] was called (or the flag set).
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// The flag itself, for a signal handler that can only store `true`
    /// into an `AtomicBool` (signal-hook's `flag::register`).
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}

/// The most worker threads a run starts: past the number of cores they
/// add nothing but memory (a private grid each), and a hundred thousand
/// made thread creation itself fail.
pub const MAX_THREADS: usize = 1024;

/// One run's cancellation token, progress sink, threads, memory limit and
/// temporary files. Clones share all of them.
#[derive(Clone, Default)]
pub struct RunContext {
    cancel: CancelToken,
    progress: Option<Arc<dyn Progress>>,
    threads: Option<usize>,
    /// The pool that runs everything parallel besides binning's workers
    /// (merging, writing grids, shading): `None` for rayon's global pool,
    /// which has a thread per core.
    pool: Option<Arc<rayon::ThreadPool>>,
    max_memory: Option<u64>,
    temporaries: Arc<Mutex<Vec<PathBuf>>>,
}

impl std::fmt::Debug for RunContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext")
            .field("cancelled", &self.cancel.is_cancelled())
            .field("threads", &self.threads)
            .field("max_memory", &self.max_memory)
            .finish_non_exhaustive()
    }
}

impl RunContext {
    /// A context with every core, the memory the system has, no progress
    /// sink, and a token of its own.
    pub fn new() -> RunContext {
        RunContext::default()
    }

    /// This context with `threads` worker threads (`None`: every core).
    /// Fails unless the number is between 1 and [`MAX_THREADS`], or when
    /// the threads cannot be started.
    pub fn with_threads(mut self, threads: Option<usize>) -> Result<RunContext> {
        self.pool = match threads {
            None => None,
            Some(n) => Some(Arc::new(pool(check_threads(n)?)?)),
        };
        self.threads = threads;
        Ok(self)
    }

    /// This context with at most `bytes` of memory for grids (`None`: what
    /// the system has available).
    #[must_use]
    pub fn with_max_memory(mut self, bytes: Option<u64>) -> RunContext {
        self.max_memory = bytes;
        self
    }

    /// This context reporting progress to `progress`.
    #[must_use]
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> RunContext {
        self.progress = Some(progress);
        self
    }

    /// This context cancelled by `token` (shared with whoever cancels).
    #[must_use]
    pub fn with_cancel(mut self, token: CancelToken) -> RunContext {
        self.cancel = token;
        self
    }

    /// The cancellation token.
    pub fn cancel_token(&self) -> &CancelToken {
        &self.cancel
    }

    /// `Err(Error::Interrupted)` once the run was cancelled.
    pub fn check_cancelled(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }

    /// The progress sink, if any.
    pub fn progress(&self) -> Option<&dyn Progress> {
        self.progress.as_deref()
    }

    /// The worker threads of a run: as asked, or one per core.
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// True when the number of threads was asked for (a run then keeps it
    /// rather than lowering it to fit memory).
    pub fn threads_fixed(&self) -> bool {
        self.threads.is_some()
    }

    /// The memory grids may use now: the smaller of the limit and what the
    /// system has available ([`crate::sys::available_memory`]); `None`
    /// where neither is known.
    pub fn available_memory(&self) -> Option<u64> {
        match (self.max_memory, crate::sys::available_memory()) {
            (Some(m), Some(a)) => Some(m.min(a)),
            (m, a) => m.or(a),
        }
    }

    /// Runs `f` on this context's threads: everything parallel inside it
    /// (merges, grid writes, shading) uses that many.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// Removes the temporary files of the writes under way, for a program
    /// that must end at once, without the unwinding that would remove them:
    /// the command line after a second signal, or when a cancelled run does
    /// not stop. Does nothing if another thread holds the list at that
    /// moment.
    pub fn remove_temporaries(&self) {
        if let Ok(list) = self.temporaries.try_lock() {
            for p in list.iter() {
                let _ = std::fs::remove_file(p);
            }
        }
    }

    /// Registers `path` for [`RunContext::remove_temporaries`] while the
    /// returned guard lives.
    pub(crate) fn temporary(&self, path: &Path) -> Temporary {
        let path = path.to_path_buf();
        if let Ok(mut list) = self.temporaries.lock() {
            list.push(path.clone());
        }
        Temporary {
            list: Arc::clone(&self.temporaries),
            path,
        }
    }
}

/// Checks a requested number of threads.
fn check_threads(n: usize) -> Result<usize> {
    match n {
        0 => Err(Error::request(format!(
            "{} must be at least 1",
            Param::Threads.mark()
        ))),
        n if n > MAX_THREADS => Err(Error::request(format!(
            "{} {n} is more than {MAX_THREADS}; use at most the number of cores",
            Param::Threads.mark()
        ))),
        n => Ok(n),
    }
}

/// A pool of `workers` threads named `densebin-N`.
pub(crate) fn pool(workers: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("densebin-{i}"))
        .build()
        .map_err(|e| {
            Error::request(format!(
                "cannot start {workers} threads: {e}; lower {}",
                Param::Threads.mark()
            ))
        })
}

/// A temporary file registered with its context while it lives.
pub(crate) struct Temporary {
    list: Arc<Mutex<Vec<PathBuf>>>,
    path: PathBuf,
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if let Ok(mut list) = self.list.lock()
            && let Some(i) = list.iter().position(|p| *p == self.path)
        {
            list.swap_remove(i);
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
        let ctx = RunContext::new();
        let ta = ctx.temporary(&a);
        let tb = ctx.temporary(&b);
        drop(tb);
        ctx.remove_temporaries();
        assert!(!a.exists(), "a registered temporary is removed");
        assert!(b.exists(), "a dropped registration removes nothing");
        drop(ta);
        std::fs::write(&a, "a again").unwrap();
        ctx.remove_temporaries();
        assert!(a.exists(), "nothing is removed once dropped");
    }

    #[test]
    fn contexts_do_not_share_cancellation_unless_asked() {
        let a = RunContext::new();
        let b = RunContext::new();
        a.cancel_token().cancel();
        assert!(matches!(a.check_cancelled(), Err(Error::Interrupted)));
        assert!(b.check_cancelled().is_ok());
        let c = RunContext::new().with_cancel(a.cancel_token().clone());
        assert!(c.check_cancelled().is_err(), "a shared token");
        assert!(a.clone().check_cancelled().is_err(), "clones share it");
    }

    #[test]
    fn threads_are_checked_and_installed() {
        let ctx = RunContext::new().with_threads(Some(3)).unwrap();
        assert_eq!(ctx.threads(), 3);
        assert!(ctx.threads_fixed());
        assert_eq!(ctx.install(rayon::current_num_threads), 3);
        assert!(!RunContext::new().threads_fixed());
        assert!(RunContext::new().with_threads(Some(0)).is_err());
        assert!(
            RunContext::new()
                .with_threads(Some(MAX_THREADS + 1))
                .is_err()
        );
    }

    #[test]
    fn memory_limit_caps_what_the_system_has() {
        let ctx = RunContext::new().with_max_memory(Some(1000));
        assert!(ctx.available_memory().is_some_and(|m| m <= 1000));
    }
}
