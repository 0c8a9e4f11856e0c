//! The Python bindings: argument conversion and calls into the library,
//! nothing else. Binning runs with the GIL released, on a thread of its
//! own, while the calling thread watches for Ctrl-C and trips the run's
//! cancellation token; library errors become the `densebin.errors`
//! exception of their kind, with parameters spelled `name=`.
//!
//! `bin.rs` converts columns and read options and bins (`records.rs` finds
//! columns that are fields of one array of records); `grid.rs` is the
//! `Grid` class; `state.rs` what pickling and `to_xarray` need of a grid;
//! `image.rs` colormaps, shading and the `Image` class.

mod bin;
mod categories;
mod grid;
mod image;
mod records;
mod state;

use std::sync::mpsc;
use std::time::Duration;

use densebin::{Param, RunContext};
use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;

/// How Python spells a parameter in messages: `z_bins=`.
fn keyword(p: Param) -> String {
    format!("{}=", p.name())
}

/// The `densebin.errors` exception for a library error.
pub(crate) fn to_py(py: Python<'_>, e: densebin::Error) -> PyErr {
    use densebin::Error as E;
    if matches!(e, E::Interrupted) {
        return PyKeyboardInterrupt::new_err("interrupted; nothing was written");
    }
    let class = match &e {
        E::OutOfMemory(_) => "GridMemoryError",
        E::Io { .. } | E::Hdf5 { .. } | E::InputChanged { .. } | E::GridFormat { .. } => {
            "FileError"
        }
        _ => "InvalidInputError",
    };
    error(py, class, e.render(keyword))
}

/// `densebin.errors.InvalidInputError(message)`, for checks of the
/// binding's own.
pub(crate) fn invalid_input(py: Python<'_>, message: &str) -> PyErr {
    error(py, "InvalidInputError", message.to_string())
}

fn error(py: Python<'_>, class: &str, message: String) -> PyErr {
    match py
        .import("densebin.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((message,)))
    {
        Ok(err) => PyErr::from_value(err),
        Err(import_failed) => import_failed,
    }
}

/// Runs `work` with the GIL released, on a thread of its own; the calling
/// thread checks for signals every 20 ms (Python runs its handlers only on
/// the main thread) and cancels `ctx` when one raises.
pub(crate) fn interruptible<T: Send>(
    py: Python<'_>,
    ctx: &RunContext,
    work: impl FnOnce() -> densebin::Result<T> + Send,
) -> PyResult<T> {
    let (done, finished) = mpsc::channel();
    // A Mutex makes the receiver shareable with the detached closure.
    let finished = std::sync::Mutex::new(finished);
    let mut raised = None;
    let result = std::thread::scope(|s| {
        let worker = s.spawn(move || {
            let r = work();
            let _ = done.send(());
            r
        });
        loop {
            let stopped = py.detach(|| {
                let rx = finished.lock().unwrap_or_else(|p| p.into_inner());
                rx.recv_timeout(Duration::from_millis(20))
            });
            if !matches!(stopped, Err(mpsc::RecvTimeoutError::Timeout)) {
                break;
            }
            if raised.is_none()
                && let Err(e) = py.check_signals()
            {
                ctx.cancel_token().cancel();
                raised = Some(e);
            }
        }
        worker.join()
    });
    match (raised, result) {
        (Some(signal), _) => Err(signal),
        (None, Ok(r)) => r.map_err(|e| to_py(py, e)),
        (None, Err(_)) => Err(pyo3::exceptions::PyRuntimeError::new_err(
            "densebin: the binning thread panicked; please report this",
        )),
    }
}

/// The compiled part of densebin; see the `densebin` package.
#[pymodule]
fn _densebin(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bin::bin, m)?)?;
    m.add_function(wrap_pyfunction!(bin::bin_files, m)?)?;
    m.add_function(wrap_pyfunction!(bin::bounds, m)?)?;
    m.add_function(wrap_pyfunction!(bin::bounds_files, m)?)?;
    m.add_function(wrap_pyfunction!(bin::ranges_from_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(bin::open, m)?)?;
    m.add_function(wrap_pyfunction!(grid::merge, m)?)?;
    m.add_function(wrap_pyfunction!(image::is_single_colour, m)?)?;
    m.add_function(wrap_pyfunction!(image::layers_for_mode, m)?)?;
    m.add_class::<grid::Grid>()?;
    m.add_class::<image::Image>()?;
    m.add_class::<image::Legend>()?;
    Ok(())
}
