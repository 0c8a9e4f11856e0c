//! What happened to every point and line, and where the points came from.

use std::ops::AddAssign;

/// Declares [`Counters`] once: the fields, their names in grid files, and
/// the sum.
macro_rules! counters {
    ($($(#[doc = $doc:literal])* $name:ident),* $(,)?) => {
        /// What happened to every point and line: nothing is dropped
        /// silently.
        ///
        /// For every grid, `points_read == points_binned + nonfinite_xy +
        /// out_of_range`.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Counters {
            $($(#[doc = $doc])* pub $name: u64,)*
        }

        impl Counters {
            /// The names and values, in a stable order (as stored in grid
            /// files).
            pub fn fields(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($name), self.$name)),*]
            }

            /// Sets the counter called `name`; false when there is none.
            pub fn set(&mut self, name: &str, value: u64) -> bool {
                match name {
                    $(stringify!($name) => self.$name = value,)*
                    _ => return false,
                }
                true
            }
        }

        impl AddAssign for Counters {
            fn add_assign(&mut self, o: Counters) {
                $(self.$name += o.$name;)*
            }
        }
    };
}

counters! {
    /// Points read from the inputs (records, or text lines with data).
    points_read,
    /// Points that landed in a pixel.
    points_binned,
    /// Points with a NaN or infinite x or y.
    nonfinite_xy,
    /// Finite points outside the x or y range.
    out_of_range,
    /// Binned points whose z is NaN or infinite (left out of every z layer).
    nonfinite_z,
    /// Binned points whose weight is NaN or infinite (left out of `sum_w`).
    nonfinite_w,
    /// Binned points whose finite z lies outside the histogram's z range
    /// (counted in its first or last bin).
    z_clipped,
    /// Text lines without data: blank lines, comments, headers.
    lines_ignored,
    /// Malformed text lines skipped because skipping was asked for.
    bad_lines,
    /// Binned points counted in no category (layer `count_cat`): an empty
    /// or missing category, or one outside a fixed set.
    uncategorised,
}

/// Where a grid's points came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputInfo {
    /// The path as given (`-` for standard input).
    pub name: String,
    /// Size in bytes, when known.
    pub size: Option<u64>,
    /// Modification time in seconds since the Unix epoch, when known.
    pub mtime: Option<i64>,
    /// Line numbers of the first malformed lines skipped (at most
    /// [`InputInfo::MAX_BAD_LINES`]).
    pub bad_lines: Vec<u64>,
    /// The names of the x and y columns, from a header or a structured
    /// `.npy` (a figure's default axis labels); empty when the input has
    /// none.
    pub columns: [String; 2],
    /// The format it was read as (`text`, `gzip text`, `npy`, `parquet`,
    /// `hdf5`, …, `array` for memory); empty when unknown (grids written
    /// before formats were kept).
    pub format: String,
}

impl InputInfo {
    /// How many skipped line numbers are kept per input.
    pub const MAX_BAD_LINES: usize = 5;

    /// The x and y axis names of grids of these inputs: their columns' names
    /// when every input has the same ones, else `x` and `y`.
    pub fn axis_names(inputs: &[InputInfo]) -> [String; 2] {
        let names = |axis: usize, default: &str| {
            let first = inputs.first().map(|i| i.columns[axis].as_str());
            match first {
                Some(n) if !n.is_empty() && inputs.iter().all(|i| i.columns[axis] == n) => {
                    n.to_string()
                }
                _ => default.to_string(),
            }
        };
        [names(0, "x"), names(1, "y")]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_set_and_list_every_field() {
        let mut a = Counters::default();
        let names: Vec<&str> = a.fields().iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), 10);
        assert_eq!(names[0], "points_read");
        for (i, n) in names.iter().enumerate() {
            assert!(a.set(n, i as u64 + 1));
        }
        assert!(!a.set("bogus", 1));
        let mut b = a;
        b += a;
        for (i, (_, v)) in b.fields().into_iter().enumerate() {
            assert_eq!(v, 2 * (i as u64 + 1));
        }
    }
}
