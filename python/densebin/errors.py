"""The exceptions densebin raises.

Every one is a :class:`Error`, and also the built-in exception that fits,
so that ``except ValueError`` catches bad input as for any other library.
Messages are the library's, on one line, with parameters spelled as
keywords (``z_bins=``).
"""


class Error(Exception):
    """Anything densebin reports."""


class InvalidInputError(Error, ValueError):
    """Bad input or arguments: malformed data, impossible ranges or sizes,
    unknown layers, columns of different lengths."""


class FileError(Error, OSError):
    """A file that cannot be read or written, or is not a densebin grid."""


class GridMemoryError(Error, MemoryError):
    """A grid that does not fit in the memory available."""
