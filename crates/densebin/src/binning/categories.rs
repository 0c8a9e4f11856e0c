//! The `count_cat` layer's accumulate step: points per category per pixel.
//!
//! A batch names its categories once ([`Batch::names`]) and carries an id
//! per point. [`Grid::append`] adds into the grid's own `(C, H, W)` planes,
//! growing them (in canonical order) as new categories come. A run's
//! workers count in `u8` planes of their own that carry into `u32` planes
//! they share ([`SharedCategories`]), as the z histogram does: the largest
//! layer is held once, and a worker holds a byte per category and pixel.
//! Planes are made when a category is first met; the run's categories are
//! numbered in the order any worker met them and put in canonical order
//! once, at the end ([`SharedCategories::finish`]).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::accumulator::touch;
use super::kernel::{AHEAD, add_saturating};
use crate::cache::prefetch;
use crate::error::{Error, Result};
use crate::grid::{ArrayData, ArrayId, Categories, Grid, GridSpec, MAX_CATEGORIES};
use crate::param::Param;
use crate::read::{Batch, NO_CATEGORY};

impl Grid {
    /// The `count_cat` part of [`Grid::append`], into the grid's own planes.
    pub(super) fn append_categories(&mut self, pts: Batch<'_>, pix: &[u32]) -> Result<()> {
        let len = self.spec.pixels();
        let planes = self.planes_for(pts.names)?;
        let counts = self.flat_mut::<u32>(ArrayId::CountCat).expect("count_cat");
        let mut uncategorised = 0;
        let mut overflow = None;
        for (&p, &c) in pix.iter().zip(pts.c) {
            if p as usize >= len {
                continue;
            }
            match planes.get(c as usize) {
                Some(&plane) if plane != NO_CATEGORY => {
                    if add_saturating(&mut counts[plane as usize * len + p as usize], 1) {
                        overflow.get_or_insert(p as usize);
                    }
                }
                _ => uncategorised += 1,
            }
        }
        self.counters.uncategorised += uncategorised;
        match overflow {
            Some(p) => Err(self.category_overflow(p)),
            None => Ok(()),
        }
    }

    /// The plane of each of `names` (the batch's categories), adding the
    /// new ones to a grid whose categories are found rather than fixed.
    fn planes_for(&mut self, names: &[String]) -> Result<Vec<u32>> {
        let cats = self.spec.categories().expect("count_cat has categories");
        let missing: Vec<String> = names
            .iter()
            .filter(|n| cats.index(n).is_none())
            .cloned()
            .collect();
        if !missing.is_empty() && !cats.is_fixed() {
            let all = cats.names().iter().cloned().chain(missing).collect();
            self.recategorise(Categories::found(all)?);
        }
        let cats = self.spec.categories().expect("count_cat has categories");
        let index: FxHashMap<&str, u32> = cats
            .names()
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i as u32))
            .collect();
        Ok(names
            .iter()
            .map(|n| index.get(n.as_str()).copied().unwrap_or(NO_CATEGORY))
            .collect())
    }

    /// The error for a category's count in pixel `p` passing `u32::MAX`.
    pub(crate) fn category_overflow(&self, p: usize) -> Error {
        Error::Overflow(format!(
            "a category's count in pixel ({}, {}) exceeded {} points; use a larger {}/{}",
            p / self.spec.width(),
            p % self.spec.width(),
            u32::MAX,
            Param::Width.mark(),
            Param::Height.mark(),
        ))
    }
}

/// The category planes the workers of one run share, and the run's
/// categories, numbered in the order they were first met.
#[derive(Debug)]
pub struct SharedCategories {
    pixels: usize,
    /// The most categories this run may count (memory, and
    /// [`MAX_CATEGORIES`]).
    limit: usize,
    fixed: bool,
    names: Mutex<Vec<String>>,
    planes: Vec<OnceLock<Box<[AtomicU32]>>>,
}

