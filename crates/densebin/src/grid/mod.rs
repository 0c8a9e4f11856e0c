//! The canvas ([`GridSpec`]), the layers, and the mergeable [`Grid`] of
//! per-pixel accumulators.
//!
//! A grid stores *bases* — counts, sums, extrema, histograms — never finished
//! values such as means, so that grids merge exactly (integer layers) or up
//! to rounding (float layers), and shading can finish them any way it likes.
//! Merging is a commutative monoid: [`Grid::empty`] is the identity and
//! [`Grid::merge`] refuses a grid of another spec. What layers there are,
//! how they are stored and how they merge is the table in [`layers`].

mod axis;
mod categories;
mod counters;
pub mod layers;
mod spec;

use std::fmt;

use ndarray::{Array2, ArrayD, ArrayView2, ArrayView3, Ix2, Ix3, Zip};

pub use axis::{Axis, AxisType};
pub(crate) use categories::too_many as too_many_categories;
pub use categories::{Categories, MAX_CATEGORIES};
pub use counters::{Counters, InputInfo};
pub(crate) use layers::Elem;
pub use layers::{
    ArrayData, ArrayId, ArrayInfo, ArrayView, Layer, LayerSet, Merge, Presence, Shape,
};
pub use spec::GridSpec;

use crate::error::{Error, Result};

/// Per-pixel accumulators over a [`GridSpec`]: the reduction datashader
/// calls *create* ([`Grid::empty`]), *append* ([`Grid::append`]), *merge*
/// ([`Grid::merge`]) and *finalize* ([`Grid::mean_z`], [`Grid::std_z`]).
///
/// Every 2-D layer has shape `(height, width)` with row 0 at the bottom
/// (lowest y); the histogram has shape `(bins, height, width)`. The arrays
/// are those of the spec's layers ([`layers::ARRAYS`]); [`Grid::layers`]
/// yields them all.
#[derive(Clone, PartialEq)]
pub struct Grid {
    pub(crate) spec: GridSpec,
    /// By [`ArrayId`]; `None` for arrays of other layers, and for an array
    /// that still equals the one it is [`Presence::UntilDistinctFrom`].
    arrays: [Option<ArrayData>; ArrayId::COUNT],
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
        let mut arrays: [Option<ArrayData>; ArrayId::COUNT] = Default::default();
        for a in spec.layers().arrays() {
            if a.presence == Presence::Always {
                let shape = spec.array_shape(a);
                arrays[a.id as usize] = Some(ArrayData::filled(a.element, &shape, a.empty));
            }
        }
        Grid {
            spec,
            arrays,
            counters: Counters::default(),
            inputs: Vec::new(),
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

    /// Every array of the grid with what the table says about it, in
    /// [`ArrayId`] order: what a grid file stores. An array that still
    /// equals the one it is [`Presence::UntilDistinctFrom`] is left out.
    pub fn layers(&self) -> impl Iterator<Item = (&'static ArrayInfo, ArrayView<'_>)> {
        layers::ARRAYS.iter().filter_map(move |a| {
            let data = self.arrays[a.id as usize].as_ref()?;
            if let Presence::UntilDistinctFrom(base) = a.presence
                && self.arrays[base as usize].as_ref() == Some(data)
            {
                return None;
            }
            Some((a, data.view()))
        })
    }

    /// Array `id`, when the grid has it.
    pub fn array(&self, id: ArrayId) -> Option<ArrayView<'_>> {
        self.arrays[id as usize].as_ref().map(ArrayData::view)
    }

