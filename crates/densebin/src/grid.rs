//! The canvas ([`GridSpec`]), the layer set, and the mergeable [`Grid`] of
//! per-pixel accumulators.
//!
//! A grid stores *bases* — counts, sums, extrema, histograms — never finished
//! values such as means, so that grids merge exactly (integer layers) or up
//! to rounding (float layers), and shading can finish them any way it likes.
//! Merging is a commutative monoid: [`Grid::empty`] is the identity and
//! [`Grid::merge`] refuses a grid of another spec.

use std::fmt;
use std::ops::AddAssign;
use std::str::FromStr;

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Zip};

use crate::error::{Error, Result};
use crate::param::Param;

/// One axis of the canvas: `len` pixels (or z bins) over `[lo, hi]`.
///
/// The mapping is datashader's `Canvas.points`: with `s = len / (hi - lo)`
/// and `t = -lo * s`, a value `v` with `lo <= v <= hi` lands in
/// `trunc(v * s + t)`, and `v == hi` (or anything that rounds to `len`) lands
/// in the last pixel. The multiply and the add are separate roundings (no
/// fused multiply-add), exactly as numpy computes them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    lo: f64,
    hi: f64,
    len: usize,
    s: f64,
    t: f64,
}

impl Axis {
    /// An axis of `len` pixels over `[lo, hi]`.
    ///
    /// Fails unless both ends are finite, `lo < hi`, `len >= 1`, and the
    /// scale `len / (hi - lo)` is a finite, non-zero number.
    pub fn new(lo: f64, hi: f64, len: usize) -> Result<Axis> {
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(Error::request(format!(
                "range {lo:?},{hi:?} must be finite"
            )));
        }
        if lo >= hi {
            return Err(Error::request(format!(
                "range {lo:?},{hi:?} is empty or inverted: the first value must be below the second"
            )));
        }
        if len == 0 {
            return Err(Error::request("a size of 0 pixels or bins is not allowed"));
        }
        if len > i32::MAX as usize {
            return Err(Error::request(format!(
                "{len} pixels or bins on one axis is more than the {} allowed",
                i32::MAX
            )));
        }
        let s = len as f64 / (hi - lo);
        let t = -lo * s;
        if !(s.is_finite() && s > 0.0 && t.is_finite()) {
            return Err(Error::request(format!(
                "range {lo:?},{hi:?} cannot be mapped onto {len} pixels in double precision"
            )));
        }
        Ok(Axis { lo, hi, len, s, t })
    }

    /// Lower end of the range.
    pub fn lo(&self) -> f64 {
        self.lo
    }

    /// Upper end of the range (included).
    pub fn hi(&self) -> f64 {
        self.hi
    }

    /// Number of pixels (or bins).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: an axis has at least one pixel.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Scale and translation `(s, t)` of the mapping `v * s + t`.
    pub fn scale_translate(&self) -> (f64, f64) {
        (self.s, self.t)
    }

    /// The pixel that `v` falls in, or `None` when `v` is outside
    /// `[lo, hi]` or NaN.
    #[inline]
    pub fn index(&self, v: f64) -> Option<usize> {
        self.contains(v).then(|| self.index_unchecked(v))
    }

    /// True when `lo <= v <= hi` (never for NaN).
    #[inline(always)]
    pub fn contains(&self, v: f64) -> bool {
        self.lo <= v && v <= self.hi
    }

    /// The bin of a finite `v`, clamping values below `lo` into the first
    /// bin and values above `hi` into the last (used for the z histogram).
    #[inline]
    pub fn index_clamped(&self, v: f64) -> usize {
        if v <= self.lo {
            0
        } else if v >= self.hi {
            self.len - 1
        } else {
            self.index_unchecked(v)
        }
    }

    /// The pixel of a `v` that [`Axis::contains`]; for other values any
    /// number below `len` (the binning kernel computes it before it knows).
    #[inline(always)]
    pub(crate) fn index_unchecked(&self, v: f64) -> usize {
        self.index_i32(v) as usize
    }

    /// The pixel of a `v` that [`Axis::contains`] as an `i32` (for other
    /// values any number in `0..len`), by a plain truncating conversion.
    #[inline(always)]
    pub(crate) fn index_i32(&self, v: f64) -> i32 {
        let f = self.position(v);
        // SAFETY: position() returns a finite value in [0, len - 1] for
        // every input — NaN and -inf land on 0, +inf on len - 1 (see its
        // selects) — and len <= i32::MAX (checked in Axis::new), so the
        // truncated value is representable in i32, which is all that
        // to_int_unchecked requires. What it buys: Rust's `as` conversion
        // saturates, and that kept the binning kernel's mapping loop from
        // vectorising; the plain conversion makes it 4x faster (2.7 -> 0.7
        // ns a point with AVX2, 4.0 -> 1.2 without; BENCHMARKS.md,
        // "mapping").
        unsafe { f.to_int_unchecked::<i32>() }
    }

    /// The pixel of `v` as a float in `[0, len - 1]` whose truncation is
    /// the pixel: the one formula of the mapping.
    ///
    /// `v >= lo` makes `v * s + t` non-negative (both products round the
    /// same way and `t` is exactly `-(lo * s)`); clamping it to
    /// `[0, len - 1]` before truncating is the same as truncating (the
    /// datashader `int()`) and then putting the upper edge into the last
    /// pixel. Done in floats, with selects, so that the binning kernel's
    /// mapping loop vectorises; NaN lands on 0.
    #[inline(always)]
    pub(crate) fn position(&self, v: f64) -> f64 {
        let f = v * self.s + self.t;
        let f = if f > 0.0 { f } else { 0.0 };
        let last = (self.len - 1) as f64;
        if f < last { f } else { last }
    }

    /// Centre of pixel `i`: `lo + (i + 0.5) / s`.
    pub fn centre(&self, i: usize) -> f64 {
        self.lo + (i as f64 + 0.5) / self.s
    }

    /// Centres of all pixels, lowest first.
    pub fn centres(&self) -> Vec<f64> {
        (0..self.len).map(|i| self.centre(i)).collect()
    }
}