impl SharedCategories {
    /// The shared planes of a run over `spec` (none without `count_cat`),
    /// for at most `limit` categories; a fixed set's planes are made now.
    pub fn new(spec: &GridSpec, limit: usize) -> Arc<SharedCategories> {
        let cats = spec.categories();
        let fixed = cats.is_some_and(Categories::is_fixed);
        let names = cats.map_or(Vec::new(), |c| c.names().to_vec());
        let limit = limit.clamp(names.len(), MAX_CATEGORIES);
        let shared = SharedCategories {
            pixels: spec.pixels(),
            limit: if cats.is_some() { limit } else { 0 },
            fixed,
            planes: (0..MAX_CATEGORIES).map(|_| OnceLock::new()).collect(),
            names: Mutex::new(names),
        };
        let n = shared.names.lock().expect("fresh").len();
        for plane in &shared.planes[..n] {
            shared.make(plane);
        }
        Arc::new(shared)
    }

    /// Bytes one more category takes for a run of `workers`: a shared
    /// `u32` plane and a worker's `u8` plane each.
    pub fn bytes_per_category(spec: &GridSpec, workers: usize) -> u64 {
        spec.pixels() as u64 * (4 + workers as u64)
    }

    fn make(&self, plane: &OnceLock<Box<[AtomicU32]>>) {
        plane.get_or_init(|| zeroed_atomics(self.pixels));
    }

    /// The run's number for category `name`: registered now when new (a
    /// fixed set gives others none).
    fn global_id(&self, name: &str) -> Result<u32> {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = names.iter().position(|n| n == name) {
            return Ok(i as u32);
        }
        if self.fixed {
            return Ok(NO_CATEGORY);
        }
        if names.len() >= self.limit {
            let why = if self.limit < MAX_CATEGORIES {
                format!(
                    " (as many as fit in memory at {} pixels; a category takes {} per worker \
                     and {} shared)",
                    self.pixels,
                    crate::sys::format_bytes(self.pixels as u64),
                    crate::sys::format_bytes(4 * self.pixels as u64)
                )
            } else {
                String::new()
            };
            return Err(crate::grid::too_many_categories(
                names.len() + 1,
                self.limit,
                &why,
            ));
        }
        names.push(name.to_string());
        let id = names.len() - 1;
        drop(names);
        self.make(&self.planes[id]);
        Ok(id as u32)
    }

    /// The run's categories in canonical order (or the fixed order) and
    /// their planes: the shared counts plus every worker's remainders.
    /// Fails when a count passes `u32::MAX`, naming the pixel.
    pub(super) fn finish(
        self: Arc<SharedCategories>,
        remainders: Vec<Vec<u8>>,
        grid: &Grid,
    ) -> Result<(Categories, ArrayData)> {
        let names = self.names.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let cats = if self.fixed {
            Categories::fixed(names.clone())?
        } else {
            Categories::found(names.clone())?
        };
        let len = self.pixels;
        let mut out = vec![0u32; cats.len() * len];
        // The run's number of the category of each final plane.
        let order: Vec<usize> = cats
            .names()
            .iter()
            .map(|n| names.iter().position(|m| m == n).expect("the same names"))
            .collect();
        // Plane by plane in parallel: the shared counts, plus every
        // worker's remainders.
        let overflow = out
            .par_chunks_mut(len.max(1))
            .zip(order)
            .filter_map(|(plane, g)| {
                let mut first = None;
                if let Some(shared) = self.planes[g].get() {
                    for (o, s) in plane.iter_mut().zip(shared.iter()) {
                        *o = s.load(Ordering::Relaxed);
                    }
                }
                for small in remainders
                    .iter()
                    .filter_map(|r| r.get(g * len..(g + 1) * len))
                {
                    for (p, (o, &c)) in plane.iter_mut().zip(small).enumerate() {
                        if add_saturating(o, u32::from(c)) {
                            first.get_or_insert(p);
                        }
                    }
                }
                first
            })
            .min();
        if let Some(p) = overflow {
            return Err(grid.category_overflow(p));
        }
        let shape = [cats.len(), grid.spec.height(), grid.spec.width()];
        let array = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), out)
            .expect("planes of the spec's shape");
        Ok((cats, ArrayData::U32(array)))
    }
}