    /// A grid of `spec` rebuilt from its arrays — what [`Grid::layers`]
    /// yields, read back from a file or a pickle — and the account of its
    /// points. Fails unless every array belongs to the spec's layers and has
    /// the table's element type and the spec's shape, and every array the
    /// layers always have is there.
    pub fn from_arrays(
        spec: GridSpec,
        arrays: impl IntoIterator<Item = (ArrayId, ArrayData)>,
        counters: Counters,
        inputs: Vec<InputInfo>,
    ) -> Result<Grid> {
        let mut grid = Grid {
            spec,
            arrays: Default::default(),
            counters,
            inputs,
        };
        for (id, data) in arrays {
            grid.set_array(id, data)?;
        }
        let layers = grid.spec.layers();
        if let Some(a) = layers
            .arrays()
            .find(|a| a.presence == Presence::Always && !grid.has(a.id))
        {
            return Err(Error::request(format!(
                "array {} of the layers {layers} is missing",
                a.name
            )));
        }
        Ok(grid)
    }

    /// Puts `data` in as array `id`. Fails unless the array belongs to the
    /// spec's layers and has the table's element type and the spec's shape.
    pub(crate) fn set_array(&mut self, id: ArrayId, data: ArrayData) -> Result<()> {
        let a = id.info();
        let shape = self.spec.array_shape(a);
        if !self.spec.layers().arrays().any(|b| b.id == id) {
            return Err(Error::request(format!(
                "array {} is not part of the layers {}",
                a.name,
                self.spec.layers()
            )));
        }
        if data.element() != a.element || data.shape() != shape {
            return Err(Error::request(format!(
                "array {} must be {:?} of shape {shape:?}, not {:?} of shape {:?}",
                a.name,
                a.element,
                data.element(),
                data.shape()
            )));
        }
        self.arrays[id as usize] = Some(data);
        Ok(())
    }

    /// Array `id` as values of type `T`.
    pub(crate) fn typed<T: Elem>(&self, id: ArrayId) -> Option<&ArrayD<T>> {
        self.arrays[id as usize].as_ref().and_then(T::of)
    }

    /// Array `id` as a flat, mutable slice of `T` (grids are in standard
    /// layout).
    pub(crate) fn flat_mut<T: Elem>(&mut self, id: ArrayId) -> Option<&mut [T]> {
        flat(self.arrays[id as usize].as_mut())
    }

    /// Several arrays at once, mutably (they must be distinct).
    pub(crate) fn arrays_mut<const N: usize>(
        &mut self,
        ids: [ArrayId; N],
    ) -> [Option<&mut ArrayData>; N] {
        self.arrays
            .get_disjoint_mut(ids.map(|i| i as usize))
            .expect("distinct arrays")
            .map(Option::as_mut)
    }

    /// True when the grid holds array `id` (apart from its base).
    pub(crate) fn has(&self, id: ArrayId) -> bool {
        self.arrays[id as usize].is_some()
    }

    /// Takes array `id` out of the grid.
    pub(crate) fn take_array(&mut self, id: ArrayId) -> Option<ArrayData> {
        self.arrays[id as usize].take()
    }

    /// Puts a copy of `base` in as array `id`, which equalled it until now
    /// ([`Presence::UntilDistinctFrom`]).
    pub(crate) fn materialise(&mut self, id: ArrayId, base: ArrayId) {
        if self.arrays[id as usize].is_none() {
            self.arrays[id as usize] = self.arrays[base as usize].clone();
        }
    }

