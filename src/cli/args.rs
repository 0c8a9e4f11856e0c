//! Argument groups shared by the subcommands that bin (`bin`, `render`).

use std::path::PathBuf;

use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use densebin::LayerSet;
use densebin::binning::BinRequest;
use densebin::encode::Compression;
use densebin::grid::AxisType;
use densebin::read::{Column, Delimiter, Format, HeaderMode, Input, ReadOptions};
use densebin::shade::{ColorKey, Colormap, How, Mode, Shading, Spread};

/// Canvas size and ranges.
#[derive(Debug, Args)]
#[command(next_help_heading = "Geometry")]
pub struct Geometry {
    /// Pixels across.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub width: usize,

    /// Pixels up.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub height: usize,

    /// x range (default: the finite bounds of the data).
    #[arg(long, value_name = "X0,X1", value_parser = parse_range, allow_hyphen_values = true)]
    pub x_range: Option<(f64, f64)>,

    /// y range (default: the finite bounds of the data).
    #[arg(long, value_name = "Y0,Y1", value_parser = parse_range, allow_hyphen_values = true)]
    pub y_range: Option<(f64, f64)>,

    /// How x maps onto pixels: linear, or log (pixels evenly spaced in
    /// log10 x, as datashader's x_axis_type="log"; x <= 0 is out of range).
    #[arg(long, default_value = "linear", value_parser = named::<AxisType>(AxisType::NAMES))]
    pub x_axis: AxisType,

    /// How y maps onto pixels: linear or log.
    #[arg(long, default_value = "linear", value_parser = named::<AxisType>(AxisType::NAMES))]
    pub y_axis: AxisType,
}

/// How to read the inputs.
#[derive(Debug, Args)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Input format; auto picks by content (Parquet, HDF5, LAS), then by
    /// extension (.npy, .f32, .f64, .parquet, .h5, .las, .laz), else text.
    #[arg(long, default_value = "auto", value_parser = named::<Format>(Format::NAMES))]
    pub format: Format,

    /// Values per record of raw binary input.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub fields: usize,

    /// The x column: a 0-based index, or a name from the header, the
    /// .npy fields, the Parquet schema or the HDF5 dataset paths (default:
    /// column 0; in HDF5, the dataset or field named x when there is one)
    #[arg(long, value_name = "COL")]
    pub x: Option<Column>,

    /// The y column (default: column 1; in HDF5, the one named y)
    #[arg(long, value_name = "COL")]
    pub y: Option<Column>,

    /// The z column (default: column 2 when the input has one).
    #[arg(long, value_name = "COL")]
    pub z: Option<Column>,

    /// A weight column; adds the `weight` layer (sum of weights).
    #[arg(long, value_name = "COL")]
    pub weight: Option<Column>,

    /// A category column (any text; integers of a .npy, Parquet, HDF5 or LAS
    /// file, such as classification); adds
    /// the `count_cat` layer: points per category per pixel.
    #[arg(long, value_name = "COL")]
    pub by: Option<Column>,

    /// Text column separator.
    #[arg(long, default_value = "auto", value_parser = named::<Delimiter>(Delimiter::NAMES))]
    pub delimiter: Delimiter,

    /// Whether a text file starts with a header line of column names;
    /// auto: when its first line holds a field that is not a number.
    #[arg(long, default_value = "auto", value_parser = named::<HeaderMode>(HeaderMode::NAMES))]
    pub header: HeaderMode,

    /// Count and skip malformed text lines instead of stopping at the first.
    #[arg(long)]
    pub skip_bad_lines: bool,
}

/// Which accumulators to keep.
#[derive(Debug, Args)]
#[command(next_help_heading = "Layers")]
pub struct LayerArgs {
    /// Comma-separated layers: count, sum, minmax, std, zhist, weight,
    /// count_cat [default: count,sum,minmax,zhist with a z column, else
    /// count; count_cat with --by].
    #[arg(long, value_name = "LIST", value_parser = library::<LayerSet>)]
    pub layers: Option<LayerSet>,

    /// z-histogram bins per pixel (memory: 4 bytes x bins x pixels).
    #[arg(long, default_value_t = BinRequest::DEFAULT_Z_BINS, value_name = "K")]
    pub z_bins: usize,

