//! The run context: a cancelled run fails with `Interrupted` and leaves
//! nothing behind, and the next run in the same process, with a context of
//! its own, works as if nothing had happened.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use densebin::binning::BinRequest;
use densebin::read::{Input, ReadOptions};
use densebin::{CancelToken, Error, Progress, RunContext};

use crate::scenario::{Scenario, text_lines};

/// A progress sink that cancels the run once `after` bytes are done, as a
/// Ctrl-C in the middle of a run would.
struct CancelAfter {
    token: CancelToken,
    after: u64,
    done: AtomicU64,
}

impl Progress for CancelAfter {
    fn begin(&self, _phase: &str, _total: Option<u64>) {}
    fn advance(&self, bytes: u64) {
        if self.done.fetch_add(bytes, Ordering::Relaxed) + bytes >= self.after {
            self.token.cancel();
        }
    }
}

fn request() -> BinRequest {
    BinRequest {
        width: 40,
        height: 30,
        x_range: Some((0.0, 1.0)),
        y_range: Some((0.0, 1.0)),
        z_range: Some((0.0, 1.0)),
        chunk_size: Some(4096),
        ..BinRequest::default()
    }
}

#[test]
fn a_cancelled_run_is_followed_by_a_successful_one() {
    let s = Scenario::new();
    let pts: Vec<(f64, f64, f64)> = (0..20_000)
        .map(|i| {
            let u = (i as f64 * 0.618_033_988_75).fract();
            (u, (i as f64 / 20_000.0), 1.0 - u)
        })
        .collect();
    let path = s.write("p.txt", text_lines(&pts, " "));
    let open = || vec![Input::open(&path, &ReadOptions::default()).expect("open")];
    let out = s.path("g.h5");

    // Cancelled before it starts.
    let ctx = RunContext::new();
    ctx.cancel_token().cancel();
    let err = request().run(&mut open(), &ctx).unwrap_err();
    assert!(matches!(err, Error::Interrupted), "{err}");

    // Cancelled in the middle, on two threads, by whoever holds the token.
    let token = CancelToken::new();
    let sink = Arc::new(CancelAfter {
        token: token.clone(),
        after: 20_000,
        done: AtomicU64::new(0),
    });
    let ctx = RunContext::new()
        .with_threads(Some(2))
        .unwrap()
        .with_cancel(token)
        .with_progress(sink.clone());
    let err = request().run(&mut open(), &ctx).unwrap_err();
    assert!(matches!(err, Error::Interrupted), "{err}");
    let read = sink.done.load(Ordering::Relaxed);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(read < size, "stopped early: {read} of {size} bytes");

    // A write under a cancelled context leaves nothing. (One thread, here
    // and below: the grids are compared exactly, float sums included, and
    // with two workers which chunks each sums depends on the scheduling.)
    let one = || RunContext::new().with_threads(Some(1)).unwrap();
    let grid = request()
        .run(&mut open(), &one())
        .expect("a new context is not cancelled");
    let err = densebin::store::write_grid(&grid, &out, &ctx).unwrap_err();
    assert!(matches!(err, Error::Interrupted), "{err}");
    assert_eq!(
        std::fs::read_dir(s.path("")).unwrap().count(),
        1,
        "only p.txt"
    );

    // The next run in this process, with its own context, bins every point
    // and writes its grid.
    let ctx = one();
    let again = request()
        .run(&mut open(), &ctx)
        .expect("bin after a cancel");
    assert_eq!(again.counters().points_read, pts.len() as u64);
    assert!(again == grid, "the same grid as an uncancelled run");
    densebin::store::write_grid(&again, &out, &ctx).expect("write after a cancel");
    assert!(densebin::store::read_grid(&out).unwrap() == again);
}
