//! Planning a run before any point is binned: the layers the inputs can
//! feed, the ranges (scanned for when not given), the spec, the number of
//! workers, and the memory guard.

use super::accumulator::{Accumulator, SharedZhist};
use super::categories::SharedCategories;
use super::driver::{bin, data_bounds, total_bytes};
use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::grid::{Axis, AxisType, Categories, Grid, GridSpec, Layer, LayerSet, MAX_CATEGORIES};
use crate::param::Param;
use crate::read::{Bounds, ChunkQueue, Extent, PointSource};
use crate::sys::format_bytes;

/// The z range of a grid that nothing in it needs z for.
const NO_Z: (f64, f64) = (-0.5, 0.5);

/// A refused request with what to do appended; other errors as they are.
fn with_remedy(e: Error, remedy: String) -> Error {
    match e {
        Error::InvalidRequest(m) => Error::InvalidRequest(format!("{m}; {remedy}")),
        e => e,
    }
}

/// Checks that `workers` grids of `spec` fit in `available` bytes.
///
/// When they do not and the number of workers was not asked for
/// (`workers_fixed` false), fewer workers are used if even one grid fits;
/// returns the number of workers to use. Otherwise fails with a message that
/// names the flags that lower the need.
pub fn check_memory(
    spec: &GridSpec,
    workers: usize,
    workers_fixed: bool,
    available: Option<u64>,
) -> Result<usize> {
    let too_large = || {
        Error::OutOfMemory(format!(
            "a {}x{} grid is too large to address; lower {}/{}",
            spec.width(),
            spec.height(),
            Param::Width.mark(),
            Param::Height.mark()
        ))
    };
    let per_grid = Accumulator::bytes(spec).ok_or_else(too_large)?;
    let shared = shared_bytes(spec).ok_or_else(too_large)?;
    let Some(available) = available else {
        return Ok(workers);
    };
    let fits = (available.saturating_sub(shared) / per_grid.max(1)) as usize;
    if fits >= workers {
        return Ok(workers);
    }
    if !workers_fixed && fits >= 1 {
        return Ok(fits);
    }
    let layers = spec.layers();
    let mut hints = Vec::new();
    if let Some(z) = spec.zbins() {
        // A byte per bin per worker, besides the shared bins.
        let per_worker = shared / 4;
        hints.push(format!(
            "{} (the {}-bin zhist takes {} plus {} per worker)",
            Param::ZBins.mark(),
            z.len(),
            format_bytes(shared),
            format_bytes(per_worker)
        ));
    }
    hints.push(format!("{}/{}", Param::Width.mark(), Param::Height.mark()));
    if workers > 1 {
        hints.push(Param::Threads.mark().to_string());
    }
    if layers != LayerSet::count_only() {
        hints.push(format!("{} (now {layers})", Param::Layers.mark()));
    }
    let shared_note = if shared > 0 {
        format!(" and {} shared", format_bytes(shared))
    } else {
        String::new()
    };
    Err(Error::OutOfMemory(format!(
        "a {}x{} grid with layers {layers} needs {} per worker{shared_note}, {} for {workers} worker{}, \
         but {} of memory is available; lower {}",
        spec.width(),
        spec.height(),
        format_bytes(per_grid),
        format_bytes(
            per_grid
                .saturating_mul(workers as u64)
                .saturating_add(shared)
        ),
        if workers == 1 { "" } else { "s" },
        format_bytes(available),
        hints.join(", ")
    )))
}

/// Bytes the workers of a run over `spec` share: the z histogram's `u32`
/// bins and the planes of the categories it has so far.
fn shared_bytes(spec: &GridSpec) -> Option<u64> {
    let cats = spec.categories().map_or(0, |c| c.len() as u64);
    SharedZhist::bytes(spec)?.checked_add((spec.pixels() as u64).checked_mul(cats)?.checked_mul(4)?)
}

/// The most categories a run of `workers` over `spec` may find in
/// `available` bytes, besides its grids.
fn category_limit(spec: &GridSpec, workers: usize, available: Option<u64>) -> usize {
    let (Some(available), Some(grid), Some(shared)) =
        (available, Accumulator::bytes(spec), shared_bytes(spec))
    else {
        return MAX_CATEGORIES;
    };
    let left = available.saturating_sub(shared.saturating_add(grid.saturating_mul(workers as u64)));
    let per = SharedCategories::bytes_per_category(spec, workers).max(1);
    (left / per).min(MAX_CATEGORIES as u64) as usize
}