    /// z-histogram range (default: the finite bounds of z on the canvas).
    #[arg(long, value_name = "Z0,Z1", value_parser = parse_range, allow_hyphen_values = true)]
    pub z_range: Option<(f64, f64)>,

    /// The categories --by counts, comma-separated, in this order (default:
    /// those in the data, sorted: by number when all are integers, else by
    /// name). Points of other categories are counted as uncategorised.
    #[arg(long, value_name = "A,B,..", requires = "by", value_delimiter = ',')]
    pub categories: Option<Vec<String>>,

    /// Memory the grids may use, e.g. 8G or 512M (default: what the system
    /// has available).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

/// A parser for one of `names` (which `--help` lists), by the library's
/// `FromStr`.
fn named<T>(names: &'static [&'static str]) -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(names)
        .try_map(|s| s.parse::<T>().map_err(|_| "not one of the listed names"))
}

impl InputArgs {
    /// The library's read options.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            format: self.format,
            fields: self.fields,
            delimiter: self.delimiter,
            header: self.header,
            x: self.x.clone(),
            y: self.y.clone(),
            z: self.z.clone(),
            weight: self.weight.clone(),
            by: self.by.clone(),
            skip_bad_lines: self.skip_bad_lines,
        }
    }

    /// Opens every input (`-` is standard input, at most once).
    pub fn open(&self, paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
        let opts = self.read_options();
        if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
            anyhow::bail!(densebin::Error::InvalidRequest(
                "standard input (-) can be named only once".to_string()
            ));
        }
        paths
            .iter()
            .map(|p| Input::open(p, &opts).map_err(anyhow::Error::from))
            .collect()
    }
}

/// The library's bin request from the geometry and layer flags.
pub fn bin_request(g: &Geometry, l: &LayerArgs) -> BinRequest {
    BinRequest {
        width: g.width,
        height: g.height,
        x_range: g.x_range,
        y_range: g.y_range,
        x_axis: g.x_axis,
        y_axis: g.y_axis,
        layers: l.layers,
        z_bins: l.z_bins,
        z_range: l.z_range,
        chunk_size: None,
        categories: l.categories.clone(),
    }
}

/// `LO,HI` as two finite numbers.
pub fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("expected LO,HI, found {s:?}"))?;
    let num = |t: &str| {
        t.trim()
            .parse::<f64>()
            .map_err(|_| format!("expected a number, found {t:?}"))
    };
    let (lo, hi) = (num(a)?, num(b)?);
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(format!("the range {s} must be finite"));
    }
    if lo >= hi {
        return Err(format!(
            "the range {s} is empty or inverted: LO must be below HI"
        ));
    }
    Ok((lo, hi))
}

/// A size in bytes: `123`, `64K`, `512M`, `8G`, `1.5T` (binary units; a
/// trailing `B` or `iB` is allowed).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown unit in {s:?}; use K, M, G or T")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("expected a size such as 8G, found {s:?}"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("expected a size such as 8G, found {s:?}"));
    }
    Ok((v * mult as f64) as u64)
}

