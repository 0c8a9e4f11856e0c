//! The categories of a grid's `count_cat` layer: their names and order.
//!
//! A grid counts by category either over a set fixed up front (the
//! `categories` parameter: in the order given; a point of any other
//! category is counted in `uncategorised`), or over the categories found in
//! the data. Found categories are kept in one canonical order, whatever the
//! threads, chunks, partitions and merges that found them: by number when
//! every name is an integer (LiDAR classes `2, 6, 9, 17`), else by the
//! bytes of their UTF-8 names (`"Asian" < "Black" < "White" < "w"`).

use std::cmp::Ordering;

use ndarray::Zip;

use super::{ArrayData, ArrayId, Grid};
use crate::error::{Error, Result};
use crate::param::Param;

/// The most categories a grid counts. Enough for every LiDAR class code
/// (0 to 255) and far more than colour keys tell apart; a column of floats
/// or identifiers passed as the category column by mistake stops here
/// instead of allocating a plane per value.
pub const MAX_CATEGORIES: usize = 256;

/// The names of a grid's categories, in the order of its `count_cat`
/// planes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Categories {
    names: Vec<String>,
    fixed: bool,
}

impl Categories {
    /// No categories yet: they come from the data, in canonical order.
    pub fn discovered() -> Categories {
        Categories::default()
    }

    /// Exactly `names`, in this order. Fails on an empty list, a repeated
    /// name, or more than [`MAX_CATEGORIES`].
    pub fn fixed(names: Vec<String>) -> Result<Categories> {
        if names.is_empty() {
            return Err(Error::request(format!(
                "{} must name at least one category",
                Param::Categories.mark()
            )));
        }
        check_limit(names.len())?;
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(Error::request(format!(
                    "{} names {n:?} twice",
                    Param::Categories.mark()
                )));
            }
        }
        Ok(Categories { names, fixed: true })
    }

    /// Found categories `names`, put in canonical order (duplicates once).
    pub fn found(mut names: Vec<String>) -> Result<Categories> {
        names.sort_by(|a, b| canonical(a, b));
        names.dedup();
        check_limit(names.len())?;
        Ok(Categories {
            names,
            fixed: false,
        })
    }

    /// Categories read back from a grid file, in its plane order: found ones
    /// when that is their canonical order, else a fixed set.
    pub fn stored(names: Vec<String>) -> Result<Categories> {
        let found = Categories::found(names.clone())?;
        if found.names == names {
            Ok(found)
        } else {
            Categories::fixed(names)
        }
    }

    /// The names, in plane order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// True when the set was fixed up front rather than found.
    pub fn is_fixed(&self) -> bool {
        self.fixed
    }

    /// The plane of category `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The categories of both: these when they are equal, else the union
    /// of both in canonical order (a fixed order cannot hold names it does
    /// not have).
    pub fn union(&self, other: &Categories) -> Result<Categories> {
        if self.names == other.names {
            return Ok(self.clone());
        }
        let all = self.names.iter().chain(&other.names).cloned().collect();
        Categories::found(all)
    }
}