/// Everything `densebin bin` needs besides the inputs.
#[derive(Clone, Debug)]
pub struct BinRequest {
    /// Pixels across.
    pub width: usize,
    /// Pixels up.
    pub height: usize,
    /// The x range; `None` takes the finite bounds of the data.
    pub x_range: Option<(f64, f64)>,
    /// The y range; `None` takes the finite bounds of the data.
    pub y_range: Option<(f64, f64)>,
    /// How x maps onto pixels: linear, or log (datashader's
    /// `x_axis_type`); a log axis's range from the data is that of the
    /// positive values.
    pub x_axis: AxisType,
    /// How y maps onto pixels.
    pub y_axis: AxisType,
    /// The layers; `None` takes [`LayerSet::default_for`] the inputs.
    pub layers: Option<LayerSet>,
    /// Number of z-histogram bins.
    pub z_bins: usize,
    /// The z-histogram range; `None` takes the finite bounds of z.
    pub z_range: Option<(f64, f64)>,
    /// Bytes per chunk of input handed to a worker; `None` adapts to the
    /// input size (64 KiB to 4 MiB).
    pub chunk_size: Option<usize>,
    /// The categories `count_cat` counts, in this order; `None` counts
    /// those found in the data, in canonical order
    /// ([`crate::grid::Categories`]).
    pub categories: Option<Vec<String>>,
}

impl Default for BinRequest {
    fn default() -> BinRequest {
        BinRequest {
            width: 1000,
            height: 1000,
            x_range: None,
            y_range: None,
            x_axis: AxisType::Linear,
            y_axis: AxisType::Linear,
            layers: None,
            z_bins: BinRequest::DEFAULT_Z_BINS,
            z_range: None,
            chunk_size: None,
            categories: None,
        }
    }
}

/// What [`BinRequest::plan`] decided before binning.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The grid's spec.
    pub spec: GridSpec,
    /// Worker threads (and private grids).
    pub workers: usize,
    /// Bytes per chunk, when fixed by the request.
    pub chunk_size: Option<usize>,
    /// True when the input is large enough to touch most of every worker's
    /// grid (then the grids' memory is touched up front).
    pub dense: bool,
    /// The most categories `count_cat` may find: [`MAX_CATEGORIES`], or
    /// fewer when the memory left after the grids holds fewer planes.
    pub max_categories: usize,
    /// The x and y ranges (and the z range, when `z_declared`) are the
    /// bounds the inputs' headers state, not scanned: points outside them
    /// mean a header is wrong (see [`BinRequest::bin_planned`]).
    pub declared: bool,
    /// The z range is a header's too.
    pub z_declared: bool,
}

impl BinRequest {
    /// The default number of z-histogram bins.
    pub const DEFAULT_Z_BINS: usize = 32;

    /// Resolves layers, ranges (scanning the inputs when a range is
    /// missing), the spec and the number of workers, without binning.
    /// The threads and memory come from `ctx`.
    pub fn plan<S: PointSource>(&self, inputs: &mut [S], ctx: &RunContext) -> Result<Plan> {
        self.plan_with(inputs, ctx, true)
    }

