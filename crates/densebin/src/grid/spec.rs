//! The canvas and the layers of a grid: its [`GridSpec`].

use super::axis::{Axis, AxisType};
use super::categories::Categories;
use super::layers::{ArrayInfo, Layer, LayerSet, Shape};
use crate::error::{Error, Result};
use crate::param::Param;

/// The shape of a grid: the canvas (size and ranges), the layers, the z
/// bins of the histogram layer and the categories of `count_cat`. Two grids
/// merge only when their specs are equal but for their categories.
#[derive(Clone, Debug, PartialEq)]
pub struct GridSpec {
    x: Axis,
    y: Axis,
    layers: LayerSet,
    zbins: Option<Axis>,
    categories: Option<Categories>,
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
            categories: None,
        })
    }

    /// This canvas with the x and y axes mapped by `x` and `y` (linear or
    /// log); fails when a log axis's range is not above 0.
    pub fn with_axis_types(mut self, x: AxisType, y: AxisType) -> Result<GridSpec> {
        let retype = |a: &Axis, axis_type: AxisType, name: &str| {
            Axis::with_type(a.lo(), a.hi(), a.len(), axis_type)
                .map_err(|e| Error::request(format!("{name}: {e}")))
        };
        self.x = retype(&self.x, x, "x")?;
        self.y = retype(&self.y, y, "y")?;
        Ok(self)
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
        self.categories = layers
            .contains(Layer::CountCat)
            .then(|| self.categories.take().unwrap_or_default());
        self.layers = layers;
        Ok(self)
    }

    /// This spec with the categories `categories` (a fixed set, or those
    /// found so far); fails unless it has the `count_cat` layer.
    pub fn with_categories(mut self, categories: Categories) -> Result<GridSpec> {
        if !self.layers.contains(Layer::CountCat) {
            return Err(Error::request(format!(
                "categories are for the count_cat layer, and the layers are {}",
                self.layers
            )));
        }
        self.categories = Some(categories);
        Ok(self)
    }

    /// The categories of the `count_cat` layer, when there is one.
    pub fn categories(&self) -> Option<&Categories> {
        self.categories.as_ref()
    }

    /// True when the two specs are equal but for their categories: grids
    /// of them merge.
    pub fn same_but_categories(&self, other: &GridSpec) -> bool {
        (self.x, self.y, self.layers, self.zbins) == (other.x, other.y, other.layers, other.zbins)
    }

    /// This spec with only the layers also in `layers` (for reading part
    /// of a grid file).
    #[must_use]
    pub fn subset(&self, layers: LayerSet) -> GridSpec {
        let layers = self.layers.intersection(layers);
        GridSpec {
            layers,
            zbins: self.zbins.filter(|_| layers.contains(Layer::ZHist)),
            categories: self
                .categories
                .clone()
                .filter(|_| layers.contains(Layer::CountCat)),
            ..self.clone()
        }
    }

    /// Pixels across.
    pub fn width(&self) -> usize {
        self.x.len()
    }

    /// Pixels up.
    pub fn height(&self) -> usize {
        self.y.len()
    }

    /// Pixels in all: `width × height`.
    pub fn pixels(&self) -> usize {
        self.width() * self.height()
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

    /// Bytes one grid of this spec occupies (every array of its layers,
    /// `count_z` included), or `None` when that does not fit in a `u64`.
    pub fn grid_bytes(&self) -> Option<u64> {
        let pixels = (self.width() as u64).checked_mul(self.height() as u64)?;
        self.layers.arrays().try_fold(0u64, |total, a| {
            let per_pixel = match a.shape {
                Shape::Plane => 1,
                Shape::PerZBin => self.zbins.map_or(0, |z| z.len() as u64),
                Shape::PerCategory => self.categories.as_ref().map_or(0, |c| c.len() as u64),
            };
            total.checked_add(
                pixels
                    .checked_mul(per_pixel)?
                    .checked_mul(a.element.size())?,
            )
        })
    }

    /// The shape of array `a` in a grid of this spec.
    pub fn array_shape(&self, a: &ArrayInfo) -> Vec<usize> {
        let plane = [self.height(), self.width()];
        match a.shape {
            Shape::Plane => plane.to_vec(),
            Shape::PerZBin => {
                let k = self.zbins.map_or(0, |z| z.len());
                vec![k, plane[0], plane[1]]
            }
            Shape::PerCategory => {
                let c = self.categories.as_ref().map_or(0, Categories::len);
                vec![c, plane[0], plane[1]]
            }
        }
    }

    /// A one-line description of the first difference from `other`, for
    /// merge errors.
    pub(super) fn difference(&self, other: &GridSpec) -> String {
        let geometry = |s: &GridSpec| {
            format!(
                "{}x{} over x {},{} y {},{}",
                s.width(),
                s.height(),
                s.x.lo(),
                s.x.hi(),
                s.y.lo(),
                s.y.hi()
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
                    .map(|a| format!("{} bins over {},{}", a.len(), a.lo(), a.hi()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets() {
        let a: LayerSet = "sum,zhist".parse().unwrap();
        let b: LayerSet = "std,zhist,weight".parse().unwrap();
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
}