/// `n` zeroed atomic counters, as zeroed memory from the allocator: the
/// pages are mapped as they are first written, so a category met in a
/// corner of the canvas costs the pages it touches, not a 4-byte write per
/// pixel up front.
fn zeroed_atomics(n: usize) -> Box<[AtomicU32]> {
    // `vec![0; n]` asks the allocator for zeroed memory.
    let mut zeros = std::mem::ManuallyDrop::new(vec![0u32; n]);
    // SAFETY: `AtomicU32` has the same size, alignment and bit validity as
    // `u32` (its documented guarantee), so the vector's allocation, length
    // and capacity describe a valid `Vec<AtomicU32>` of zeros; the
    // original is never dropped (`ManuallyDrop`), so the allocation has
    // one owner. What it buys: no up-front write of 4 bytes a pixel per
    // category (80 MB for 20 at 1000x1000); with the finish made parallel
    // too, a 20 M point, 20-category run on 2 threads went from 0.32 to
    // 0.25 s (BENCHMARKS.md, "Categorical counts").
    let atomics = unsafe {
        Vec::from_raw_parts(
            zeros.as_mut_ptr().cast::<AtomicU32>(),
            zeros.len(),
            zeros.capacity(),
        )
    };
    atomics.into_boxed_slice()
}

/// A worker's category counts ([`super::Accumulator`]'s): `u8` planes by the run's category number,
/// one after another in one buffer, carrying 256 at a time into the
/// [`SharedCategories`].
#[derive(Debug)]
pub(super) struct CategoryCounts {
    shared: Arc<SharedCategories>,
    /// The run's number of each of the batches' category ids.
    global: Vec<u32>,
    /// The names `global` was made for, and where they lived.
    seen: Vec<String>,
    names_at: usize,
    /// Plane `g` is `small[g * pixels..(g + 1) * pixels]`.
    pub(super) small: Vec<u8>,
    /// Whether new planes are touched when made ([`Accumulator::new`]'s
    /// `dense`).
    dense: bool,
}

impl CategoryCounts {
    pub(super) fn new(shared: Arc<SharedCategories>, dense: bool) -> CategoryCounts {
        CategoryCounts {
            shared,
            global: Vec::new(),
            seen: Vec::new(),
            names_at: 0,
            small: Vec::new(),
            dense,
        }
    }

    /// The shared planes this worker carries into.
    pub(super) fn shared(&self) -> &Arc<SharedCategories> {
        &self.shared
    }

    /// Brings `global` up to date with the batch's `names`: a reader's
    /// dictionary only grows, so usually nothing or a few new names. A
    /// batch whose names live elsewhere (another source's, or the same
    /// dictionary grown) keeps the numbers of the names that agree. The
    /// planes grow once for all of a batch's new categories.
    fn sync(&mut self, names: &[String]) -> Result<()> {
        let at = names.as_ptr() as usize;
        if at != self.names_at {
            let agree = names
                .iter()
                .zip(&self.seen)
                .take_while(|(a, b)| a == b)
                .count();
            self.global.truncate(agree);
            self.seen.truncate(agree);
            self.names_at = at;
        }
        if names.len() == self.global.len() {
            return Ok(());
        }
        for name in &names[self.global.len()..] {
            self.global.push(self.shared.global_id(name)?);
            self.seen.push(name.clone());
        }
        let len = self.shared.pixels;
        let planes = self
            .global
            .iter()
            .filter(|&&g| g != NO_CATEGORY)
            .map(|&g| g as usize + 1)
            .max()
            .unwrap_or(0);
        if planes * len > self.small.len() {
            // A fresh zeroed buffer (its pages mapped as they are first
            // written), not a resize, which would write every new zero.
            let mut grown = vec![0u8; planes * len];
            let old = self.small.len();
            grown[..old].copy_from_slice(&self.small);
            if self.dense {
                // Points will land all over the new planes: written once
                // now, page by page, rather than faulted in twice by `+=`.
                touch(&mut grown[old..]);
            }
            self.small = grown;
        }
        Ok(())
    }

    /// Counts a mapped batch; returns the points counted in no category,
    /// or the first pixel whose count passed `u32::MAX`. Planes beyond the
    /// L2 cache are prefetched, as `count`'s are.
    pub(super) fn append(
        &mut self,
        pts: Batch<'_>,
        pix: &[u32],
    ) -> Result<std::result::Result<u64, usize>> {
        self.sync(pts.names)?;
        let len = self.shared.pixels;
        // Where each of the batch's category ids' plane starts.
        let base: Vec<usize> = self
            .global
            .iter()
            .map(|&g| {
                if g == NO_CATEGORY {
                    usize::MAX
                } else {
                    g as usize * len
                }
            })
            .collect();
        let counted = if self.small.len() > 1 << 20 {
            self.count::<true>(pix, pts.c, &base)
        } else {
            self.count::<false>(pix, pts.c, &base)
        };
        Ok(counted)
    }