/// One kind of per-pixel accumulator. `count` is always present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layer {
    /// Points per pixel (`count`).
    Count,
    /// Sum of finite z (`sum_z`), with `count_z` when some z are not finite.
    Sum,
    /// Smallest and largest finite z (`min_z`, `max_z`).
    MinMax,
    /// Sum of squared deviations of z (`m2_z`), for the standard deviation;
    /// implies [`Layer::Sum`].
    Std,
    /// Histogram of z over `z_bins` bins per pixel (`zhist`), what makes exact
    /// re-colouring under any colormap possible.
    ZHist,
    /// Sum of the weight column (`sum_w`).
    Weight,
}

impl Layer {
    /// Every layer, in canonical order.
    pub const ALL: [Layer; 6] = [
        Layer::Count,
        Layer::Sum,
        Layer::MinMax,
        Layer::Std,
        Layer::ZHist,
        Layer::Weight,
    ];

    /// The name used on the command line and in grid files.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Count => "count",
            Layer::Sum => "sum",
            Layer::MinMax => "minmax",
            Layer::Std => "std",
            Layer::ZHist => "zhist",
            Layer::Weight => "weight",
        }
    }

    /// True for the layers that accumulate z.
    pub fn needs_z(self) -> bool {
        matches!(self, Layer::Sum | Layer::MinMax | Layer::Std | Layer::ZHist)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of [`Layer`]s. Always holds [`Layer::Count`]; [`Layer::Std`] brings
/// [`Layer::Sum`] with it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LayerSet(u8);

impl LayerSet {
    /// Just `count`.
    pub const fn count_only() -> LayerSet {
        LayerSet(1)
    }

    /// The default for inputs with a z column: enough to re-shade the
    /// scatter picture under any colormap later (`count`, `sum`, `minmax`,
    /// `zhist`); without a z column, `count` alone.
    pub fn default_for(has_z: bool) -> LayerSet {
        let set = LayerSet::count_only();
        if has_z {
            set.with(Layer::Sum).with(Layer::MinMax).with(Layer::ZHist)
        } else {
            set
        }
    }

    /// This set plus `layer` (and what it implies).
    #[must_use]
    pub fn with(self, layer: Layer) -> LayerSet {
        let mut bits = self.0 | layer.bit();
        if layer == Layer::Std {
            bits |= Layer::Sum.bit();
        }
        LayerSet(bits)
    }

    /// The layers in either set.
    #[must_use]
    pub fn union(self, other: LayerSet) -> LayerSet {
        other.iter().fold(self, LayerSet::with)
    }

    /// The layers in both sets (with what they imply).
    #[must_use]
    pub fn intersection(self, other: LayerSet) -> LayerSet {
        self.iter()
            .filter(|l| other.contains(*l))
            .fold(LayerSet::count_only(), LayerSet::with)
    }

    /// True when `layer` is in the set.
    pub fn contains(self, layer: Layer) -> bool {
        self.0 & layer.bit() != 0
    }

    /// The layers in canonical order.
    pub fn iter(self) -> impl Iterator<Item = Layer> {
        Layer::ALL.into_iter().filter(move |l| self.contains(*l))
    }

    /// True when any layer accumulates z.
    pub fn needs_z(self) -> bool {
        self.iter().any(Layer::needs_z)
    }
}

impl fmt::Display for LayerSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Layer::name).collect();
        f.write_str(&names.join(","))
    }
}

impl fmt::Debug for LayerSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LayerSet({self})")
    }
}

