"""Grid.to_xarray: the grid as the xarray.Dataset that xarray.open_dataset
gives for its saved file, built from the library's own description of the
file (its attributes, coordinates and variables), without writing one."""

import numpy as np


def _as_read(value):
    """An attribute as netCDF readers give it back: strings as str, a
    one-element array as its element, other arrays as numpy arrays."""
    if isinstance(value, list):  # strings, one per input
        return value[0] if len(value) == 1 else np.array(value)
    if isinstance(value, np.ndarray) and value.shape == (1,):
        return value[0]
    return value


def to_xarray(grid):
    import xarray as xr

    coords = {
        name: (name, values, {"long_name": long}) for name, values, long in grid.coordinates()
    }
    data_vars = {
        name: (tuple(dims), values, {"long_name": long})
        for name, dims, long, values in grid.variables()
    }
    attrs = {name: _as_read(value) for name, value in grid.file_attributes()}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
