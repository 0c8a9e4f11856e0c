//! The finite bounds of the data: what a range scan or a conversion finds.

use crate::grid::AxisType;

/// Finite minimum and maximum of a sequence of values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Extent {
    /// Smallest value seen.
    pub lo: f64,
    /// Largest value seen.
    pub hi: f64,
}

impl Extent {
    pub(crate) fn add(this: &mut Option<Extent>, v: f64) {
        match this {
            Some(e) => {
                e.lo = e.lo.min(v);
                e.hi = e.hi.max(v);
            }
            None => *this = Some(Extent { lo: v, hi: v }),
        }
    }

    pub(crate) fn merge(this: &mut Option<Extent>, other: Option<Extent>) {
        if let Some(o) = other {
            Extent::add(this, o.lo);
            Extent::add(this, o.hi);
        }
    }

    /// The extent as a range, widened by 0.5 on each side when it is a
    /// single value.
    pub fn range(&self) -> (f64, f64) {
        if self.lo == self.hi {
            (self.lo - 0.5, self.hi + 0.5)
        } else {
            (self.lo, self.hi)
        }
    }

    /// The extent as a range of an axis of `axis_type`: [`Extent::range`]
    /// on a linear axis; on a log axis a single (positive) value is widened
    /// by half a decade each way instead.
    pub fn range_on(&self, axis_type: AxisType) -> (f64, f64) {
        match axis_type {
            AxisType::Log if self.lo == self.hi => {
                let half = 10f64.sqrt();
                (self.lo / half, self.hi * half)
            }
            _ => self.range(),
        }
    }
}

/// Finite bounds of the data, from [`crate::binning::data_bounds`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bounds {
    /// x of points whose x and y are finite.
    pub x: Option<Extent>,
    /// y of points whose x and y are finite.
    pub y: Option<Extent>,
    /// Finite z of points inside the canvas (the given ranges, or all
    /// points with finite x and y).
    pub z: Option<Extent>,
}

impl Bounds {
    /// Both bounds together.
    pub(crate) fn merge(&mut self, other: Bounds) {
        Extent::merge(&mut self.x, other.x);
        Extent::merge(&mut self.y, other.y);
        Extent::merge(&mut self.z, other.z);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_widens_single_values() {
        assert_eq!(Extent { lo: 3.0, hi: 3.0 }.range(), (2.5, 3.5));
        assert_eq!(Extent { lo: 1.0, hi: 3.0 }.range(), (1.0, 3.0));
    }
}
