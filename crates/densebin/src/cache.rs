//! Software prefetching, for the loops whose memory accesses the hardware
//! prefetchers cannot foresee.

/// Starts loading `v[i]` into the cache, for a loop that will read or
/// update it shortly: with the misses of several points in flight at once, a
/// loop bound by cache misses runs 5–8 % faster (BENCHMARKS.md, "prefetch").
#[inline(always)]
pub(crate) fn prefetch<T>(v: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees and
    // never faults, whatever the address, so `i` need not be in bounds (a
    // dropped point's index is not, and a look-ahead may pass the end); the
    // pointer is formed with wrapping_add, which is
    // defined for any offset.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(v.as_ptr().wrapping_add(i).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (v, i);
}
