//! The one table of layers.
//!
//! A *layer* is what a user asks for (layers `count,sum`); it is stored
//! as one or more *arrays* (`sum` is `sum_z`, with `count_z` once some z
//! is not finite). Everything that depends on which layers exist comes
//! from the two tables here, [`LAYERS`] and [`ARRAYS`]: parsing layer
//! sets, the grid's storage and accessors ([`crate::Grid::layers`]), the
//! merge, the memory a grid needs, the grid file's writer and reader, and
//! the checks on what a file holds. Adding a layer means a row in each
//! table, its accumulate step in the binning kernel, and what shading
//! makes of it.
//!
//! | layer | arrays | element | shape | empty | merge | needs | counters |
//! |---|---|---|---|---|---|---|---|
//! | `count` | `count` | u64 | (H, W) | 0 | + | x, y | points_read, points_binned, nonfinite_xy, out_of_range |
//! | `sum` | `sum_z`, `count_z` (stored when it differs from `count`) | f64, u64 | (H, W) | 0 | + | z | nonfinite_z |
//! | `minmax` | `min_z`, `max_z` | f64 | (H, W) | +inf, -inf | min, max | z | nonfinite_z |
//! | `std` | `m2_z` (and `sum`) | f64 | (H, W) | 0 | Chan et al. | z | nonfinite_z |
//! | `zhist` | `zhist` | u32 | (K, H, W) | 0 | + | z | nonfinite_z, z_clipped |
//! | `weight` | `sum_w` | f64 | (H, W) | 0 | + | weight | nonfinite_w |
//! | `count_cat` | `count_cat` | u32 | (C, H, W) | 0 | + over the union of categories | category | uncategorised |

use std::fmt;
use std::str::FromStr;

use ndarray::{ArrayD, ArrayViewD};

use crate::error::{Error, Result};

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
    /// Points per category per pixel (`count_cat`), datashader's
    /// `by(column, count())`.
    CountCat,
}

/// The column a layer reads besides x and y.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Needs {
    /// Nothing but x and y.
    Nothing,
    /// The z column.
    Z,
    /// The weight column.
    Weight,
    /// The category column.
    Category,
}

/// What the table says about one layer.
#[derive(Debug)]
#[non_exhaustive]
pub struct LayerInfo {
    /// The layer.
    pub layer: Layer,
    /// Its name on the command line, in Python and in grid files.
    pub name: &'static str,
    /// The arrays it is stored as.
    pub arrays: &'static [ArrayId],
    /// Layers it brings with it.
    pub implies: &'static [Layer],
    /// The column it reads.
    pub needs: Needs,
    /// The [`crate::Counters`] its accumulate step adds to.
    pub counters: &'static [&'static str],
}

/// Every layer, in canonical order (the order of `Layer`'s variants).
pub static LAYERS: [LayerInfo; 7] = [
    LayerInfo {
        layer: Layer::Count,
        name: "count",
        arrays: &[ArrayId::Count],
        implies: &[],
        needs: Needs::Nothing,
        counters: &[
            "points_read",
            "points_binned",
            "nonfinite_xy",
            "out_of_range",
        ],
    },
    LayerInfo {
        layer: Layer::Sum,
        name: "sum",
        arrays: &[ArrayId::SumZ, ArrayId::CountZ],
        implies: &[],
        needs: Needs::Z,
        counters: &["nonfinite_z"],
    },
    LayerInfo {
        layer: Layer::MinMax,
        name: "minmax",
        arrays: &[ArrayId::MinZ, ArrayId::MaxZ],
        implies: &[],
        needs: Needs::Z,
        counters: &["nonfinite_z"],
    },
    LayerInfo {
        layer: Layer::Std,
        name: "std",
        arrays: &[ArrayId::M2Z],
        implies: &[Layer::Sum],
        needs: Needs::Z,
        counters: &["nonfinite_z"],
    },
    LayerInfo {
        layer: Layer::ZHist,
        name: "zhist",
        arrays: &[ArrayId::ZHist],
        implies: &[],
        needs: Needs::Z,
        counters: &["nonfinite_z", "z_clipped"],
    },
    LayerInfo {
        layer: Layer::Weight,
        name: "weight",
        arrays: &[ArrayId::SumW],
        implies: &[],
        needs: Needs::Weight,
        counters: &["nonfinite_w"],
    },
    LayerInfo {
        layer: Layer::CountCat,
        name: "count_cat",
        arrays: &[ArrayId::CountCat],
        implies: &[],
        needs: Needs::Category,
        counters: &["uncategorised"],
    },
];