    fn plane<T: Elem>(&self, id: ArrayId) -> Option<ArrayView2<'_, T>> {
        let a = self.typed::<T>(id)?;
        Some(a.view().into_dimensionality::<Ix2>().expect("a plane"))
    }

    /// Points per pixel.
    pub fn count(&self) -> ArrayView2<'_, u64> {
        self.plane(ArrayId::Count).expect("every grid counts")
    }

    /// Points per pixel, mutably (for tests that stage a grid).
    #[cfg(test)]
    pub(crate) fn count_mut(&mut self) -> ndarray::ArrayViewMut2<'_, u64> {
        let a = self.arrays[ArrayId::Count as usize].as_mut();
        let a = a.and_then(u64::of_mut).expect("every grid counts");
        a.view_mut().into_dimensionality::<Ix2>().expect("a plane")
    }

    /// Sum of the finite z values per pixel.
    pub fn sum_z(&self) -> Option<ArrayView2<'_, f64>> {
        self.plane(ArrayId::SumZ)
    }

    /// Points with a finite z per pixel (equal to [`Grid::count`] unless
    /// some z were NaN or infinite); present with the `sum` layer.
    pub fn count_z(&self) -> Option<ArrayView2<'_, u64>> {
        self.sum_z()?;
        self.plane(ArrayId::CountZ).or_else(|| Some(self.count()))
    }

    /// True when `count_z` differs from `count` somewhere (and is stored).
    pub fn has_distinct_count_z(&self) -> bool {
        self.plane::<u64>(ArrayId::CountZ)
            .is_some_and(|cz| cz != self.count())
    }

    /// Sum of squared deviations from the mean of z per pixel.
    pub fn m2_z(&self) -> Option<ArrayView2<'_, f64>> {
        self.plane(ArrayId::M2Z)
    }

    /// Smallest finite z per pixel (`+inf` where there is none).
    pub fn min_z(&self) -> Option<ArrayView2<'_, f64>> {
        self.plane(ArrayId::MinZ)
    }

    /// Largest finite z per pixel (`-inf` where there is none).
    pub fn max_z(&self) -> Option<ArrayView2<'_, f64>> {
        self.plane(ArrayId::MaxZ)
    }

    /// Histogram of z per pixel, shape `(bins, height, width)`.
    pub fn zhist(&self) -> Option<ArrayView3<'_, u32>> {
        let a = self.typed::<u32>(ArrayId::ZHist)?;
        Some(
            a.view()
                .into_dimensionality::<Ix3>()
                .expect("a 3-D histogram"),
        )
    }

    /// Sum of the weights per pixel.
    pub fn sum_w(&self) -> Option<ArrayView2<'_, f64>> {
        self.plane(ArrayId::SumW)
    }

    /// Mean z per pixel (NaN where no point has a finite z); needs `sum`.
    pub fn mean_z(&self) -> Option<Array2<f64>> {
        let sum = self.sum_z()?;
        let n = self.count_z()?;
        Some(Zip::from(sum).and(n).map_collect(|&s, &n| s / n as f64))
    }

    /// Population standard deviation of z per pixel (NaN where no point
    /// has a finite z); needs `std`.
    pub fn std_z(&self) -> Option<Array2<f64>> {
        let m2 = self.m2_z()?;
        let n = self.count_z()?;
        Some(Zip::from(m2).and(n).map_collect(|&m2, &n| {
            if n == 0 {
                f64::NAN
            } else {
                (m2.max(0.0) / n as f64).sqrt()
            }
        }))
    }

    /// Adds `other` into `self`, array by array as the table says
    /// ([`Merge`]): counts and sums add, extrema combine, `m2_z` combines by
    /// Chan's formula; counters add and inputs append.
    ///
    /// Fails, leaving `self` unchanged, when the specs differ or when an
    /// integer layer would overflow.
    pub fn merge(&mut self, other: &Grid) -> Result<()> {
        if !self.spec.same_but_categories(&other.spec) {
            return Err(Error::SpecMismatch(self.spec.difference(&other.spec)));
        }
        // Categories merge by name over the union of both grids' (below).
        let union = match (self.spec.categories(), other.spec.categories()) {
            (Some(a), Some(b)) => Some(a.union(b)?),
            _ => None,
        };
        if let Some(union) = &union {
            self.check_categories_add(other, union)?;
        }
        let arrays: Vec<&ArrayInfo> = self
            .spec
            .layers()
            .arrays()
            .filter(|a| a.shape != Shape::PerCategory)
            .collect();
        // Nothing changes unless everything can be added.
        for a in &arrays {
            let lazy = a.presence != Presence::Always;
            let absent = |g: &Grid| g.arrays[a.id as usize].is_none();
            if a.merge != Merge::Add || (lazy && absent(self) && absent(other)) {
                continue;
            }
            if let (Some(x), Some(y)) = (self.or_base(a.id), other.or_base(a.id)) {
                check_no_overflow(a.name, x, y)?;
            }
        }
        // An array that one side holds apart from its base (count_z) is
        // held apart on this side too, from this side's base as it is.
        for a in &arrays {
            if let Presence::UntilDistinctFrom(base) = a.presence
                && other.arrays[a.id as usize].is_some()
            {
                self.materialise(a.id, base);
            }
        }
        // Chan's combination first: it needs both sides' counts and sums
        // as they were.
        for a in arrays.iter().filter(|a| a.merge == Merge::Chan) {
            self.chan(a.id, other);
        }
        for a in arrays.iter().filter(|a| a.merge != Merge::Chan) {
            let Some(ours) = self.arrays[a.id as usize].as_mut() else {
                continue; // absent on both sides: it equals its base
            };
            let theirs = other
                .or_base(a.id)
                .expect("equal specs have the same arrays");
            combine(ours, theirs, a.merge);
        }
        if let Some(union) = union {
            self.add_categories(other, union);
        }
        self.counters += other.counters;
        self.inputs.extend(other.inputs.iter().cloned());
        Ok(())
    }

    /// Array `id`, or the array it equals while it is absent.
    fn or_base(&self, id: ArrayId) -> Option<&ArrayData> {
        let of_spec = || self.spec.layers().arrays().any(|a| a.id == id);
        match (&self.arrays[id as usize], id.info().presence) {
            (Some(a), _) => Some(a),
            (None, Presence::UntilDistinctFrom(base)) if of_spec() => {
                self.arrays[base as usize].as_ref()
            }
            _ => None,
        }
    }

    /// Chan's combination of array `id` (`m2_z`) with `other`'s, from both
    /// grids' sums and counts of finite z.
    fn chan(&mut self, id: ArrayId, other: &Grid) {
        let (Some(m2b), Some(sb), Some(nb)) = (
            other.typed::<f64>(id),
            other.typed::<f64>(ArrayId::SumZ),
            other.or_base(ArrayId::CountZ).and_then(u64::of),
        ) else {
            unreachable!("the std layer implies the sum layer");
        };
        let [m2, sa, cz, count] =
            self.arrays_mut([id, ArrayId::SumZ, ArrayId::CountZ, ArrayId::Count]);
        let na = cz.or(count).and_then(|a| u64::of(a));
        let (Some(m2), Some(sa), Some(na)) =
            (m2.and_then(f64::of_mut), sa.and_then(|a| f64::of(a)), na)
        else {
            unreachable!("the std layer implies the sum layer");
        };
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
}

