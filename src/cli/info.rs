//! `densebin info GRID.h5 [--json]`: describe a grid file.

use std::fmt::Write as _;
use std::path::PathBuf;

use densebin::store::{GridHeader, read_count, read_header};
use densebin::sys::format_bytes;

use super::args::thousands;

/// Arguments of `densebin info`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The grid file.
    #[arg(value_name = "GRID.h5")]
    pub grid: PathBuf,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Pixel statistics from the `count` layer.
struct Occupancy {
    nonempty: u64,
    max: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let header = read_header(&args.grid)?;
    let count = read_count(&args.grid)?;
    let occ = Occupancy {
        nonempty: count.iter().filter(|&&c| c > 0).count() as u64,
        max: count.iter().copied().max().unwrap_or(0),
    };
    let path = args.grid.display().to_string();
    if args.json {
        println!("{}", json(&path, &header, &occ));
    } else {
        print!("{}", text(&path, &header, &occ));
    }
    Ok(())
}

fn text(path: &str, h: &GridHeader, occ: &Occupancy) -> String {
    let s = &h.spec;
    let c = &h.counters;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{path}: densebin grid (format {}, written by densebin {})",
        h.format_version, h.densebin_version
    );
    if h.format_version < 2 {
        // docs/errors.md, "Damaged grid files".
        let _ = writeln!(
            out,
            "note     format 1 has no checksums: damage to it can go unnoticed or crash \
             libhdf5; `densebin merge {path} -o NEW.h5` rewrites it as format 2"
        );
    }
    let _ = writeln!(
        out,
        "canvas   {} x {} pixels, x {} .. {}, y {} .. {} ({}, row 0 at the bottom)",
        s.width(),
        s.height(),
        s.x().lo(),
        s.x().hi(),
        s.y().lo(),
        s.y().hi(),
        match (s.x().axis_type(), s.y().axis_type()) {
            (x, y) if x == y => format!("{x} axes"),
            (x, y) => format!("{x} x, {y} y"),
        }
    );
    let _ = write!(out, "layers   {}", s.layers());
    if let Some(z) = s.zbins() {
        let _ = write!(out, " ({} z bins over {} .. {})", z.len(), z.lo(), z.hi());
    }
    let _ = writeln!(out);
    if let Some(cats) = s.categories() {
        // Names that would read ambiguously in a list are quoted.
        let shown: Vec<String> = cats
            .names()
            .iter()
            .map(|n| {
                if n.contains([',', '"']) || n.trim() != n || n.is_empty() {
                    format!("{n:?}")
                } else {
                    n.clone()
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "categories {}{}: {}",
            cats.len(),
            if cats.is_fixed() { " (fixed)" } else { "" },
            shown.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "pixels   {} non-empty of {}, at most {} points in one",
        thousands(occ.nonempty),
        thousands(s.width() as u64 * s.height() as u64),
        thousands(occ.max)
    );
    let _ = writeln!(
        out,
        "points   {} read, {} binned, {} non-finite x/y, {} out of range, {} non-finite z, {} non-finite weight, {} z clipped",
        thousands(c.points_read),
        thousands(c.points_binned),
        thousands(c.nonfinite_xy),
        thousands(c.out_of_range),
        thousands(c.nonfinite_z),
        thousands(c.nonfinite_w),
        thousands(c.z_clipped)
    );
    if s.categories().is_some() {
        let _ = writeln!(
            out,
            "         {} binned without a category",
            thousands(c.uncategorised)
        );
    }
    let _ = writeln!(
        out,
        "lines    {} without data (blank, comment, header), {} malformed and skipped",
        thousands(c.lines_ignored),
        thousands(c.bad_lines)
    );
    for i in &h.inputs {
        let _ = write!(out, "input    {}", i.name);
        let mut facts = Vec::new();
        if !i.format.is_empty() {
            facts.push(i.format.clone());
        }
        if let Some(size) = i.size {
            facts.push(format_bytes(size));
        }
        if let Some(t) = i.mtime {
            facts.push(format!("modified {}", iso8601(t)));
        }
        if !i.bad_lines.is_empty() {
            let lines: Vec<String> = i.bad_lines.iter().map(u64::to_string).collect();
            facts.push(format!("first skipped lines {}", lines.join(", ")));
        }
        if !facts.is_empty() {
            let _ = write!(out, " ({})", facts.join(", "));
        }
        let _ = writeln!(out);
    }
    out
}

fn json(path: &str, h: &GridHeader, occ: &Occupancy) -> String {
    let s = &h.spec;
    let mut o = String::from("{");
    let _ = write!(o, "\"path\":{},", json_str(path));
    let _ = write!(o, "\"format\":{},", json_str(densebin::store::FORMAT_NAME));
    let _ = write!(o, "\"format_version\":{},", h.format_version);
    let _ = write!(o, "\"densebin_version\":{},", json_str(&h.densebin_version));
    let _ = write!(o, "\"width\":{},\"height\":{},", s.width(), s.height());
    let _ = write!(
        o,
        "\"x_range\":[{},{}],\"y_range\":[{},{}],",
        json_num(s.x().lo()),
        json_num(s.x().hi()),
        json_num(s.y().lo()),
        json_num(s.y().hi())
    );
    let _ = write!(
        o,
        "\"x_axis_type\":{},\"y_axis_type\":{},",
        json_str(s.x().axis_type().name()),
        json_str(s.y().axis_type().name())
    );
    let layers: Vec<String> = s.layers().iter().map(|l| json_str(l.name())).collect();
    let _ = write!(o, "\"layers\":[{}],", layers.join(","));
    match s.zbins() {
        Some(z) => {
            let _ = write!(
                o,
                "\"z_bins\":{},\"z_range\":[{},{}],",
                z.len(),
                json_num(z.lo()),
                json_num(z.hi())
            );
        }
        None => o.push_str("\"z_bins\":0,\"z_range\":null,"),
    }
    if let Some(cats) = s.categories() {
        let names: Vec<String> = cats.names().iter().map(|n| json_str(n)).collect();
        let _ = write!(o, "\"categories\":[{}],", names.join(","));
    }
    let counters: Vec<String> = h
        .counters
        .fields()
        .iter()
        .map(|(k, v)| format!("{}:{v}", json_str(k)))
        .collect();
    let _ = write!(o, "\"counters\":{{{}}},", counters.join(","));
    let _ = write!(
        o,
        "\"nonempty_pixels\":{},\"max_count\":{},",
        occ.nonempty, occ.max
    );
    let inputs: Vec<String> = h
        .inputs
        .iter()
        .map(|i| {
            let bad: Vec<String> = i.bad_lines.iter().map(u64::to_string).collect();
            format!(
                "{{\"name\":{},\"format\":{},\"size\":{},\"mtime\":{},\"bad_lines\":[{}]}}",
                json_str(&i.name),
                if i.format.is_empty() {
                    "null".to_string()
                } else {
                    json_str(&i.format)
                },
                i.size.map_or("null".to_string(), |v| v.to_string()),
                i.mtime
                    .map_or("null".to_string(), |t| json_str(&iso8601(t))),
                bad.join(",")
            )
        })
        .collect();
    let _ = write!(o, "\"inputs\":[{}]}}", inputs.join(","));
    o
}

/// A JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number (`null` for values JSON cannot hold).
fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        "null".to_string()
    }
}

/// `2026-11-27T07:42:12Z` from seconds since the Unix epoch.
fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_795_765_332), "2026-11-27T07:42:12Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn json_escapes() {
        assert_eq!(json_str("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(json_num(1.5), "1.5");
        assert_eq!(json_num(f64::INFINITY), "null");
    }
}