impl Grid {
    /// Puts the `count_cat` planes in the order of `to`, which holds every
    /// category the grid has (and maybe more, whose planes start empty).
    pub(crate) fn recategorise(&mut self, to: Categories) {
        let from = self
            .spec
            .categories()
            .expect("count_cat has categories")
            .clone();
        if from == to {
            return;
        }
        let len = self.spec.pixels();
        let old = self.take_array(ArrayId::CountCat);
        let old = old.as_ref().and_then(|a| match a {
            ArrayData::U32(a) => a.as_slice(),
            _ => None,
        });
        let mut new = vec![0u32; to.len() * len];
        for (i, name) in from.names().iter().enumerate() {
            let j = to.index(name).expect("the new categories hold the old");
            if let Some(old) = old {
                new[j * len..(j + 1) * len].copy_from_slice(&old[i * len..(i + 1) * len]);
            }
        }
        let shape = [to.len(), self.spec.height(), self.spec.width()];
        self.spec = self
            .spec
            .clone()
            .with_categories(to)
            .expect("a spec with count_cat");
        let array = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), new)
            .expect("planes of the spec's shape");
        self.set_array(ArrayId::CountCat, ArrayData::U32(array))
            .expect("the spec's planes");
    }

    /// The planes of `count_cat`: `(category, flat plane)` for each category.
    pub(crate) fn category_planes(&self) -> Vec<(&str, &[u32])> {
        let (Some(cats), Some(counts)) =
            (self.spec.categories(), self.typed::<u32>(ArrayId::CountCat))
        else {
            return Vec::new();
        };
        let counts = counts.as_slice().expect("grids are in standard layout");
        let len = self.spec.pixels();
        cats.names()
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), &counts[i * len..(i + 1) * len]))
            .collect()
    }

    /// Fails when adding `other`'s category counts to ours would overflow.
    pub(super) fn check_categories_add(&self, other: &Grid, union: &Categories) -> Result<()> {
        let ours = self.category_planes();
        for (name, theirs) in other.category_planes() {
            debug_assert!(union.index(name).is_some());
            if let Some((_, mine)) = ours.iter().find(|(n, _)| *n == name) {
                let a = ndarray::ArrayView1::from(*mine);
                let b = ndarray::ArrayView1::from(theirs);
                let over = Zip::from(a).and(b).par_fold(
                    || false,
                    |acc, &a, &b| acc | a.checked_add(b).is_none(),
                    |x, y| x | y,
                );
                if over {
                    return Err(Error::Overflow(
                        "merging would overflow the count_cat layer's integer type; merge fewer \
                         grids into each output"
                            .to_string(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Adds `other`'s category counts into ours, both put in the order of
    /// `union` (which holds every category of both) first.
    pub(super) fn add_categories(&mut self, other: &Grid, union: Categories) {
        if !self.has(ArrayId::CountCat) || !other.has(ArrayId::CountCat) {
            return; // a worker's grid, whose counts are kept elsewhere
        }
        self.recategorise(union);
        let len = self.spec.pixels();
        let cats = self.spec.categories().expect("count_cat").clone();
        let theirs = other.category_planes();
        let counts = self.flat_mut::<u32>(ArrayId::CountCat).expect("count_cat");
        for (name, plane) in theirs {
            let j = cats.index(name).expect("the union holds every category");
            let ours = ndarray::ArrayViewMut1::from(&mut counts[j * len..(j + 1) * len]);
            Zip::from(ours)
                .and(ndarray::ArrayView1::from(plane))
                .par_for_each(|a, &b| *a += b);
        }
    }
}

/// The canonical order: numerically when both names are integers, and
/// integers before other names; else by bytes.
pub(crate) fn canonical(a: &str, b: &str) -> Ordering {
    match (a.parse::<i128>(), b.parse::<i128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// The error for `n` categories when at most `limit` fit.
pub(crate) fn too_many(n: usize, limit: usize, why: &str) -> Error {
    Error::request(format!(
        "the category column has more than {limit} distinct values ({n} so far){why}; name the \
         categories to count with {} (points of others are counted as uncategorised), or check \
         that the column holds categories: a column of measurements has a category per value",
        Param::Categories.mark()
    ))
}

fn check_limit(n: usize) -> Result<()> {
    if n > MAX_CATEGORIES {
        Err(too_many(n, MAX_CATEGORIES, ""))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn found_categories_sort_by_number_then_by_bytes() {
        let c = Categories::found(names(&["10", "2", "-1", "2", "02"])).unwrap();
        assert_eq!(c.names(), names(&["-1", "02", "2", "10"]));
        let c = Categories::found(names(&["b", "10", "a b", "2", "É", "B"])).unwrap();
        assert_eq!(c.names(), names(&["2", "10", "B", "a b", "b", "É"]));
        assert!(!c.is_fixed());
    }

    #[test]
    fn fixed_categories_keep_their_order_and_refuse_repeats() {
        let c = Categories::fixed(names(&["z", "a"])).unwrap();
        assert_eq!(c.names(), names(&["z", "a"]));
        assert_eq!(c.index("a"), Some(1));
        let err = Categories::fixed(names(&["a", "a"])).unwrap_err();
        assert!(err.to_string().contains("\"a\" twice"), "{err}");
        assert!(Categories::fixed(Vec::new()).is_err());
    }

    #[test]
    fn unions_are_canonical_unless_equal() {
        let a = Categories::fixed(names(&["z", "a"])).unwrap();
        assert_eq!(a.union(&a).unwrap(), a);
        let b = Categories::found(names(&["m"])).unwrap();
        assert_eq!(a.union(&b).unwrap().names(), names(&["a", "m", "z"]));
    }

    #[test]
    fn the_limit_names_the_parameter() {
        let many: Vec<String> = (0..=MAX_CATEGORIES).map(|i| i.to_string()).collect();
        let err = Categories::found(many).unwrap_err();
        assert!(
            err.render(crate::error::flag).contains("--categories"),
            "{err}"
        );
    }
}