impl FromStr for LayerSet {
    type Err = Error;

    /// Parses a comma-separated list such as `count,sum,zhist`.
    fn from_str(s: &str) -> Result<LayerSet> {
        let mut set = LayerSet::count_only();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let layer = Layer::ALL
                .into_iter()
                .find(|l| l.name().eq_ignore_ascii_case(part))
                .ok_or_else(|| {
                    let valid: Vec<&str> = Layer::ALL.iter().map(|l| l.name()).collect();
                    Error::request(format!(
                        "unknown layer {part:?}; valid layers: {}",
                        valid.join(", ")
                    ))
                })?;
            set = set.with(layer);
        }
        Ok(set)
    }
}

/// The shape of a grid: the canvas (size and ranges), the layers, and the z
/// bins of the histogram layer. Two grids merge only when their specs are
/// equal.
#[derive(Clone, Debug, PartialEq)]
pub struct GridSpec {
    x: Axis,
    y: Axis,
    layers: LayerSet,
    zbins: Option<Axis>,
}

impl GridSpec {
    /// The most pixels a grid may have: the binning kernel indexes pixels
    /// with 32 bits and keeps one value to mark dropped points.
    pub const MAX_PIXELS: u64 = u32::MAX as u64 - 1;

    /// A `width` × `height` canvas over `x_range` × `y_range` with just the
    /// `count` layer.
    pub fn new(
        width: usize,
        height: usize,
        x_range: (f64, f64),
        y_range: (f64, f64),
    ) -> Result<GridSpec> {
        if (width as u128) * (height as u128) > GridSpec::MAX_PIXELS as u128 {
            return Err(Error::request(format!(
                "a {width}x{height} canvas has more than the {} pixels a grid can index",
                GridSpec::MAX_PIXELS
            )));
        }
        let x = Axis::new(x_range.0, x_range.1, width)
            .map_err(|e| Error::request(format!("x: {e}")))?;
        let y = Axis::new(y_range.0, y_range.1, height)
            .map_err(|e| Error::request(format!("y: {e}")))?;
        Ok(GridSpec {
            x,
            y,
            layers: LayerSet::count_only(),
            zbins: None,
        })
    }

    /// This canvas with `layers`; `zhist` gives the number of z bins and the
    /// z range, and must be given exactly when `layers` holds
    /// [`Layer::ZHist`].
    pub fn with_layers(
        mut self,
        layers: LayerSet,
        zhist: Option<(usize, (f64, f64))>,
    ) -> Result<GridSpec> {
        self.zbins = match (layers.contains(Layer::ZHist), zhist) {
            (true, Some((bins, (lo, hi)))) => {
                Some(Axis::new(lo, hi, bins).map_err(|e| Error::request(format!("z bins: {e}")))?)
            }
            (true, None) => {
                return Err(Error::request(
                    "the zhist layer needs a number of z bins and a z range",
                ));
            }
            (false, _) => None,
        };
        self.layers = layers;
        Ok(self)
    }

    /// This spec with only the layers also in `layers` (for reading part
    /// of a grid file).
    #[must_use]
    pub fn subset(&self, layers: LayerSet) -> GridSpec {
        let layers = self.layers.intersection(layers);
        GridSpec {
            layers,
            zbins: self.zbins.filter(|_| layers.contains(Layer::ZHist)),
            ..self.clone()
        }
    }

    /// Pixels across.
    pub fn width(&self) -> usize {
        self.x.len
    }

    /// Pixels up.
    pub fn height(&self) -> usize {
        self.y.len
    }

    /// The x axis.
    pub fn x(&self) -> &Axis {
        &self.x
    }

    /// The y axis; row 0 is the bottom (lowest y).
    pub fn y(&self) -> &Axis {
        &self.y
    }

    /// The layers.
    pub fn layers(&self) -> LayerSet {
        self.layers
    }

    /// The z bins of the histogram layer, when there is one.
    pub fn zbins(&self) -> Option<&Axis> {
        self.zbins.as_ref()
    }

    /// `(row, column)` of the pixel that `(x, y)` falls in, or `None` when
    /// the point is outside the canvas or not finite.
    #[inline]
    pub fn pixel(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        Some((self.y.index(y)?, self.x.index(x)?))
    }

    /// Bytes one grid of this spec occupies (all layers, `count_z`
    /// included), or `None` when that does not fit in a `u64`.
    pub fn grid_bytes(&self) -> Option<u64> {
        let pixels = (self.width() as u64).checked_mul(self.height() as u64)?;
        let mut per_pixel: u64 = 8; // count
        if self.layers.contains(Layer::Sum) {
            per_pixel += 16; // sum_z, count_z
        }
        if self.layers.contains(Layer::Std) {
            per_pixel += 8;
        }
        if self.layers.contains(Layer::MinMax) {
            per_pixel += 16;
        }
        if self.layers.contains(Layer::Weight) {
            per_pixel += 8;
        }
        if let Some(z) = &self.zbins {
            per_pixel = per_pixel.checked_add((z.len as u64).checked_mul(4)?)?;
        }
        pixels.checked_mul(per_pixel)
    }