    /// [`BinRequest::plan`], taking the bounds the inputs' headers state
    /// for the data's when `trust_headers`.
    fn plan_with<S: PointSource>(
        &self,
        inputs: &mut [S],
        ctx: &RunContext,
        trust_headers: bool,
    ) -> Result<Plan> {
        if inputs.is_empty() {
            return Err(Error::request("no inputs"));
        }
        let layers = self.layers_for(inputs)?;
        if self.width == 0 || self.height == 0 {
            return Err(Error::request(format!(
                "{} and {} must be at least 1",
                Param::Width.mark(),
                Param::Height.mark()
            )));
        }
        if layers.contains(Layer::ZHist) && self.z_bins == 0 {
            return Err(Error::request(format!(
                "{} must be at least 1",
                Param::ZBins.mark()
            )));
        }
        let threads = ctx.threads();
        // No more workers than chunks: a small input needs no 16 grids.
        let chunk_size = self
            .chunk_size
            .unwrap_or_else(|| ChunkQueue::chunk_size(inputs, threads));
        let chunks = total_bytes(inputs)
            .map(|t| t.div_ceil(chunk_size.max(1) as u64).max(1) as usize)
            .unwrap_or(threads);
        let workers = threads.min(chunks);

        let declared = trust_headers
            .then(|| self.declared_bounds(inputs, layers))
            .flatten();
        let [x_range, y_range, z_range] = match &declared {
            Some(b) => self.ranges_from_bounds(b, "")?,
            None => self.ranges_for(inputs, layers, workers, ctx)?,
        };
        let zhist = layers
            .contains(Layer::ZHist)
            .then_some((self.z_bins, z_range));
        let spec = GridSpec::new(self.width, self.height, x_range, y_range)
            .and_then(|s| s.with_axis_types(self.x_axis, self.y_axis))
            .map_err(|e| with_remedy(e, self.canvas_remedy(x_range)))?
            .with_layers(layers, zhist)
            .map_err(|e| {
                with_remedy(
                    e,
                    format!("check {} and {}", Param::ZBins.mark(), Param::ZRange.mark()),
                )
            })?;
        let spec = match &self.categories {
            Some(names) => spec.with_categories(Categories::fixed(names.clone())?)?,
            None => spec,
        };

        // Each extra worker costs a grid to fill and merge; on a small input
        // that costs more than the parsing it shares. Unless the threads were
        // asked for, another worker is added for every grid's worth of input
        // bytes (the 3 MB sample with an 81 MB worker grid gets one; 600 MB
        // of records with a 400 MB one, count and sum at 4000², get two).
        let fixed = ctx.threads_fixed();
        let workers = match (fixed, total_bytes(inputs), Accumulator::bytes(&spec)) {
            (false, Some(data), Some(grid)) => workers.min(1 + (data / grid.max(1)) as usize),
            _ => workers,
        };
        let workers = check_memory(&spec, workers, fixed, ctx.available_memory())?;
        let dense = match (total_bytes(inputs), Accumulator::bytes(&spec)) {
            (Some(data), Some(grid)) => data >= grid,
            _ => true,
        };
        let max_categories = category_limit(&spec, workers, ctx.available_memory());
        Ok(Plan {
            spec,
            workers,
            chunk_size: self.chunk_size,
            dense,
            max_categories,
            declared: declared.is_some(),
            z_declared: declared.is_some_and(|b| b.z.is_some()) && self.z_range.is_none(),
        })
    }

    /// The flags to check when [`GridSpec::new`] refuses this canvas: the
    /// size when it has too many pixels, else the axis that fails.
    fn canvas_remedy(&self, x_range: (f64, f64)) -> String {
        let pixels = self.width as u128 * self.height as u128;
        let (w, h) = (Param::Width.mark(), Param::Height.mark());
        if pixels > u128::from(GridSpec::MAX_PIXELS) {
            format!("lower {w}/{h}")
        } else if Axis::new(x_range.0, x_range.1, self.width).is_err() {
            format!("check {w} and {}", Param::XRange.mark())
        } else {
            format!("check {h} and {}", Param::YRange.mark())
        }
    }

    /// The requested (or default) layers, checked against the inputs'
    /// columns; inputs stop reading z when no layer needs it.
    /// Checks that the request fixes the canvas, as binning in parts
    /// ([`crate::read::open_part`]) needs: the grids of all parts must have
    /// one spec, and each part's own data would give it other ranges. So
    /// the x and y ranges must be given, and the z range when the layers
    /// (for `inputs`, a part's) hold a z histogram.
    pub fn check_fixed_canvas<S: PointSource>(&self, inputs: &mut [S]) -> Result<()> {
        let layers = self.layers_for(inputs)?;
        let mut missing = Vec::new();
        if self.x_range.is_none() {
            missing.push(Param::XRange.mark().to_string());
        }
        if self.y_range.is_none() {
            missing.push(Param::YRange.mark().to_string());
        }
        if layers.contains(Layer::ZHist) && self.z_range.is_none() {
            missing.push(Param::ZRange.mark().to_string());
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::request(format!(
            "binning in parts ({}) needs {}: the parts' grids must share one canvas, \
             and each part's own data would give it other ranges",
            Param::Part.mark(),
            missing.join(" and ")
        )))
    }

