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

use rustc_hash::FxHashMap;

use super::kernel::add_saturating;
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
        plane.get_or_init(|| (0..self.pixels).map(|_| AtomicU32::new(0)).collect());
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
        remainders: Vec<Vec<Vec<u8>>>,
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
        let mut overflow: Option<usize> = None;
        for (g, name) in names.iter().enumerate() {
            let j = cats.index(name).expect("the same names");
            let plane = &mut out[j * len..(j + 1) * len];
            if let Some(shared) = self.planes[g].get() {
                for (o, s) in plane.iter_mut().zip(shared.iter()) {
                    *o = s.load(Ordering::Relaxed);
                }
            }
            for small in remainders.iter().filter_map(|r| r.get(g)) {
                for (p, (o, &c)) in plane.iter_mut().zip(small).enumerate() {
                    if add_saturating(o, u32::from(c)) {
                        overflow = Some(overflow.map_or(p, |q| q.min(p)));
                    }
                }
            }
        }
        if let Some(p) = overflow {
            return Err(grid.category_overflow(p));
        }
        let shape = [cats.len(), grid.spec.height(), grid.spec.width()];
        let array = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), out)
            .expect("planes of the spec's shape");
        Ok((cats, ArrayData::U32(array)))
    }
}

/// A worker's category counts: `u8` planes by the run's category number,
/// carrying 256 at a time into the [`SharedCategories`].
#[derive(Debug)]
pub(super) struct CategoryCounts {
    shared: Arc<SharedCategories>,
    /// The run's number of each of the batches' category ids.
    global: Vec<u32>,
    /// The names `global` was made for, and where they lived.
    seen: Vec<String>,
    names_at: usize,
    pub(super) small: Vec<Vec<u8>>,
}

impl CategoryCounts {
    pub(super) fn new(shared: Arc<SharedCategories>) -> CategoryCounts {
        CategoryCounts {
            shared,
            global: Vec::new(),
            seen: Vec::new(),
            names_at: 0,
            small: Vec::new(),
        }
    }

    /// The shared planes this worker carries into.
    pub(super) fn shared(&self) -> &Arc<SharedCategories> {
        &self.shared
    }

    /// Brings `global` up to date with the batch's `names`: a reader's
    /// dictionary only grows, so usually nothing or a few new names. A
    /// batch whose names live elsewhere (another source's, or the same
    /// dictionary grown) keeps the numbers of the names that agree.
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
        for name in &names[self.global.len()..] {
            let g = self.shared.global_id(name)?;
            if g != NO_CATEGORY {
                let g = g as usize;
                if self.small.len() <= g {
                    self.small.resize_with(g + 1, Vec::new);
                }
                if self.small[g].is_empty() {
                    self.small[g] = vec![0; self.shared.pixels];
                }
            }
            self.global.push(g);
            self.seen.push(name.clone());
        }
        Ok(())
    }

    /// Counts a mapped batch; returns the points counted in no category,
    /// or the first pixel whose count passed `u32::MAX`.
    pub(super) fn append(
        &mut self,
        pts: Batch<'_>,
        pix: &[u32],
    ) -> Result<std::result::Result<u64, usize>> {
        self.sync(pts.names)?;
        let len = self.shared.pixels;
        let mut uncategorised = 0;
        let mut overflow = None;
        for (&p, &c) in pix.iter().zip(pts.c) {
            if p as usize >= len {
                continue;
            }
            let g = self.global.get(c as usize).copied().unwrap_or(NO_CATEGORY);
            if g == NO_CATEGORY {
                uncategorised += 1;
                continue;
            }
            let cell = &mut self.small[g as usize][p as usize];
            *cell = cell.wrapping_add(1);
            if *cell == 0 {
                let shared = self.shared.planes[g as usize].get().expect("made when met");
                if shared[p as usize].fetch_add(256, Ordering::Relaxed) > u32::MAX - 256 {
                    overflow.get_or_insert(p as usize);
                }
            }
        }
        Ok(match overflow {
            Some(p) => Err(p),
            None => Ok(uncategorised),
        })
    }
}