    /// A one-line description of the first difference from `other`, for
    /// merge errors.
    fn difference(&self, other: &GridSpec) -> String {
        let geometry = |s: &GridSpec| {
            format!(
                "{}x{} over x {},{} y {},{}",
                s.width(),
                s.height(),
                s.x.lo,
                s.x.hi,
                s.y.lo,
                s.y.hi
            )
        };
        if (self.x, self.y) != (other.x, other.y) {
            format!(
                "canvas {} vs {}; merge only grids binned with the same {}, {}, {} and {}",
                geometry(self),
                geometry(other),
                Param::Width.mark(),
                Param::Height.mark(),
                Param::XRange.mark(),
                Param::YRange.mark()
            )
        } else if self.layers != other.layers {
            format!(
                "layers {} vs {}; merge only grids binned with the same {}",
                self.layers,
                other.layers,
                Param::Layers.mark()
            )
        } else {
            let z = |s: &GridSpec| {
                s.zbins
                    .map(|a| format!("{} bins over {},{}", a.len, a.lo, a.hi))
                    .unwrap_or_default()
            };
            format!(
                "z histograms {} vs {}; merge only grids binned with the same {} and {}",
                z(self),
                z(other),
                Param::ZBins.mark(),
                Param::ZRange.mark()
            )
        }
    }
}

/// What happened to every point and line: nothing is dropped silently.
///
/// For every grid, `points_read == points_binned + nonfinite_xy +
/// out_of_range`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Points read from the inputs (records, or text lines with data).
    pub points_read: u64,
    /// Points that landed in a pixel.
    pub points_binned: u64,
    /// Points with a NaN or infinite x or y.
    pub nonfinite_xy: u64,
    /// Finite points outside the x or y range.
    pub out_of_range: u64,
    /// Binned points whose z is NaN or infinite (left out of every z layer).
    pub nonfinite_z: u64,
    /// Binned points whose weight is NaN or infinite (left out of `sum_w`).
    pub nonfinite_w: u64,
    /// Binned points whose finite z lies outside the histogram's z range
    /// (counted in its first or last bin).
    pub z_clipped: u64,
    /// Text lines without data: blank lines, comments, headers.
    pub lines_ignored: u64,
    /// Malformed text lines skipped because of `--skip-bad-lines`.
    pub bad_lines: u64,
}

impl Counters {
    /// The names and values, in a stable order (as stored in grid files).
    pub fn fields(&self) -> [(&'static str, u64); 9] {
        [
            ("points_read", self.points_read),
            ("points_binned", self.points_binned),
            ("nonfinite_xy", self.nonfinite_xy),
            ("out_of_range", self.out_of_range),
            ("nonfinite_z", self.nonfinite_z),
            ("nonfinite_w", self.nonfinite_w),
            ("z_clipped", self.z_clipped),
            ("lines_ignored", self.lines_ignored),
            ("bad_lines", self.bad_lines),
        ]
    }

    /// Sets the counter called `name`; false when there is none.
    pub fn set(&mut self, name: &str, value: u64) -> bool {
        let slot = match name {
            "points_read" => &mut self.points_read,
            "points_binned" => &mut self.points_binned,
            "nonfinite_xy" => &mut self.nonfinite_xy,
            "out_of_range" => &mut self.out_of_range,
            "nonfinite_z" => &mut self.nonfinite_z,
            "nonfinite_w" => &mut self.nonfinite_w,
            "z_clipped" => &mut self.z_clipped,
            "lines_ignored" => &mut self.lines_ignored,
            "bad_lines" => &mut self.bad_lines,
            _ => return false,
        };
        *slot = value;
        true
    }
}

impl AddAssign for Counters {
    fn add_assign(&mut self, o: Counters) {
        self.points_read += o.points_read;
        self.points_binned += o.points_binned;
        self.nonfinite_xy += o.nonfinite_xy;
        self.out_of_range += o.out_of_range;
        self.nonfinite_z += o.nonfinite_z;
        self.nonfinite_w += o.nonfinite_w;
        self.z_clipped += o.z_clipped;
        self.lines_ignored += o.lines_ignored;
        self.bad_lines += o.bad_lines;
    }
}

/// Where a grid's points came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputInfo {
    /// The path as given (`-` for standard input).
    pub name: String,
    /// Size in bytes, when known.
    pub size: Option<u64>,
    /// Modification time in seconds since the Unix epoch, when known.
    pub mtime: Option<i64>,
    /// Line numbers of the first malformed lines skipped (at most
    /// [`InputInfo::MAX_BAD_LINES`]).
    pub bad_lines: Vec<u64>,
}