    fn layers_for<S: PointSource>(&self, inputs: &mut [S]) -> Result<LayerSet> {
        let all_z = inputs.iter().all(S::has_z);
        let mut layers = self.layers.unwrap_or_else(|| LayerSet::default_for(all_z));
        if inputs.iter().any(S::has_weight) {
            layers = layers.with(Layer::Weight);
        }
        if inputs.iter().any(S::has_category) {
            layers = layers.with(Layer::CountCat);
        }
        if layers.contains(Layer::CountCat)
            && let Some(input) = inputs.iter().find(|i| !i.has_category())
        {
            return Err(Error::request(format!(
                "{}: the count_cat layer needs a category column: name it with {}",
                input.info().name,
                Param::By.mark()
            )));
        }
        if self.categories.is_some() && !layers.contains(Layer::CountCat) {
            return Err(Error::request(format!(
                "{} fixes the categories of a category column: name one with {}",
                Param::Categories.mark(),
                Param::By.mark()
            )));
        }
        if layers.needs_z() {
            if let Some(input) = inputs.iter().find(|i| !i.has_z()) {
                return Err(Error::request(format!(
                    "{}: the layers {layers} need a z column and this input has none; \
                     name one with {} or choose {} count",
                    input.info().name,
                    Param::Z.mark(),
                    Param::Layers.mark()
                )));
            }
        } else {
            inputs.iter_mut().for_each(S::drop_z);
        }
        if layers.contains(Layer::Weight)
            && let Some(input) = inputs.iter().find(|i| !i.has_weight())
        {
            return Err(Error::request(format!(
                "{}: the weight layer needs a weight column: name it with {}",
                input.info().name,
                Param::Weight.mark()
            )));
        }
        Ok(layers)
    }

    /// The bounds the inputs' headers state, when every input states them
    /// and they can stand for the data's: x and y not given (so that any
    /// point outside them shows a header is wrong), positive on a log
    /// axis, and z's too when the z histogram needs a range.
    fn declared_bounds<S: PointSource>(&self, inputs: &[S], layers: LayerSet) -> Option<Bounds> {
        if self.x_range.is_some() || self.y_range.is_some() {
            return None;
        }
        let mut total = Bounds::default();
        for i in inputs {
            total.merge(i.declared_bounds()?);
        }
        let positive = |e: Option<Extent>, axis: AxisType| {
            e.is_some_and(|e| axis != AxisType::Log || e.lo > 0.0)
        };
        let need_z = layers.contains(Layer::ZHist) && self.z_range.is_none();
        (positive(total.x, self.x_axis)
            && positive(total.y, self.y_axis)
            && (!need_z || total.z.is_some()))
        .then_some(total)
    }

