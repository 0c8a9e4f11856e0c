//! HDF5 access for the grid file: attributes (fixed-length UTF-8 strings,
//! scalars, arrays) checked before anything is allocated, dimension scales
//! (libhdf5_hl, which hdf5-metno does not wrap), libhdf5's errors in
//! densebin's words, and layers opened with their shapes checked.

use std::ffi::CString;

use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Datatype, File, H5Type, Location};
use ndarray::{ArrayView, Dimension};

pub(super) fn attr_scalar<T: H5Type>(loc: &Location, name: &str, v: T) -> hdf5::Result<()> {
    loc.new_attr::<T>().create(name)?.write_scalar(&v)
}

pub(super) fn attr_str(loc: &Location, name: &str, v: &str) -> hdf5::Result<()> {
    attr_strings(loc, name, &[v], true)
}

/// Writes `values` as fixed-length UTF-8 strings (NUL-padded to the
/// longest), a scalar attribute when `scalar`. Fixed-length strings live
/// in the attribute itself, inside the object header that libhdf5
/// checksums; variable-length ones live in the global heap, which has no
/// checksum, and damage there crashed or hung libhdf5 1.10.8 or changed
/// the text silently (`fuzz/corrupt.py`). netCDF writes text attributes
/// the same way; h5py shows them as `bytes`, xarray as `str`.
pub(super) fn attr_strings(
    loc: &Location,
    name: &str,
    values: &[&str],
    scalar: bool,
) -> hdf5::Result<()> {
    let len = values.iter().map(|v| v.len()).max().unwrap_or(0).max(1);
    let mut buf = vec![0u8; len * values.len()];
    for (slot, v) in buf.chunks_exact_mut(len).zip(values) {
        slot[..v.len()].copy_from_slice(v.as_bytes());
    }
    let dtype = Datatype::from_descriptor(&hdf5::types::TypeDescriptor::FixedUnicode(len))?;
    let builder = loc.new_attr_builder().empty_as(&dtype);
    let attr = if scalar {
        builder.shape(()).create(name)?
    } else {
        builder.shape(values.len()).create(name)?
    };
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: `attr` and `dtype` are open identifiers owned by live values;
    // `buf` holds exactly one `len`-byte string (the type's size) per
    // element of the attribute's dataspace, and outlives the call; the
    // global HDF5 lock is held. hdf5-metno's typed writes need the string
    // length at compile time (`FixedUnicode<N>`); this writes any length.
    let status = unsafe { hdf5_sys::h5a::H5Awrite(attr.id(), dtype.id(), buf.as_ptr().cast()) };
    check(status, "H5Awrite")
}

/// The attribute `name` of `loc`; "attribute {name} is missing" only when
/// it is, otherwise libhdf5's reason (a failed checksum, say).
pub(super) fn attr(loc: &Location, name: &str) -> hdf5::Result<hdf5::Attribute> {
    loc.attr(name).map_err(|e| match has_attr(loc, name) {
        Ok(false) => hdf5::Error::from(format!("attribute {name} is missing")),
        _ => e,
    })
}

/// Whether `loc` has an attribute `name`. Not through hdf5-metno's
/// `attr_names`: it turns each attribute's character set into a Rust enum
/// unchecked, and a damaged one made it try to allocate exabytes (found by
/// the damage test on the format 1 layout).
pub(crate) fn has_attr(loc: &Location, name: &str) -> hdf5::Result<bool> {
    let cname = CString::new(name).map_err(|e| hdf5::Error::from(e.to_string()))?;
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: `loc.id()` is an open identifier owned by `loc`, `cname` is
    // NUL-terminated and outlives the call, and the global HDF5 lock is
    // held.
    let found = unsafe { hdf5_sys::h5a::H5Aexists(loc.id(), cname.as_ptr()) };
    check(found.min(0), "H5Aexists")?;
    Ok(found > 0)
}

/// The strings of attribute `name`, fixed-length (format 2) or
/// variable-length (format 1), as the bytes the file holds: the caller
/// decides what invalid UTF-8 means.
pub(super) fn read_strings(loc: &Location, name: &str) -> hdf5::Result<Vec<Vec<u8>>> {
    use hdf5::types::TypeDescriptor as T;
    let attr = attr(loc, name)?;
    let dtype = attr.dtype()?;
    let n = attr.size();
    match dtype.to_descriptor()? {
        T::FixedUnicode(len) | T::FixedAscii(len) => {
            fits(name, n, len)?;
            let mut buf = vec![0u8; len * n];
            let _guard = hdf5_sys::LOCK.lock();
            // SAFETY: `attr` and `dtype` (the attribute's own type, so no
            // conversion) are open identifiers owned by live values; `buf`
            // holds `len` bytes, the type's size, for each of the
            // `attr.size()` elements; the global HDF5 lock is held.
            let status =
                unsafe { hdf5_sys::h5a::H5Aread(attr.id(), dtype.id(), buf.as_mut_ptr().cast()) };
            check(status, "H5Aread")?;
            Ok(fixed_strings(&buf, len))
        }
        T::VarLenUnicode | T::VarLenAscii => Ok(values::<VarLenUnicode>(&attr, name)?
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect()),
        other => Err(hdf5::Error::from(format!(
            "attribute {name} is not a string but {other}"
        ))),
    }
}