impl InputInfo {
    /// How many skipped line numbers are kept per input.
    pub const MAX_BAD_LINES: usize = 5;
}

/// Per-pixel accumulators over a [`GridSpec`]: the reduction datashader
/// calls *create* ([`Grid::empty`]), *append* ([`Grid::append`]), *merge*
/// ([`Grid::merge`]) and *finalize* ([`Grid::mean_z`], [`Grid::std_z`]).
///
/// Every 2-D layer has shape `(height, width)` with row 0 at the bottom
/// (lowest y); the histogram has shape `(bins, height, width)`.
#[derive(Clone, PartialEq)]
pub struct Grid {
    pub(crate) spec: GridSpec,
    pub(crate) count: Array2<u64>,
    pub(crate) sum_z: Option<Array2<f64>>,
    /// Materialised only once a binned point has a non-finite z; until then
    /// it equals `count`.
    pub(crate) count_z: Option<Array2<u64>>,
    pub(crate) m2_z: Option<Array2<f64>>,
    pub(crate) min_z: Option<Array2<f64>>,
    pub(crate) max_z: Option<Array2<f64>>,
    pub(crate) zhist: Option<Array3<u32>>,
    pub(crate) sum_w: Option<Array2<f64>>,
    pub(crate) counters: Counters,
    pub(crate) inputs: Vec<InputInfo>,
}

impl fmt::Debug for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grid")
            .field("spec", &self.spec)
            .field("counters", &self.counters)
            .field("inputs", &self.inputs)
            .finish_non_exhaustive()
    }
}

impl Grid {
    /// An empty grid: the identity of [`Grid::merge`].
    pub fn empty(spec: GridSpec) -> Grid {
        let shape = (spec.height(), spec.width());
        let layers = spec.layers;
        let zeros = || Array2::<f64>::zeros(shape);
        Grid {
            count: Array2::zeros(shape),
            sum_z: layers.contains(Layer::Sum).then(zeros),
            count_z: None,
            m2_z: layers.contains(Layer::Std).then(zeros),
            min_z: layers
                .contains(Layer::MinMax)
                .then(|| Array2::from_elem(shape, f64::INFINITY)),
            max_z: layers
                .contains(Layer::MinMax)
                .then(|| Array2::from_elem(shape, f64::NEG_INFINITY)),
            zhist: spec
                .zbins
                .map(|z| Array3::zeros((z.len(), shape.0, shape.1))),
            sum_w: layers.contains(Layer::Weight).then(zeros),
            counters: Counters::default(),
            inputs: Vec::new(),
            spec,
        }
    }

    /// The spec this grid was made for.
    pub fn spec(&self) -> &GridSpec {
        &self.spec
    }

    /// What happened to the points.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The inputs whose points this grid holds.
    pub fn inputs(&self) -> &[InputInfo] {
        &self.inputs
    }