/// Thousands separators for counts in messages.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Adds the output path to an error's context, unless the error already
/// starts with it (`g.h5: HDF5: …`, not `writing g.h5: g.h5: HDF5: …`).
pub fn writing<T>(r: densebin::Result<T>, path: &std::path::Path) -> anyhow::Result<T> {
    r.map_err(|e| {
        let named = e.to_string().starts_with(&*path.to_string_lossy());
        let e = anyhow::Error::from(e);
        if named {
            e
        } else {
            e.context(format!("writing {}", path.display()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("-10,10"), Ok((-10.0, 10.0)));
        assert_eq!(parse_range(" 1e3 , 2e3"), Ok((1000.0, 2000.0)));
        assert!(parse_range("1,1").is_err());
        assert!(parse_range("2,1").is_err());
        assert!(parse_range("nan,1").is_err());
        assert!(parse_range("1").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("8GiB"), Ok(8 << 30));
        assert_eq!(parse_size("1.5M"), Ok(3 << 19));
        assert!(parse_size("8X").is_err());
        assert!(parse_size("-1").is_err());
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}

/// How to shade a grid and encode the image.
#[derive(Debug, Args)]
#[command(next_help_heading = "Shading")]
pub struct ShadeArgs {
    /// What colour shows: density (count), mean, min, max or std of z,
    /// scatter (matplotlib's plt.scatter with per-point --alpha), or
    /// categorical (the --by categories' colours mixed by count, opacity by
    /// the total; datashader's shade of by(col, count())).
    #[arg(long, default_value = "density", value_parser = library::<Mode>)]
    pub mode: Mode,

    /// Density of the --weight column's sum instead of the count.
    #[arg(long)]
    pub weighted: bool,

    /// Colormap: a name (viridis, magma, turbo, YlOrRd, ...; NAME_r
    /// reverses it) or colours "#000000,#ff0000,#ffff00".
    #[arg(long, default_value = "viridis", value_name = "CMAP", value_parser = library::<Colormap>)]
    pub cmap: Colormap,

    /// linear, log, cbrt or eq_hist. Density: the value's scale (default
    /// eq_hist). mean/min/max/std: opacity follows the count through it
    /// (default: constant opacity). categorical: opacity follows the total
    /// count through it (default eq_hist).
    #[arg(long, value_parser = library::<How>)]
    pub how: Option<How>,

    /// Clip the count (or weight sum) to LO,HI before normalising.
    #[arg(long, value_name = "LO,HI", value_parser = parse_range, allow_hyphen_values = true)]
    pub span: Option<(f64, f64)>,

    /// z at the two ends of the colormap (default: the extremes of the
    /// statistic; scatter: the grid's z range).
    #[arg(long, value_name = "LO,HI", value_parser = parse_range, allow_hyphen_values = true)]
    pub z_span: Option<(f64, f64)>,

    /// Opacity in [0, 1]: of the densest pixel, or in scatter mode of one
    /// point.
    #[arg(long, default_value_t = 1.0, value_name = "A")]
    pub alpha: f64,

    /// Opacity of the least dense non-empty pixel when opacity shows density
    /// [default: --alpha for a density colormap of several colours, else
    /// 40/255].
    #[arg(long, value_name = "A")]
    pub min_alpha: Option<f64>,

    /// A colour (#rrggbb, #rgb, white, black, ...) to composite the image
    /// over, or transparent.
    #[arg(long, default_value = "transparent", value_name = "COLOR", value_parser = parse_background)]
    pub background: Background,

    /// Grow every pixel into a disc of radius N pixels.
    #[arg(
        long,
        default_value_t = 0,
        value_name = "N",
        conflicts_with = "dynspread"
    )]
    pub spread: usize,

    /// Spread by the radius datashader's dynspread picks: the largest, up
    /// to --max-spread, at which at most --threshold of the non-empty
    /// pixels have non-empty neighbours.
    #[arg(long)]
    pub dynspread: bool,

    /// With --dynspread: the fraction of non-empty pixels with neighbours,
    /// in [0, 1], that stops the spreading; higher spreads more.
    #[arg(long, default_value_t = 0.5, value_name = "T", requires = "dynspread")]
    pub threshold: f64,

    /// With --dynspread: the largest radius.
    #[arg(long, default_value_t = 3, value_name = "N", requires = "dynspread")]
    pub max_spread: usize,

    /// Categorical mode: each category's colour, NAME=COLOR,... (every
    /// category needs one).
    #[arg(long, value_name = "NAME=COLOR,..", value_parser = library_key, conflicts_with = "palette")]
    pub color_key: Option<ColorKey>,

    /// Categorical mode: a palette whose colours go to the categories in
    /// their order [default: category10].
    #[arg(long, value_parser = PossibleValuesParser::new(densebin::shade::palette_names().collect::<Vec<_>>()))]
    pub palette: Option<String>,

    /// PNG compression: none, fast, or a level from 1 to 9.
    #[arg(long, default_value = "3", value_name = "LEVEL", value_parser = library::<Compression>)]
    pub compression: Compression,

    #[command(flatten)]
    pub frame: FrameArgs,
}

/// A figure around the image.
#[derive(Debug, Args)]
#[command(next_help_heading = "Figure")]
pub struct FrameArgs {
    /// Frame the image as a figure: the image pixel for pixel inside axes
    /// with ticks and tick labels in data units (matplotlib's), axis
    /// labels, a title and a colorbar of the image's own colour scale.
    #[arg(long)]
    pub frame: bool,

    /// With --frame: a title above the plot.
    #[arg(long, value_name = "TEXT", requires = "frame")]
    pub title: Option<String>,

    /// With --frame: the x axis's label [default: the inputs' x column
    /// name from a header or .npy fields, else x].
    #[arg(long, value_name = "TEXT", requires = "frame")]
    pub x_label: Option<String>,

    /// With --frame: the y axis's label [default: the y column's name, or
    /// y].
    #[arg(long, value_name = "TEXT", requires = "frame")]
    pub y_label: Option<String>,

    /// With --frame: the colorbar's label [default: what the colour shows,
    /// such as count, mean of z, or in scatter mode z (opacity: density)].
    #[arg(long, value_name = "TEXT", requires = "frame")]
    pub colorbar_label: Option<String>,

    /// With --frame: no colorbar.
    #[arg(long, requires = "frame")]
    pub no_colorbar: bool,

    /// With --frame: tick label size in points; other text scales with it.
    #[arg(long, default_value_t = 10.0, value_name = "PT", requires = "frame")]
    pub font_size: f32,

    /// With --frame: the figure's background outside the plot area
    /// (--background stays the plot area's).
    #[arg(long, default_value = "white", value_name = "COLOR", value_parser = library_colour, requires = "frame")]
    pub figure_background: densebin::shade::Rgb,
}

fn library_key(s: &str) -> Result<ColorKey, String> {
    ColorKey::parse_colors(s).map_err(|e| e.render(super::flag))
}

fn library_colour(s: &str) -> Result<densebin::shade::Rgb, String> {
    densebin::shade::parse_color(s).map_err(|e| e.render(super::flag))
}

impl FrameArgs {
    /// The library's frame options, when framing; axis labels default to
    /// `axis_names` (the inputs' column names, or x and y).
    pub fn options(&self, axis_names: [String; 2]) -> Option<densebin::figure::FrameOptions> {
        self.frame.then(|| {
            let d = densebin::figure::FrameOptions::default();
            let [x_name, y_name] = axis_names;
            densebin::figure::FrameOptions {
                title: self.title.clone(),
                x_label: self.x_label.clone().unwrap_or(x_name),
                y_label: self.y_label.clone().unwrap_or(y_name),
                colorbar: !self.no_colorbar,
                colorbar_label: self.colorbar_label.clone(),
                font_size: self.font_size,
                ..d
            }
            .on_background(self.figure_background)
        })
    }
}

/// `--background`: a colour or transparent.
#[derive(Clone, Copy, Debug)]
pub struct Background(pub Option<densebin::shade::Rgb>);

fn parse_background(s: &str) -> Result<Background, String> {
    if s.eq_ignore_ascii_case("transparent") || s.eq_ignore_ascii_case("none") {
        Ok(Background(None))
    } else {
        densebin::shade::parse_color(s)
            .map(|c| Background(Some(c)))
            .map_err(|e| e.render(super::flag))
    }
}

/// A value the library parses, its error spelled for the command line.
fn library<T>(s: &str) -> Result<T, String>
where
    T: std::str::FromStr<Err = densebin::Error>,
{
    s.parse()
        .map_err(|e: densebin::Error| e.render(super::flag))
}

impl ShadeArgs {
    /// The library's shading settings.
    pub fn shading(&self) -> Shading {
        Shading {
            mode: self.mode,
            weighted: self.weighted,
            cmap: self.cmap.clone(),
            how: self.how,
            span: self.span,
            z_span: self.z_span,
            alpha: self.alpha,
            min_alpha: self.min_alpha,
            background: self.background.0,
            spread: if self.dynspread {
                Spread::Dynamic {
                    threshold: self.threshold,
                    max: self.max_spread,
                }
            } else {
                Spread::Fixed(self.spread)
            },
            color_key: self
                .color_key
                .clone()
                .or_else(|| self.palette.clone().map(ColorKey::Palette)),
        }
    }
}