/// The most bytes densebin reads from one attribute: an input list of a
/// million long paths, and far less than a damaged size field can claim.
pub(super) const MAX_ATTR_BYTES: usize = 1 << 28;

/// Checks that `count` values of `each` bytes fit [`MAX_ATTR_BYTES`]
/// before they are allocated: an attribute's dataspace says how many
/// values it holds, and a damaged format 1 file (no checksums) claimed
/// exabytes.
pub(super) fn fits(name: &str, count: usize, each: usize) -> hdf5::Result<()> {
    match count.checked_mul(each) {
        Some(b) if b <= MAX_ATTR_BYTES => Ok(()),
        _ => Err(hdf5::Error::from(format!(
            "attribute {name} is larger than {MAX_ATTR_BYTES} bytes"
        ))),
    }
}

/// The values of `attr`, once they are known to fit (see [`fits`]).
pub(super) fn values<T: H5Type>(attr: &hdf5::Attribute, name: &str) -> hdf5::Result<Vec<T>> {
    fits(name, attr.size(), std::mem::size_of::<T>())?;
    attr.read_raw()
}

/// The text of the one-string attribute `name`. libhdf5 hands back
/// whatever bytes the file holds, and hdf5-metno's `VarLenUnicode::as_str`
/// trusts them to be UTF-8: a corrupt file made `str` methods panic (found
/// by fuzzing). The bytes are checked here instead.
pub(crate) fn read_text(loc: &Location, name: &str) -> hdf5::Result<String> {
    match <[Vec<u8>; 1]>::try_from(read_strings(loc, name)?) {
        Ok([one]) => String::from_utf8(one)
            .map_err(|_| hdf5::Error::from(format!("attribute {name} is not valid UTF-8"))),
        Err(many) => Err(hdf5::Error::from(format!(
            "attribute {name} must hold one string, not {}",
            many.len()
        ))),
    }
}

pub(super) fn attr_array<T: H5Type, D: Dimension>(
    loc: &Location,
    name: &str,
    v: ArrayView<'_, T, D>,
) -> hdf5::Result<()> {
    loc.new_attr_builder().with_data(v).create(name).map(drop)
}

/// A 1-D coordinate dataset made a dimension scale named `name`.
pub(super) fn scale(file: &File, name: &str, values: &[f64], long: &str) -> hdf5::Result<Dataset> {
    let ds = file.new_dataset_builder().with_data(values).create(name)?;
    make_scale(ds, name, long)
}

/// A 1-D dataset of fixed-length UTF-8 strings (NUL-padded to the
/// longest, as [`attr_strings`] writes) made a dimension scale named
/// `name`: the category names, which xarray shows as a coordinate.
pub(super) fn string_scale(
    file: &File,
    name: &str,
    values: &[&str],
    long: &str,
) -> hdf5::Result<Dataset> {
    let len = values.iter().map(|v| v.len()).max().unwrap_or(0).max(1);
    let mut buf = vec![0u8; len * values.len()];
    for (slot, v) in buf.chunks_exact_mut(len).zip(values) {
        slot[..v.len()].copy_from_slice(v.as_bytes());
    }
    let dtype = Datatype::from_descriptor(&hdf5::types::TypeDescriptor::FixedUnicode(len))?;
    let ds = file
        .new_dataset_builder()
        .empty_as(&dtype)
        .shape(values.len())
        .create(name)?;
    if !values.is_empty() {
        let _guard = hdf5_sys::LOCK.lock();
        // SAFETY: `ds` and `dtype` are open identifiers owned by live
        // values; `buf` holds exactly one `len`-byte string (the type's
        // size) per element of the dataset's whole dataspace (`H5S_ALL`)
        // and outlives the call; the global HDF5 lock is held. As in
        // `attr_strings`, hdf5-metno's typed writes need the length at
        // compile time.
        let status = unsafe {
            hdf5_sys::h5d::H5Dwrite(
                ds.id(),
                dtype.id(),
                hdf5_sys::h5s::H5S_ALL,
                hdf5_sys::h5s::H5S_ALL,
                hdf5_sys::h5p::H5P_DEFAULT,
                buf.as_ptr().cast(),
            )
        };
        check(status, "H5Dwrite")?;
    }
    make_scale(ds, name, long)
}

/// The strings of `buf`, `len` bytes each: NUL-padded, or NUL-terminated
/// by other writers.
fn fixed_strings(buf: &[u8], len: usize) -> Vec<Vec<u8>> {
    buf.chunks_exact(len)
        .map(|s| {
            let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
            s[..end].to_vec()
        })
        .collect()
}