    /// Points per pixel.
    pub fn count(&self) -> ArrayView2<'_, u64> {
        self.count.view()
    }

    /// Sum of the finite z values per pixel.
    pub fn sum_z(&self) -> Option<ArrayView2<'_, f64>> {
        self.sum_z.as_ref().map(|a| a.view())
    }

    /// Points with a finite z per pixel (equal to [`Grid::count`] unless
    /// some z were NaN or infinite); present with the `sum` layer.
    pub fn count_z(&self) -> Option<ArrayView2<'_, u64>> {
        self.sum_z.as_ref()?;
        Some(self.count_z.as_ref().unwrap_or(&self.count).view())
    }

    /// True when `count_z` differs from `count` somewhere (and is stored).
    pub fn has_distinct_count_z(&self) -> bool {
        self.count_z.as_ref().is_some_and(|cz| cz != self.count)
    }

    /// Sum of squared deviations from the mean of z per pixel.
    pub fn m2_z(&self) -> Option<ArrayView2<'_, f64>> {
        self.m2_z.as_ref().map(|a| a.view())
    }

    /// Smallest finite z per pixel (`+inf` where there is none).
    pub fn min_z(&self) -> Option<ArrayView2<'_, f64>> {
        self.min_z.as_ref().map(|a| a.view())
    }

    /// Largest finite z per pixel (`-inf` where there is none).
    pub fn max_z(&self) -> Option<ArrayView2<'_, f64>> {
        self.max_z.as_ref().map(|a| a.view())
    }

    /// Histogram of z per pixel, shape `(bins, height, width)`.
    pub fn zhist(&self) -> Option<ArrayView3<'_, u32>> {
        self.zhist.as_ref().map(|a| a.view())
    }

    /// Sum of the weights per pixel.
    pub fn sum_w(&self) -> Option<ArrayView2<'_, f64>> {
        self.sum_w.as_ref().map(|a| a.view())
    }

    /// Mean z per pixel (NaN where no point has a finite z); needs `sum`.
    pub fn mean_z(&self) -> Option<Array2<f64>> {
        let sum = self.sum_z.as_ref()?;
        let n = self.count_z()?;
        Some(Zip::from(sum).and(n).map_collect(|&s, &n| s / n as f64))
    }

    /// Population standard deviation of z per pixel (NaN where no point
    /// has a finite z); needs `std`.
    pub fn std_z(&self) -> Option<Array2<f64>> {
        let m2 = self.m2_z.as_ref()?;
        let n = self.count_z()?;
        Some(Zip::from(m2).and(n).map_collect(|&m2, &n| {
            if n == 0 {
                f64::NAN
            } else {
                (m2.max(0.0) / n as f64).sqrt()
            }
        }))
    }

    /// Adds `other` into `self`: counts and sums add, extrema combine,
    /// `m2_z` combines by Chan's formula, counters add and inputs append.
    ///
    /// Fails, leaving `self` unchanged, when the specs differ or when an
    /// integer layer would overflow.
    pub fn merge(&mut self, other: &Grid) -> Result<()> {
        if self.spec != other.spec {
            return Err(Error::SpecMismatch(self.spec.difference(&other.spec)));
        }
        check_no_overflow("count", &self.count, &other.count)?;
        if let (Some(a), Some(b)) = (&self.zhist, &other.zhist) {
            check_no_overflow("zhist", a, b)?;
        }

        // m2 first: Chan's combination needs both sides' counts and sums.
        if let (Some(m2), Some(m2b)) = (&mut self.m2_z, &other.m2_z) {
            let (Some(sa), Some(sb)) = (&self.sum_z, &other.sum_z) else {
                unreachable!("the std layer implies the sum layer");
            };
            let na = self.count_z.as_ref().unwrap_or(&self.count);
            let nb = other.count_z.as_ref().unwrap_or(&other.count);
            Zip::from(m2)
                .and(m2b)
                .and(sa)
                .and(sb)
                .and(na)
                .and(nb)
                .par_for_each(|m2, &m2b, &sa, &sb, &na, &nb| {
                    *m2 = chan_combine(*m2, sa, na, m2b, sb, nb);
                });
        }
        if other.count_z.is_some() || self.count_z.is_some() {
            let nb = other.count_z.as_ref().unwrap_or(&other.count);
            let na = self.count_z.get_or_insert_with(|| self.count.clone());
            combine(na, nb, |a, b| *a += b);
        }
        combine(&mut self.count, &other.count, |a, b| *a += b);
        combine_opt(&mut self.sum_z, &other.sum_z, |a, b| *a += b);
        combine_opt(&mut self.sum_w, &other.sum_w, |a, b| *a += b);
        combine_opt(&mut self.zhist, &other.zhist, |a, b| *a += b);
        combine_opt(&mut self.min_z, &other.min_z, |a, b| *a = a.min(b));
        combine_opt(&mut self.max_z, &other.max_z, |a, b| *a = a.max(b));
        self.counters += other.counters;
        self.inputs.extend(other.inputs.iter().cloned());
        Ok(())
    }
}

/// Chan et al.'s pairwise combination of the sums of squared deviations of
/// two samples (`na` values summing to `sa` with `m2a`, and likewise `b`).
#[inline]
pub(crate) fn chan_combine(m2a: f64, sa: f64, na: u64, m2b: f64, sb: f64, nb: u64) -> f64 {
    if nb == 0 {
        m2a
    } else if na == 0 {
        m2b
    } else {
        let (na, nb) = (na as f64, nb as f64);
        let delta = sb / nb - sa / na;
        m2a + m2b + delta * delta * (na * nb / (na + nb))
    }
}

/// `f(a, b)` for every element of `a` and the same one of `b`, split over
/// the current rayon pool (merging is a pass over every layer of both
/// grids, and for large grids the largest cost after the points).
fn combine<T, D, F>(a: &mut ndarray::Array<T, D>, b: &ndarray::Array<T, D>, f: F)
where
    T: Copy + Send + Sync,
    D: ndarray::Dimension,
    F: Fn(&mut T, T) + Sync + Send,
{
    Zip::from(a).and(b).par_for_each(|a, &b| f(a, b));
}

/// [`combine`] for layers both grids may have (both have or both lack
/// them: the specs are equal).
fn combine_opt<T, D, F>(
    a: &mut Option<ndarray::Array<T, D>>,
    b: &Option<ndarray::Array<T, D>>,
    f: F,
) where
    T: Copy + Send + Sync,
    D: ndarray::Dimension,
    F: Fn(&mut T, T) + Sync + Send,
{
    if let (Some(a), Some(b)) = (a, b) {
        combine(a, b, f);
    }
}

