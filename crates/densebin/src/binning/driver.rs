//! The parallel driver: every worker folds the chunks it takes from the
//! queue into an accumulator of its own, then the accumulators merge; the
//! first error in input order wins, whatever the scheduling.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::accumulator::{Accumulator, SharedZhist};
use super::categories::SharedCategories;
use super::plan::Plan;
use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::grid::{AxisType, Grid, InputInfo};
use crate::read::{BadLine, Batch, Bounds, ChunkQueue, Dictionary, Extent, PointSource, Points};

/// What the readers counted per input.
#[derive(Debug, Default)]
struct InputTally {
    points_read: u64,
    lines_ignored: u64,
    bad_lines: u64,
    bad: Vec<BadLine>,
}

impl InputTally {
    fn add(&mut self, s: crate::read::ChunkStats) {
        self.points_read += s.points_read;
        self.lines_ignored += s.lines_ignored;
        self.bad_lines += s.bad_lines;
        self.bad.extend(s.bad);
    }
}

/// Runs `fold` over every chunk of `inputs` on every thread of `pool`, each
/// with its own accumulator from `make` and its own copy of the category
/// dictionary `categories`; returns the accumulators and the readers'
/// tallies per input. The first error in input order wins, so the
/// reported error does not depend on scheduling.
fn for_each_chunk<S, A, Make, Fold>(
    inputs: &[S],
    pool: &rayon::ThreadPool,
    chunk_size: Option<usize>,
    categories: &Dictionary,
    ctx: &RunContext,
    make: Make,
    fold: Fold,
) -> Result<(Vec<A>, Vec<InputTally>)>
where
    A: Send,
    Make: Fn() -> A + Sync,
    S: PointSource,
    Fold: Fn(&mut A, Batch<'_>) -> Result<()> + Sync,
{
    let size =
        chunk_size.unwrap_or_else(|| ChunkQueue::chunk_size(inputs, pool.current_num_threads()));
    let queue = ChunkQueue::new(inputs, size);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<((usize, u64), Error)>> = Mutex::new(None);
    let fail = |key: (usize, u64), e: Error| {
        failed.store(true, Ordering::Relaxed);
        let mut slot = first_error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(|(k, _)| key < *k) {
            *slot = Some((key, e));
        }
    };
    let has_z = inputs.iter().any(S::has_z);
    let has_w = inputs.iter().any(S::has_weight);
    let progress = ctx.progress();
    let work = || {
        let mut acc = make();
        let mut tallies: Vec<InputTally> = inputs.iter().map(|_| InputTally::default()).collect();
        let mut pts = Points::with_capacity(has_z, has_w);
        pts.categories = categories.clone();
        while !failed.load(Ordering::Relaxed) && ctx.check_cancelled().is_ok() {
            let chunk = match queue.next() {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    fail((usize::MAX, 0), e);
                    break;
                }
            };
            let input = &inputs[chunk.input];
            let mut sink = |b: Batch<'_>| fold(&mut acc, b);
            match input.read_chunk(&chunk, &mut pts, &mut sink) {
                Ok(stats) => tallies[chunk.input].add(stats),
                Err(e) => {
                    fail((chunk.input, e.offset), e.error);
                    break;
                }
            }
            if let Some(p) = progress {
                p.advance(chunk.size());
            }
        }
        (acc, tallies)
    };
    let results = pool.broadcast(|_| work());
    ctx.check_cancelled()?;
    inputs.iter().try_for_each(S::check_unchanged)?;
    if let Some((_, e)) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let mut tallies: Vec<InputTally> = inputs.iter().map(|_| InputTally::default()).collect();
    let mut accs = Vec::with_capacity(results.len());
    for (acc, t) in results {
        accs.push(acc);
        for (total, t) in tallies.iter_mut().zip(t) {
            total.points_read += t.points_read;
            total.lines_ignored += t.lines_ignored;
            total.bad_lines += t.bad_lines;
            total.bad.extend(t.bad);
        }
    }
    Ok((accs, tallies))
}