/// The strings of the 1-D string dataset `name` (as [`string_scale`]
/// writes them, or variable-length ones from other writers).
pub(super) fn read_string_dataset(file: &File, name: &str) -> hdf5::Result<Vec<Vec<u8>>> {
    use hdf5::types::TypeDescriptor as T;
    let ds = file.dataset(name)?;
    let dtype = ds.dtype()?;
    let n = ds.size();
    match dtype.to_descriptor()? {
        T::FixedUnicode(len) | T::FixedAscii(len) => {
            fits(name, n, len)?;
            let mut buf = vec![0u8; len * n];
            if n > 0 {
                let _guard = hdf5_sys::LOCK.lock();
                // SAFETY: `ds` and `dtype` (the dataset's own type, so no
                // conversion) are open identifiers owned by live values;
                // `buf` holds `len` bytes, the type's size, for each of the
                // `ds.size()` elements of its whole dataspace; the global
                // HDF5 lock is held.
                let status = unsafe {
                    hdf5_sys::h5d::H5Dread(
                        ds.id(),
                        dtype.id(),
                        hdf5_sys::h5s::H5S_ALL,
                        hdf5_sys::h5s::H5S_ALL,
                        hdf5_sys::h5p::H5P_DEFAULT,
                        buf.as_mut_ptr().cast(),
                    )
                };
                check(status, "H5Dread")?;
            }
            Ok(fixed_strings(&buf, len))
        }
        T::VarLenUnicode | T::VarLenAscii => {
            fits(name, n, std::mem::size_of::<VarLenUnicode>())?;
            Ok(ds
                .read_raw::<VarLenUnicode>()?
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect())
        }
        other => Err(hdf5::Error::from(format!(
            "dataset {name} is not of strings but {other}"
        ))),
    }
}

fn make_scale(ds: Dataset, name: &str, long: &str) -> hdf5::Result<Dataset> {
    attr_str(&ds, "long_name", long)?;
    let cname = CString::new(name).map_err(|e| hdf5::Error::from(e.to_string()))?;
    let _guard = hdf5_sys::LOCK.lock();
    // SAFETY: `ds.id()` is a valid, open dataset identifier for as long as
    // `ds` lives, `cname` is a NUL-terminated string that outlives the call,
    // and libhdf5 is not thread-safe, so the call holds hdf5-metno's global
    // lock like every other HDF5 call. What it buys: the dimension scales
    // that make `xarray.open_dataset` show x/y coordinates (hdf5-metno has
    // no H5DS API; the `hl` feature links libhdf5_hl).
    let status = unsafe { ffi::H5DSset_scale(ds.id(), cname.as_ptr()) };
    check(status, "H5DSset_scale")?;
    Ok(ds)
}

/// Attaches `scales[i]` to axis `i` of `ds`.
pub(super) fn attach(ds: &Dataset, scales: &[&Dataset]) -> hdf5::Result<()> {
    let _guard = hdf5_sys::LOCK.lock();
    for (idx, sc) in scales.iter().enumerate() {
        // SAFETY: both identifiers are valid open datasets owned by live
        // `Dataset` values, `idx` is below the rank of `ds`, and the global
        // HDF5 lock is held (see `scale`).
        let status = unsafe { ffi::H5DSattach_scale(ds.id(), sc.id(), idx as u32) };
        check(status, "H5DSattach_scale")?;
    }
    Ok(())
}

pub(crate) fn check(status: i32, what: &str) -> hdf5::Result<()> {
    if status < 0 {
        // libhdf5's error stack says why (a full disk, say); the call's
        // name only when it has nothing.
        match hdf5::Error::query() {
            Ok(e) => Err(e),
            Err(_) => Err(hdf5::Error::from(format!("{what} failed"))),
        }
    } else {
        Ok(())
    }
}

mod ffi {
    use hdf5_sys::h5::herr_t;
    use hdf5_sys::h5i::hid_t;
    use std::ffi::{c_char, c_uint};

    // From libhdf5_hl (H5DSpublic.h), linked by hdf5-metno-sys's `hl`
    // feature.
    unsafe extern "C" {
        pub fn H5DSset_scale(dsid: hid_t, dimname: *const c_char) -> herr_t;
        pub fn H5DSattach_scale(did: hid_t, dsid: hid_t, idx: c_uint) -> herr_t;
    }
}

pub(super) fn read_attr<T: H5Type>(file: &File, name: &str) -> hdf5::Result<T> {
    attr(file, name)?.read_scalar::<T>()
}

/// What to do about a grid file whose bytes are damaged.
pub(super) const DAMAGED: &str = "the file is damaged: make it again, or restore a copy";

/// libhdf5's reason for failing, with what to do when it means damage: a
/// failed checksum of the file's metadata.
pub(super) fn reason(e: hdf5::Error) -> String {
    let msg = e.to_string();
    if msg.contains("checksum") {
        format!("{msg}; {DAMAGED}")
    } else {
        msg
    }
}

/// Layer `name` of `file`, which must have the shape `want`.
pub(super) fn dataset_of_shape(
    file: &File,
    name: &str,
    want: &[usize],
) -> std::result::Result<Dataset, String> {
    let ds = file.dataset(name).map_err(|e| {
        if file.link_exists(name) {
            format!("layer {name}: {}", reason(e))
        } else {
            format!("layer {name} is missing")
        }
    })?;
    if ds.shape() != want {
        return Err(format!(
            "layer {name} has shape {:?}, expected {want:?}",
            ds.shape()
        ));
    }
    Ok(ds)
}