fn check_no_overflow<T, D>(
    layer: &str,
    a: &ndarray::Array<T, D>,
    b: &ndarray::Array<T, D>,
) -> Result<()>
where
    T: Copy + Send + Sync + num_like::CheckedAdd,
    D: ndarray::Dimension,
{
    let overflow = Zip::from(a).and(b).par_fold(
        || false,
        |acc, &a, &b| acc | a.checked(b).is_none(),
        |x, y| x | y,
    );
    if overflow {
        Err(Error::Overflow(format!(
            "merging would overflow the {layer} layer's integer type; merge fewer grids into \
             each output"
        )))
    } else {
        Ok(())
    }
}

mod num_like {
    /// Checked addition for the integer layer types.
    pub trait CheckedAdd: Sized {
        fn checked(self, other: Self) -> Option<Self>;
    }
    impl CheckedAdd for u32 {
        fn checked(self, o: u32) -> Option<u32> {
            self.checked_add(o)
        }
    }
    impl CheckedAdd for u64 {
        fn checked(self, o: u64) -> Option<u64> {
            self.checked_add(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maps_edges_like_datashader() {
        let a = Axis::new(0.0, 10.0, 10).unwrap();
        assert_eq!(a.index(0.0), Some(0));
        assert_eq!(a.index(10.0), Some(9), "the upper edge is included");
        assert_eq!(
            a.index(1.0),
            Some(1),
            "an interior edge starts the next pixel"
        );
        assert_eq!(a.index(0.999_999), Some(0));
        assert_eq!(a.index(-1e-300), None);
        assert_eq!(a.index(10.000_000_1), None);
        assert_eq!(a.index(f64::NAN), None);
        assert_eq!(a.index(f64::INFINITY), None);
    }

    #[test]
    fn axis_uses_separate_multiply_and_add() {
        // 0.3 * 10 + 0 rounds differently from the exact product with some
        // ranges; check the formula itself rather than the real number line.
        let a = Axis::new(-0.7, 0.3, 10).unwrap();
        let (s, t) = a.scale_translate();
        for v in [-0.7, -0.6, -0.1, 0.0, 0.1, 0.2, 0.29, 0.3] {
            let expect = ((v * s + t).trunc() as usize).min(9);
            assert_eq!(a.index(v), Some(expect), "v = {v}");
        }
    }

    #[test]
    fn axis_centres() {
        let a = Axis::new(-1.0, 1.0, 4).unwrap();
        assert_eq!(a.centres(), vec![-0.75, -0.25, 0.25, 0.75]);
    }

    #[test]
    fn axis_clamps_for_histograms() {
        let a = Axis::new(0.0, 1.0, 4).unwrap();
        assert_eq!(a.index_clamped(-5.0), 0);
        assert_eq!(a.index_clamped(5.0), 3);
        assert_eq!(a.index_clamped(0.5), 2);
        assert_eq!(a.index_clamped(1.0), 3);
    }

    #[test]
    fn axis_rejects_bad_ranges() {
        assert!(Axis::new(1.0, 1.0, 4).is_err());
        assert!(Axis::new(2.0, 1.0, 4).is_err());
        assert!(Axis::new(f64::NAN, 1.0, 4).is_err());
        assert!(Axis::new(0.0, f64::INFINITY, 4).is_err());
        assert!(Axis::new(0.0, 1.0, 0).is_err());
        assert!(Axis::new(-1e308, 1e308, 4).is_err(), "hi - lo overflows");
        assert!(Axis::new(0.0, 1e-320, 4).is_err(), "scale overflows");
    }

    #[test]
    fn layer_sets_parse_and_print() {
        let s: LayerSet = "zhist, sum".parse().unwrap();
        assert_eq!(s.to_string(), "count,sum,zhist");
        let s: LayerSet = "std".parse().unwrap();
        assert!(s.contains(Layer::Sum), "std implies sum");
        assert!(s.needs_z());
        assert!(!LayerSet::count_only().needs_z());
        let err = "count,bogus".parse::<LayerSet>().unwrap_err().to_string();
        assert!(err.contains("bogus") && err.contains("zhist"), "{err}");
        assert_eq!(
            LayerSet::default_for(true).to_string(),
            "count,sum,minmax,zhist"
        );
        assert_eq!(LayerSet::default_for(false).to_string(), "count");
    }

    #[test]
    fn union_intersection_and_subset() {
        let a: LayerSet = "sum,zhist".parse().unwrap();
        let b: LayerSet = "std,zhist,weight".parse().unwrap();
        assert_eq!(a.union(b).to_string(), "count,sum,std,zhist,weight");
        assert_eq!(a.intersection(b).to_string(), "count,sum,zhist");
        let std_only: LayerSet = "std".parse().unwrap();
        assert_eq!(
            b.intersection(std_only).to_string(),
            "count,sum,std",
            "std keeps sum"
        );
        let spec = GridSpec::new(2, 2, (0.0, 1.0), (0.0, 1.0))
            .unwrap()
            .with_layers(a, Some((4, (0.0, 1.0))))
            .unwrap();
        let sub = spec.subset(LayerSet::count_only());
        assert_eq!(sub.layers(), LayerSet::count_only());
        assert!(sub.zbins().is_none());
        assert_eq!(
            spec.subset(b),
            spec,
            "std brings sum, so nothing is dropped"
        );
        let only_zhist = spec.subset("zhist".parse().unwrap());
        assert_eq!(only_zhist.layers().to_string(), "count,zhist");
        assert_eq!(only_zhist.zbins(), spec.zbins());
    }

    #[test]
    fn spec_requires_zhist_parameters() {
        let base = GridSpec::new(4, 3, (0.0, 1.0), (0.0, 1.0)).unwrap();
        let with_zhist = LayerSet::count_only().with(Layer::ZHist);
        assert!(base.clone().with_layers(with_zhist, None).is_err());
        let spec = base
            .clone()
            .with_layers(with_zhist, Some((8, (0.0, 2.0))))
            .unwrap();
        assert_eq!(spec.zbins().unwrap().len(), 8);
        assert_eq!(spec.grid_bytes(), Some(12 * (8 + 32)));
        // zhist parameters without the layer are ignored
        let spec = base
            .with_layers(LayerSet::count_only(), Some((8, (0.0, 2.0))))
            .unwrap();
        assert!(spec.zbins().is_none());
    }

    #[test]
    fn pixel_count_is_limited() {
        let err = GridSpec::new(usize::MAX, 2, (0.0, 1.0), (0.0, 1.0)).unwrap_err();
        assert!(
            err.to_string().contains("more than the 4294967294 pixels"),
            "{err}"
        );
        assert!(GridSpec::new(65536, 65535, (0.0, 1.0), (0.0, 1.0)).is_ok());
    }

    #[test]
    fn chan_combine_matches_direct_computation() {
        let a = [1.0, 2.0, 4.0];
        let b = [10.0, 11.0];
        let m2 = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            v.iter().map(|x| (x - m) * (x - m)).sum::<f64>()
        };
        let all: Vec<f64> = a.iter().chain(&b).copied().collect();
        let got = chan_combine(m2(&a), a.iter().sum(), 3, m2(&b), b.iter().sum(), 2);
        assert!((got - m2(&all)).abs() < 1e-12, "{got} vs {}", m2(&all));
        assert_eq!(chan_combine(5.0, 1.0, 2, 0.0, 0.0, 0), 5.0);
        assert_eq!(chan_combine(0.0, 0.0, 0, 5.0, 1.0, 2), 5.0);
    }

    #[test]
    fn merge_refuses_other_specs() {
        let a = GridSpec::new(4, 3, (0.0, 1.0), (0.0, 1.0)).unwrap();
        let b = GridSpec::new(4, 3, (0.0, 2.0), (0.0, 1.0)).unwrap();
        let mut g = Grid::empty(a.clone());
        let err = g.merge(&Grid::empty(b)).unwrap_err().to_string();
        assert!(err.contains("canvas"), "{err}");
        let c = a
            .clone()
            .with_layers(LayerSet::count_only().with(Layer::Sum), None)
            .unwrap();
        let err = g.merge(&Grid::empty(c)).unwrap_err().to_string();
        assert!(err.contains("layers count vs count,sum"), "{err}");
    }

    #[test]
    fn merge_detects_overflow_and_leaves_grid_unchanged() {
        let spec = GridSpec::new(2, 1, (0.0, 1.0), (0.0, 1.0)).unwrap();
        let mut a = Grid::empty(spec.clone());
        a.count[[0, 0]] = u64::MAX;
        let mut b = Grid::empty(spec);
        b.count[[0, 0]] = 1;
        b.count[[0, 1]] = 7;
        let before = a.clone();
        assert!(matches!(a.merge(&b), Err(Error::Overflow(_))));
        assert!(a == before);
    }

    #[test]
    fn merge_keeps_counts_above_u32() {
        let spec = GridSpec::new(1, 1, (0.0, 1.0), (0.0, 1.0)).unwrap();
        let mut a = Grid::empty(spec.clone());
        a.count[[0, 0]] = u32::MAX as u64;
        let mut b = Grid::empty(spec);
        b.count[[0, 0]] = u32::MAX as u64;
        a.merge(&b).unwrap();
        assert_eq!(a.count()[[0, 0]], 2 * u32::MAX as u64);
    }
}