/// An array's values as a flat, mutable slice of `T`.
pub(crate) fn flat<T: Elem>(a: Option<&mut ArrayData>) -> Option<&mut [T]> {
    a.and_then(T::of_mut)
        .map(|a| a.as_slice_mut().expect("grids are in standard layout"))
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

/// `ours ∘ theirs` element by element by `rule`, split over the current
/// rayon pool (merging is a pass over every layer of both grids, and for
/// large grids the largest cost after the points).
fn combine(ours: &mut ArrayData, theirs: &ArrayData, rule: Merge) {
    fn zip<T: Elem>(a: &mut ArrayD<T>, b: &ArrayD<T>, f: impl Fn(&mut T, T) + Sync + Send) {
        Zip::from(a).and(b).par_for_each(|a, &b| f(a, b));
    }
    match (ours, theirs, rule) {
        (ArrayData::U32(a), ArrayData::U32(b), Merge::Add) => zip(a, b, |a, b| *a += b),
        (ArrayData::U64(a), ArrayData::U64(b), Merge::Add) => zip(a, b, |a, b| *a += b),
        (ArrayData::F64(a), ArrayData::F64(b), Merge::Add) => zip(a, b, |a, b| *a += b),
        (ArrayData::F64(a), ArrayData::F64(b), Merge::Min) => zip(a, b, |a, b| *a = a.min(b)),
        (ArrayData::F64(a), ArrayData::F64(b), Merge::Max) => zip(a, b, |a, b| *a = a.max(b)),
        (_, _, rule) => unreachable!("no {rule:?} merge for this element type in the table"),
    }
}

/// Fails when adding the integer arrays `a` and `b` would overflow.
fn check_no_overflow(layer: &str, a: &ArrayData, b: &ArrayData) -> Result<()> {
    fn any<T: Elem>(
        a: &ArrayD<T>,
        b: &ArrayD<T>,
        over: impl Fn(T, T) -> bool + Sync + Send,
    ) -> bool {
        Zip::from(a)
            .and(b)
            .par_fold(|| false, |acc, &a, &b| acc | over(a, b), |x, y| x | y)
    }
    let overflow = match (a, b) {
        (ArrayData::U32(a), ArrayData::U32(b)) => any(a, b, |a, b| a.checked_add(b).is_none()),
        (ArrayData::U64(a), ArrayData::U64(b)) => any(a, b, |a, b| a.checked_add(b).is_none()),
        _ => false,
    };
    if overflow {
        Err(Error::Overflow(format!(
            "merging would overflow the {layer} layer's integer type; merge fewer grids into \
             each output"
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        a.count_mut()[[0, 0]] = u64::MAX;
        let mut b = Grid::empty(spec);
        b.count_mut()[[0, 0]] = 1;
        b.count_mut()[[0, 1]] = 7;
        let before = a.clone();
        assert!(matches!(a.merge(&b), Err(Error::Overflow(_))));
        assert!(a == before);
    }

    #[test]
    fn grids_rebuild_from_their_arrays_and_only_whole_ones() {
        let layers: LayerSet = "count,sum,zhist".parse().unwrap();
        let spec = GridSpec::new(3, 2, (0.0, 1.0), (0.0, 1.0))
            .unwrap()
            .with_layers(layers, Some((4, (0.0, 1.0))))
            .unwrap();
        let mut g = Grid::empty(spec.clone());
        g.count_mut()[[1, 2]] = 5;
        g.counters.points_read = 5;
        let arrays = || {
            g.layers()
                .map(|(a, v)| (a.id, v.to_owned()))
                .collect::<Vec<_>>()
        };
        let back = Grid::from_arrays(spec.clone(), arrays(), g.counters, vec![]).unwrap();
        assert!(back == g);
        let without_zhist = arrays().into_iter().filter(|(id, _)| *id != ArrayId::ZHist);
        let err = Grid::from_arrays(spec.clone(), without_zhist, g.counters, vec![]);
        assert!(err.unwrap_err().to_string().contains("array zhist"));
        let wrong = [(
            ArrayId::Count,
            ArrayData::F64(ndarray::ArrayD::zeros(vec![2, 3])),
        )];
        assert!(Grid::from_arrays(spec.clone(), wrong, g.counters, vec![]).is_err());
        let foreign = [(
            ArrayId::SumW,
            ArrayData::F64(ndarray::ArrayD::zeros(vec![2, 3])),
        )];
        assert!(Grid::from_arrays(spec, foreign, g.counters, vec![]).is_err());
    }

    #[test]
    fn merge_keeps_counts_above_u32() {
        let spec = GridSpec::new(1, 1, (0.0, 1.0), (0.0, 1.0)).unwrap();
        let mut a = Grid::empty(spec.clone());
        a.count_mut()[[0, 0]] = u32::MAX as u64;
        let mut b = Grid::empty(spec);
        b.count_mut()[[0, 0]] = u32::MAX as u64;
        a.merge(&b).unwrap();
        assert_eq!(a.count()[[0, 0]], 2 * u32::MAX as u64);
    }
}