/// The element type of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Element {
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `f64`.
    F64,
}

impl Element {
    /// Bytes per value.
    pub fn size(self) -> u64 {
        match self {
            Element::U32 => 4,
            Element::U64 | Element::F64 => 8,
        }
    }
}

/// The shape of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// One value per pixel: `(height, width)`, row 0 at the bottom.
    Plane,
    /// One value per z bin and pixel: `(z_bins, height, width)`.
    PerZBin,
    /// One value per category and pixel: `(categories, height, width)`.
    PerCategory,
}

/// How the values of two grids combine in [`crate::Grid::merge`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Merge {
    /// They add (integers are checked for overflow first).
    Add,
    /// The smaller one.
    Min,
    /// The larger one.
    Max,
    /// Chan et al.'s pairwise combination of sums of squared deviations,
    /// from both grids' `sum_z` and `count_z`.
    Chan,
}

/// When an array exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Presence {
    /// Whenever its layer is in the grid.
    Always,
    /// Only once it differs from this array, which it equals until then
    /// (`count_z`, until a binned point has a z that is not finite);
    /// grid files hold it only where it differs.
    UntilDistinctFrom(ArrayId),
}

/// The arrays of all layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ArrayId {
    /// Points per pixel.
    Count,
    /// Sum of finite z.
    SumZ,
    /// Points with a finite z.
    CountZ,
    /// Sum of squared deviations from the mean of z.
    M2Z,
    /// Smallest finite z.
    MinZ,
    /// Largest finite z.
    MaxZ,
    /// Sum of finite weights.
    SumW,
    /// Points per z bin.
    ZHist,
    /// Points per category.
    CountCat,
}

impl ArrayId {
    /// How many arrays there are.
    pub const COUNT: usize = ARRAYS.len();

    /// What the table says about this array.
    pub fn info(self) -> &'static ArrayInfo {
        &ARRAYS[self as usize]
    }
}

/// What the table says about one array.
#[derive(Debug)]
#[non_exhaustive]
pub struct ArrayInfo {
    /// The array.
    pub id: ArrayId,
    /// Its dataset name in grid files.
    pub name: &'static str,
    /// Its `long_name` attribute.
    pub long_name: &'static str,
    /// Its element type.
    pub element: Element,
    /// Its shape.
    pub shape: Shape,
    /// The value of a pixel without points: the identity of `merge`.
    pub empty: f64,
    /// How two grids' values combine.
    pub merge: Merge,
    /// When it exists.
    pub presence: Presence,
    /// Whether storage chunks holding nothing but `empty` are left out of
    /// grid files (they read back as the fill value, 0): most z bins are
    /// empty in most places.
    pub sparse: bool,
}