/// Reads every point of `inputs`, in order, on the calling thread, handing
/// `f` batches of at most [`BATCH`](crate::read::BATCH) points: for small
/// inputs, tests and fuzzing, where starting a pool of workers would cost
/// more than the reading. Stops at the first error, as [`bin`] does.
pub fn read_points<S: PointSource>(
    inputs: &[S],
    ctx: &RunContext,
    mut f: impl FnMut(Batch<'_>) -> Result<()>,
) -> Result<()> {
    let queue = ChunkQueue::new(inputs, 1 << 20);
    let mut pts = Points::default();
    while let Some(chunk) = queue.next()? {
        ctx.check_cancelled()?;
        inputs[chunk.input]
            .read_chunk(&chunk, &mut pts, &mut f)
            .map_err(|e| e.error)?;
    }
    inputs.iter().try_for_each(S::check_unchanged)
}

/// Scans the inputs once, in parallel, for the finite bounds of x and y and
/// the bounds of z within `x_range` × `y_range` (each `None` meaning
/// unbounded). On a log axis (`axis_types`) only points with a positive value
/// there count, as only they can be binned.
pub fn data_bounds<S: PointSource>(
    inputs: &[S],
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    axis_types: [AxisType; 2],
    workers: usize,
    chunk_size: Option<usize>,
    ctx: &RunContext,
) -> Result<Bounds> {
    if let Some(p) = ctx.progress() {
        p.begin("scanning ranges", total_bytes(inputs));
    }
    let inside = |v: f64, r: Option<(f64, f64)>| r.is_none_or(|(lo, hi)| lo <= v && v <= hi);
    let [x_log, y_log] = axis_types.map(|a| a == AxisType::Log);
    let (accs, _) = for_each_chunk(
        inputs,
        &crate::context::pool(workers)?,
        chunk_size,
        &Dictionary::ignoring(),
        ctx,
        Bounds::default,
        |b: &mut Bounds, pts: Batch<'_>| {
            for i in 0..pts.len() {
                let (x, y) = (pts.x[i], pts.y[i]);
                if !(x.is_finite() && y.is_finite()) || (x_log && x <= 0.0) || (y_log && y <= 0.0) {
                    continue;
                }
                Extent::add(&mut b.x, x);
                Extent::add(&mut b.y, y);
                if let Some(&z) = pts.z.get(i)
                    && z.is_finite()
                    && inside(x, x_range)
                    && inside(y, y_range)
                {
                    Extent::add(&mut b.z, z);
                }
            }
            Ok(())
        },
    )?;
    let mut total = Bounds::default();
    for b in accs {
        total.merge(b);
    }
    Ok(total)
}

pub(super) fn total_bytes<S: PointSource>(inputs: &[S]) -> Option<u64> {
    inputs.iter().map(S::data_len).sum()
}

/// Bins every point of `inputs` into a grid of `plan.spec`, with
/// `plan.workers` threads each folding chunks into a private grid, then
/// merging.
pub fn bin<S: PointSource>(inputs: &[S], plan: &Plan, ctx: &RunContext) -> Result<Grid> {
    let spec = &plan.spec;
    if let Some(p) = ctx.progress() {
        p.begin("binning", total_bytes(inputs));
    }
    let pool = crate::context::pool(plan.workers.max(1))?;
    let shared = SharedZhist::new(spec);
    let shared_categories = SharedCategories::new(spec, plan.max_categories);
    let dictionary = match spec.categories() {
        Some(c) if c.is_fixed() => Dictionary::fixed(c.names()),
        Some(_) => Dictionary::default(),
        None => Dictionary::ignoring(),
    };
    let (accumulators, tallies) = for_each_chunk(
        inputs,
        &pool,
        plan.chunk_size,
        &dictionary,
        ctx,
        || {
            Accumulator::new(
                spec.clone(),
                plan.dense,
                Arc::clone(&shared),
                Arc::clone(&shared_categories),
            )
        },
        |a: &mut Accumulator, pts: Batch<'_>| a.append(pts),
    )?;
    drop((shared, shared_categories));
    let merged = pool.install(|| Accumulator::merge_all(accumulators))?;
    let mut grid = merged.unwrap_or_else(|| Grid::empty(spec.clone()));
    let mut read = 0;
    for (input, tally) in inputs.iter().zip(tallies) {
        read += tally.points_read;
        grid.counters.lines_ignored += tally.lines_ignored + input.lines_before_data();
        grid.counters.bad_lines += tally.bad_lines;
        grid.inputs.push(InputInfo {
            bad_lines: input.bad_line_numbers(tally.bad),
            ..input.info().clone()
        });
    }
    debug_assert_eq!(read, grid.counters.points_read, "readers and kernel agree");
    debug_assert_eq!(
        grid.counters.points_read,
        grid.counters.points_binned + grid.counters.nonfinite_xy + grid.counters.out_of_range
    );
    Ok(grid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::flag;

    #[test]
    fn read_points_reads_every_point_in_order_or_fails() {
        let open = |text: &str| {
            let reader = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
            let opts = crate::read::ReadOptions::default();
            crate::read::Input::open_stream(reader, "t".into(), crate::read::Format::Text, &opts)
                .unwrap()
        };
        let text: String = (0..10_000).map(|i| format!("{i} 1 2\n")).collect();
        let mut xs = Vec::new();
        let ctx = RunContext::new();
        read_points(&[open(&text), open("-1 0 0\n")], &ctx, |p| {
            xs.extend_from_slice(p.x);
            Ok(())
        })
        .unwrap();
        let want: Vec<f64> = (0..10_000).map(f64::from).chain([-1.0]).collect();
        assert_eq!(xs, want);
        let err = read_points(&[open("1 2 3\n4 x 6\n")], &ctx, |_| Ok(())).unwrap_err();
        assert_eq!(
            err.render(flag),
            "t:2:3: expected a number, found \"x\"; fix the line, or skip such lines with \
             --skip-bad-lines"
        );
    }
}