    #[inline(always)]
    fn count<const AHEAD_TOO: bool>(
        &mut self,
        pix: &[u32],
        cs: &[u32],
        base: &[usize],
    ) -> std::result::Result<u64, usize> {
        let len = self.shared.pixels;
        let small = &mut self.small[..];
        let plane_at = |c: u32| base.get(c as usize).copied().unwrap_or(usize::MAX);
        let mut uncategorised = 0;
        let mut overflow = None;
        for (i, (&p, &c)) in pix.iter().zip(cs).enumerate() {
            if AHEAD_TOO && let (Some(&q), Some(&d)) = (pix.get(i + AHEAD), cs.get(i + AHEAD)) {
                prefetch(small, plane_at(d).wrapping_add(q as usize));
            }
            if p as usize >= len {
                continue;
            }
            let b = plane_at(c);
            if b == usize::MAX {
                uncategorised += 1;
                continue;
            }
            let cell = &mut small[b + p as usize];
            *cell = cell.wrapping_add(1);
            if *cell == 0 {
                let shared = self.shared.planes[b / len].get().expect("made when met");
                if shared[p as usize].fetch_add(256, Ordering::Relaxed) > u32::MAX - 256 {
                    overflow.get_or_insert(p as usize);
                }
            }
        }
        match overflow {
            Some(p) => Err(p),
            None => Ok(uncategorised),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Points;

    fn spec() -> GridSpec {
        GridSpec::new(3, 2, (0.0, 3.0), (0.0, 2.0))
            .unwrap()
            .with_layers("count,count_cat".parse().unwrap(), None)
            .unwrap()
    }

    fn pts(n: usize) -> Points {
        Points {
            x: vec![1.5; n],
            y: vec![0.5; n],
            ..Points::default()
        }
        .with_categories(vec![0; n], &["a".to_string()])
    }

    #[test]
    fn category_overflow_is_an_error() {
        // Through the grid's own planes...
        let mut g = Grid::empty(spec());
        g.append(&pts(1)).unwrap();
        g.flat_mut::<u32>(ArrayId::CountCat).unwrap()[1] = u32::MAX;
        let err = g.append(&pts(1)).unwrap_err();
        assert!(matches!(err, Error::Overflow(_)), "{err}");
        assert!(err.to_string().contains("pixel (0, 1)"), "{err}");
        // ...and a worker's carry into the shared planes.
        let shared = SharedCategories::new(&spec(), MAX_CATEGORIES);
        let mut counts = CategoryCounts::new(Arc::clone(&shared), false);
        let p = pts(300);
        counts.sync(p.batch().names).unwrap();
        shared.planes[0].get().unwrap()[1].store(u32::MAX - 100, Ordering::Relaxed);
        assert_eq!(counts.append(p.batch(), &[1; 300]).unwrap(), Err(1));
    }

    #[test]
    fn a_worker_keeps_its_numbers_across_dictionaries() {
        // Two sources with their own names: the same name is one plane.
        let shared = SharedCategories::new(&spec(), MAX_CATEGORIES);
        let mut counts = CategoryCounts::new(Arc::clone(&shared), false);
        let a = Points::default().with_categories(vec![0, 1], &["x".into(), "y".into()]);
        let b = Points::default().with_categories(vec![0, 1], &["y".into(), "z".into()]);
        for p in [&a, &b, &a] {
            assert_eq!(counts.append(p.batch(), &[0, 1]).unwrap(), Ok(0));
        }
        let g = Grid::empty(spec());
        let (cats, planes) = shared.finish(vec![counts.small], &g).unwrap();
        assert_eq!(cats.names(), ["x", "y", "z"]);
        let ArrayData::U32(planes) = planes else {
            panic!("u32 planes")
        };
        let flat = planes.as_slice().unwrap();
        // x: pixel 0 twice; y: pixel 1 twice and pixel 0 once; z: pixel 1.
        assert_eq!(&flat[..2], [2, 0]);
        assert_eq!(&flat[6..8], [1, 2]);
        assert_eq!(&flat[12..14], [0, 1]);
    }
}
