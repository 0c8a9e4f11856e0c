//! Encoding: PNG (8-bit RGBA with straight alpha, the image's first row at
//! the top, settings in text chunks) or a figure's SVG, chosen by the
//! output's extension, written atomically.

use std::io::Write;
use std::path::Path;

use crate::context::RunContext;
use crate::error::{Error, Result};
use crate::figure::Figure;
use crate::fsio::write_atomically;
use crate::grid::Grid;
use crate::image::Image;
use crate::shade::Shading;

/// How hard to compress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Stored, uncompressed.
    None,
    /// fdeflate's ultra-fast mode: the fastest, files about 3 times larger
    /// than level 3.
    Fast,
    /// A zlib level from 1 (fast) to 9 (small).
    Level(u8),
}

impl Default for Compression {
    /// Level 3: nearly the size of level 6 at about half the time.
    fn default() -> Compression {
        Compression::Level(3)
    }
}

impl std::str::FromStr for Compression {
    type Err = Error;

    /// `none`, `fast`, or a level `1` to `9`.
    fn from_str(s: &str) -> Result<Compression> {
        match s {
            "none" => Ok(Compression::None),
            "fast" => Ok(Compression::Fast),
            _ => match s.parse::<u8>() {
                Ok(l @ 1..=9) => Ok(Compression::Level(l)),
                _ => Err(Error::request(format!(
                    "unknown compression {s:?}; use none, fast, or a level from 1 to 9"
                ))),
            },
        }
    }
}

/// An image file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// PNG, the pixels.
    Png,
    /// SVG: vector frame and text, the pixels as embedded PNGs.
    Svg,
}

impl Format {
    /// The format `path`'s extension names (case aside): `.svg` is SVG,
    /// `.png` or none PNG; anything else is an error, so that `OUT.pdf`
    /// does not silently become a PNG.
    pub fn of(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            None | Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            Some(other) => Err(Error::request(format!(
                "{}: unknown image format .{other}; use .png or .svg",
                path.display()
            ))),
        }
    }
}

/// Encodes `img` as PNG into `out`, with `text` as iTXt chunks (UTF-8
/// keyword/value pairs; keywords of 1 to 79 Latin-1 characters).
pub fn encode_png(
    img: &Image,
    out: impl Write,
    compression: Compression,
    text: &[(String, String)],
) -> std::result::Result<(), png::EncodingError> {
    let mut enc = png::Encoder::new(out, img.width() as u32, img.height() as u32);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    // Neighbouring pixels of a density image are nearly independent, so
    // PNG's prediction filters cost time without shrinking the file: on a
    // 4000 x 4000 image, no filter at level 3 was both the fastest and the
    // smallest of none/sub/up/paeth/adaptive. fdeflate's fast mode wants the
    // Up filter (png's own pairing).
    let (deflate, filter) = match compression {
        Compression::None => (
            png::DeflateCompression::NoCompression,
            png::Filter::NoFilter,
        ),
        Compression::Fast => (png::DeflateCompression::FdeflateUltraFast, png::Filter::Up),
        Compression::Level(l) => (png::DeflateCompression::Level(l), png::Filter::NoFilter),
    };
    enc.set_deflate_compression(deflate);
    enc.set_filter(filter);
    for (k, v) in text {
        enc.add_itxt_chunk(k.clone(), v.clone())?;
    }
    let mut writer = enc.write_header()?;
    writer.write_image_data(&img.to_rgba8())?;
    writer.finish()
}

/// Writes `img` to `path` as PNG, atomically (a temporary file in the same
/// folder, renamed into place).
pub fn write_png(
    img: &Image,
    path: &Path,
    compression: Compression,
    text: &[(String, String)],
    ctx: &RunContext,
) -> Result<()> {
    if img.width() == 0
        || img.height() == 0
        || img.width() > u32::MAX as usize
        || img.height() > u32::MAX as usize
    {
        return Err(Error::request(format!(
            "{}: a {}x{} image cannot be stored as PNG",
            path.display(),
            img.width(),
            img.height()
        )));
    }
    write_atomically(path, ctx, |tmp| {
        let file = std::fs::File::create(tmp).map_err(|e| Error::io(path, e))?;
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, file);
        encode_png(img, &mut buf, compression, text).map_err(|e| match e {
            png::EncodingError::IoError(e) => Error::io(path, e),
            other => Error::request(format!("{}: PNG: {other}", path.display())),
        })?;
        buf.flush().map_err(|e| Error::io(path, e))
    })
}