    /// The x, y and z ranges, in that order: as requested, or the data's finite bounds
    /// from a scan of the inputs when one is missing. The z range is only
    /// scanned for when the layers include `zhist`.
    fn ranges_for<S: PointSource>(
        &self,
        inputs: &[S],
        layers: LayerSet,
        workers: usize,
        ctx: &RunContext,
    ) -> Result<[(f64, f64); 3]> {
        let need_z = layers.contains(Layer::ZHist) && self.z_range.is_none();
        if let (Some(x), Some(y), false) = (self.x_range, self.y_range, need_z) {
            return Ok([x, y, self.z_range.unwrap_or(NO_Z)]);
        }
        if let Some(s) = inputs.iter().find(|i| i.is_stream()) {
            return Err(Error::request(format!(
                "{}: a stream can be read only once, so its ranges cannot be scanned first; \
                 give {} and {}{}",
                s.info().name,
                Param::XRange.mark(),
                Param::YRange.mark(),
                if need_z {
                    format!(" and {}", Param::ZRange.mark())
                } else {
                    String::new()
                }
            )));
        }
        let b = data_bounds(
            inputs,
            self.x_range,
            self.y_range,
            [self.x_axis, self.y_axis],
            workers,
            self.chunk_size,
            ctx,
        )?;
        let names = inputs
            .iter()
            .map(|i| i.info().name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        self.ranges_from_bounds(&b, &names)
    }

    /// The x, y and z ranges of this request given the data's `bounds`
    /// (found by [`data_bounds`] over every input, or merged from the
    /// bounds of parts of them): a range given is kept; one missing is
    /// the finite extent, widened by 0.5 on each side when it is a single
    /// value (half a decade on a log axis). Fails when x or y must come
    /// from data with no finite value; `names` names the inputs in that
    /// message.
    pub fn ranges_from_bounds(&self, b: &Bounds, names: &str) -> Result<[(f64, f64); 3]> {
        let no_finite = |axis: &str, range: Param, axis_type: AxisType| Error::EmptyInput {
            path: names.to_string(),
            what: format!(
                "no point has a {}finite {axis}, so no {axis} range can be derived; give {}",
                if axis_type == AxisType::Log {
                    "positive, "
                } else {
                    ""
                },
                range.mark()
            ),
        };
        let x = match self.x_range {
            Some(r) => r,
            None => {
                b.x.ok_or_else(|| no_finite("x", Param::XRange, self.x_axis))?
                    .range_on(self.x_axis)
            }
        };
        let y = match self.y_range {
            Some(r) => r,
            None => {
                b.y.ok_or_else(|| no_finite("y", Param::YRange, self.y_axis))?
                    .range_on(self.y_axis)
            }
        };
        // Without any finite z inside the canvas the histogram stays empty;
        // any range will do.
        let z = self.z_range.or(b.z.map(|e| e.range())).unwrap_or(NO_Z);
        Ok([x, y, z])
    }

    /// Plans and bins: the whole read → bin pipeline.
    pub fn run<S: PointSource>(&self, inputs: &mut [S], ctx: &RunContext) -> Result<Grid> {
        let plan = self.plan(inputs, ctx)?;
        self.bin_planned(inputs, plan, ctx)
    }

    /// Bins by `plan`. When its ranges are the bounds the inputs' headers
    /// state and points fell outside them (a header that is wrong), the
    /// data's own ranges are scanned for and the inputs binned again:
    /// a lying header costs two more passes, never a point.
    pub fn bin_planned<S: PointSource>(
        &self,
        inputs: &mut [S],
        plan: Plan,
        ctx: &RunContext,
    ) -> Result<Grid> {
        let grid = bin(inputs, &plan, ctx)?;
        let c = grid.counters();
        let outside = c.out_of_range > 0 || (plan.z_declared && c.z_clipped > 0);
        if !(plan.declared && outside) {
            return Ok(grid);
        }
        let plan = self.plan_with(inputs, ctx, false)?;
        bin(inputs, &plan, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::flag;

    #[test]
    fn memory_guard_names_the_flags() {
        let s = GridSpec::new(1000, 1000, (0.0, 1.0), (0.0, 1.0))
            .unwrap()
            .with_layers("count,zhist".parse().unwrap(), Some((32, (0.0, 1.0))))
            .unwrap();
        let per = Accumulator::bytes(&s).unwrap();
        let shared = SharedZhist::bytes(&s).unwrap();
        // A byte per count and per bin, and the u64 count, per worker; the
        // u32 bins once.
        assert_eq!(per, 1_000_000 * (1 + 32 + 8));
        assert_eq!(shared, 1_000_000 * 32 * 4);
        assert_eq!(
            check_memory(&s, 4, true, Some(shared + per * 4)).unwrap(),
            4
        );
        assert_eq!(
            check_memory(&s, 4, false, Some(shared + per * 2 + 1)).unwrap(),
            2
        );
        assert_eq!(check_memory(&s, 4, true, None).unwrap(), 4);
        let err = check_memory(&s, 4, true, Some(shared + per * 4 - 1))
            .unwrap_err()
            .render(flag);
        assert!(
            err.contains("--z-bins") && err.contains("--threads"),
            "{err}"
        );
        assert!(err.contains("4 workers"), "{err}");
        assert!(err.contains("122.1 MiB shared"), "{err}");
        let err = check_memory(&s, 1, false, Some(shared + per / 2))
            .unwrap_err()
            .render(flag);
        assert!(
            err.contains("--width/--height") && !err.contains("--threads"),
            "{err}"
        );
    }
}