/// Every array, in the order of [`ArrayId`] (and of grid files).
pub static ARRAYS: [ArrayInfo; 9] = [
    ArrayInfo {
        id: ArrayId::Count,
        name: "count",
        long_name: "points per pixel",
        element: Element::U64,
        shape: Shape::Plane,
        empty: 0.0,
        merge: Merge::Add,
        presence: Presence::Always,
        sparse: false,
    },
    ArrayInfo {
        id: ArrayId::SumZ,
        name: "sum_z",
        long_name: "sum of finite z",
        element: Element::F64,
        shape: Shape::Plane,
        empty: 0.0,
        merge: Merge::Add,
        presence: Presence::Always,
        sparse: false,
    },
    ArrayInfo {
        id: ArrayId::CountZ,
        name: "count_z",
        long_name: "points with finite z per pixel",
        element: Element::U64,
        shape: Shape::Plane,
        empty: 0.0,
        merge: Merge::Add,
        presence: Presence::UntilDistinctFrom(ArrayId::Count),
        sparse: false,
    },
    ArrayInfo {
        id: ArrayId::M2Z,
        name: "m2_z",
        long_name: "sum of squared deviations from the mean of z",
        element: Element::F64,
        shape: Shape::Plane,
        empty: 0.0,
        merge: Merge::Chan,
        presence: Presence::Always,
        sparse: false,
    },
    ArrayInfo {
        id: ArrayId::MinZ,
        name: "min_z",
        long_name: "smallest finite z (+inf where none)",
        element: Element::F64,
        shape: Shape::Plane,
        empty: f64::INFINITY,
        merge: Merge::Min,
        presence: Presence::Always,
        sparse: false,
    },
    ArrayInfo {
        id: ArrayId::MaxZ,
        name: "max_z",
        long_name: "largest finite z (-inf where none)",
        element: Element::F64,
        shape: Shape::Plane,
        empty: f64::NEG_INFINITY,
        merge: Merge::Max,
        presence: Presence::Always,
        sparse: false,
    },
    ArrayInfo {
        id: ArrayId::SumW,
        name: "sum_w",
        long_name: "sum of finite weights",
        element: Element::F64,
        shape: Shape::Plane,
        empty: 0.0,
        merge: Merge::Add,
        presence: Presence::Always,
        sparse: false,
    },
    ArrayInfo {
        id: ArrayId::ZHist,
        name: "zhist",
        long_name: "points per z bin per pixel",
        element: Element::U32,
        shape: Shape::PerZBin,
        empty: 0.0,
        merge: Merge::Add,
        presence: Presence::Always,
        sparse: true,
    },
    ArrayInfo {
        id: ArrayId::CountCat,
        name: "count_cat",
        long_name: "points per category per pixel",
        element: Element::U32,
        shape: Shape::PerCategory,
        empty: 0.0,
        merge: Merge::Add,
        presence: Presence::Always,
        sparse: true,
    },
];

impl Layer {
    /// Every layer, in canonical order.
    pub const ALL: [Layer; 7] = [
        Layer::Count,
        Layer::Sum,
        Layer::MinMax,
        Layer::Std,
        Layer::ZHist,
        Layer::Weight,
        Layer::CountCat,
    ];

    /// What the table says about this layer.
    pub fn info(self) -> &'static LayerInfo {
        &LAYERS[self as usize]
    }

    /// The name used on the command line and in grid files.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// True for the layers that accumulate z.
    pub fn needs_z(self) -> bool {
        self.info().needs == Needs::Z
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of [`Layer`]s. Always holds [`Layer::Count`], and every layer
/// brings what it implies ([`LayerInfo::implies`]: `std` brings `sum`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LayerSet(u32);

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
        let set = LayerSet(self.0 | layer.bit());
        layer
            .info()
            .implies
            .iter()
            .copied()
            .fold(set, LayerSet::with)
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

    /// The arrays of the set's layers, in [`ArrayId`] order.
    pub fn arrays(self) -> impl Iterator<Item = &'static ArrayInfo> {
        ARRAYS
            .iter()
            .filter(move |a| self.iter().any(|l| l.info().arrays.contains(&a.id)))
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
            let layer = LAYERS
                .iter()
                .find(|l| l.name.eq_ignore_ascii_case(part))
                .ok_or_else(|| {
                    let valid: Vec<&str> = LAYERS.iter().map(|l| l.name).collect();
                    Error::request(format!(
                        "unknown layer {part:?}; valid layers: {}",
                        valid.join(", ")
                    ))
                })?;
            set = set.with(layer.layer);
        }
        Ok(set)
    }
}

/// An array's values, of its element type: what the grid owns.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ArrayData {
    /// `u32` values.
    U32(ArrayD<u32>),
    /// `u64` values.
    U64(ArrayD<u64>),
    /// `f64` values.
    F64(ArrayD<f64>),
}