/// Writes `figure` to `path` in the format its extension names (see
/// [`Format::of`]), atomically; `text` goes into the plot area's PNG
/// either way.
pub fn write_figure(
    figure: &Figure<'_>,
    path: &Path,
    compression: Compression,
    text: &[(String, String)],
    ctx: &RunContext,
) -> Result<()> {
    match Format::of(path)? {
        // A bare image is written as it is, without a copy.
        Format::Png => match figure.bare_image() {
            Some(image) => write_png(image, path, compression, text, ctx),
            None => write_png(&figure.to_image(), path, compression, text, ctx),
        },
        Format::Svg => {
            if figure.width() == 0 || figure.height() == 0 {
                return Err(Error::request(format!(
                    "{}: an empty image cannot be stored",
                    path.display()
                )));
            }
            let svg = figure
                .to_svg(compression, text)
                .map_err(|e| Error::request(format!("{}: PNG: {e}", path.display())))?;
            write_atomically(path, ctx, |tmp| {
                std::fs::write(tmp, svg.as_bytes()).map_err(|e| Error::io(path, e))
            })
        }
    }
}

/// The PNG text chunks densebin writes: the program, the canvas, the
/// inputs and the shading (`Software`, `densebin:extent`,
/// `densebin:inputs`, `densebin:mode`, …).
pub fn png_text(grid: &Grid, shading: &Shading) -> Vec<(String, String)> {
    let spec = grid.spec();
    let mut text = vec![
        (
            "Software".to_string(),
            format!("densebin {}", env!("CARGO_PKG_VERSION")),
        ),
        (
            "densebin:extent".to_string(),
            format!(
                "x {:?},{:?} y {:?},{:?}",
                spec.x().lo(),
                spec.x().hi(),
                spec.y().lo(),
                spec.y().hi()
            ),
        ),
    ];
    let inputs: Vec<&str> = grid.inputs().iter().map(|i| i.name.as_str()).collect();
    if !inputs.is_empty() {
        text.push(("densebin:inputs".to_string(), inputs.join(", ")));
    }
    text.extend(
        shading
            .describe()
            .into_iter()
            .map(|(k, v)| (format!("densebin:{k}"), v)),
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Premultiplied;

    #[test]
    fn round_trip_with_text_and_straight_alpha() {
        let mut img = Image::new(3, 2);
        img.set_pixel(0, 0, Premultiplied::from_straight([1.0, 0.5, 0.0], 0.5));
        img.set_pixel(2, 1, Premultiplied::from_straight([0.0, 0.0, 1.0], 1.0));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.png");
        let text = vec![("densebin:mode".to_string(), "density — ünïcode".to_string())];
        for c in [Compression::None, Compression::Fast, Compression::Level(9)] {
            write_png(&img, &path, c, &text, &RunContext::new()).unwrap();
            let decoder =
                png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
            let mut reader = decoder.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (3, 2));
            assert_eq!(info.color_type, png::ColorType::Rgba);
            assert_eq!(
                &buf[..4],
                &[255, 128, 0, 128],
                "straight alpha, top row first"
            );
            assert_eq!(&buf[20..24], &[0, 0, 255, 255]);
            let chunks = &reader.info().utf8_text;
            assert_eq!(chunks[0].keyword, "densebin:mode");
            assert_eq!(chunks[0].get_text().unwrap(), "density — ünïcode");
        }
    }

    #[test]
    fn compression_names() {
        assert_eq!("fast".parse::<Compression>().unwrap(), Compression::Fast);
        assert_eq!("9".parse::<Compression>().unwrap(), Compression::Level(9));
        assert!("0".parse::<Compression>().is_err());
        assert!("best".parse::<Compression>().is_err());
    }
}