/// An array's values, borrowed: what [`crate::Grid::layers`] yields.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ArrayView<'a> {
    /// `u32` values.
    U32(ArrayViewD<'a, u32>),
    /// `u64` values.
    U64(ArrayViewD<'a, u64>),
    /// `f64` values.
    F64(ArrayViewD<'a, f64>),
}

impl ArrayData {
    /// An array of `shape` holding `value` everywhere.
    pub(crate) fn filled(element: Element, shape: &[usize], value: f64) -> ArrayData {
        let shape = ndarray::IxDyn(shape);
        match element {
            Element::U32 => ArrayData::U32(ArrayD::from_elem(shape, value as u32)),
            Element::U64 => ArrayData::U64(ArrayD::from_elem(shape, value as u64)),
            Element::F64 => ArrayData::F64(ArrayD::from_elem(shape, value)),
        }
    }

    /// The element type.
    pub fn element(&self) -> Element {
        match self {
            ArrayData::U32(_) => Element::U32,
            ArrayData::U64(_) => Element::U64,
            ArrayData::F64(_) => Element::F64,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            ArrayData::U32(a) => a.shape(),
            ArrayData::U64(a) => a.shape(),
            ArrayData::F64(a) => a.shape(),
        }
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Borrowed.
    pub fn view(&self) -> ArrayView<'_> {
        match self {
            ArrayData::U32(a) => ArrayView::U32(a.view()),
            ArrayData::U64(a) => ArrayView::U64(a.view()),
            ArrayData::F64(a) => ArrayView::F64(a.view()),
        }
    }
}

impl ArrayView<'_> {
    /// A copy of the values.
    pub fn to_owned(&self) -> ArrayData {
        match self {
            ArrayView::U32(a) => ArrayData::U32(a.to_owned()),
            ArrayView::U64(a) => ArrayData::U64(a.to_owned()),
            ArrayView::F64(a) => ArrayData::F64(a.to_owned()),
        }
    }
}

/// The element types of arrays, for typed access to [`ArrayData`].
pub(crate) trait Elem: Copy + Send + Sync + 'static {
    /// The array's values, if they are of this type.
    fn of(a: &ArrayData) -> Option<&ArrayD<Self>>;
    /// The array's values, mutably, if they are of this type.
    fn of_mut(a: &mut ArrayData) -> Option<&mut ArrayD<Self>>;
}

macro_rules! elem {
    ($t:ty, $v:ident) => {
        impl Elem for $t {
            fn of(a: &ArrayData) -> Option<&ArrayD<Self>> {
                match a {
                    ArrayData::$v(a) => Some(a),
                    _ => None,
                }
            }
            fn of_mut(a: &mut ArrayData) -> Option<&mut ArrayD<Self>> {
                match a {
                    ArrayData::$v(a) => Some(a),
                    _ => None,
                }
            }
        }
    };
}

elem!(u32, U32);
elem!(u64, U64);
elem!(f64, F64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_agree_with_themselves() {
        for (i, l) in LAYERS.iter().enumerate() {
            assert_eq!(l.layer as usize, i, "LAYERS in Layer's order");
            assert_eq!(Layer::ALL[i], l.layer);
            for c in l.counters {
                assert!(
                    crate::Counters::default()
                        .fields()
                        .iter()
                        .any(|(n, _)| n == c),
                    "{}: no counter {c}",
                    l.name
                );
            }
        }
        for (i, a) in ARRAYS.iter().enumerate() {
            assert_eq!(a.id as usize, i, "ARRAYS in ArrayId's order");
            let owners = LAYERS.iter().filter(|l| l.arrays.contains(&a.id)).count();
            assert_eq!(owners, 1, "{} belongs to one layer", a.name);
        }
        let names: std::collections::HashSet<&str> = ARRAYS.iter().map(|a| a.name).collect();
        assert_eq!(names.len(), ARRAYS.len());
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
    fn union_and_intersection() {
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
        let names: Vec<&str> = b.arrays().map(|a| a.name).collect();
        assert_eq!(
            names,
            ["count", "sum_z", "count_z", "m2_z", "sum_w", "zhist"]
        );
    }
}
