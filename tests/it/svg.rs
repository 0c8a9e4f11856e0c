//! SVG figures (`-o OUT.svg`): a golden SVG, and the SVG against the
//! figure's own marks and the PNG: the same rectangles, the plot area as
//! the bare PNG byte for byte, every text's outline inside the box the
//! raster layout gave it, and bare SVGs, unknown extensions and atomic
//! writes through the command line.

use densebin::encode::{Compression, encode_png};
use densebin::figure::{FrameOptions, Mark, frame};
use densebin::shade::{How, Mode, Shading, shade};

use crate::figure::grid;
use crate::scenario::Scenario;
use crate::shading::Png;

/// The elements of an SVG densebin wrote, named by tag, with their
/// attributes in order (a writer this simple needs no XML parser).
fn elements(svg: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for piece in svg.split('<').skip(1) {
        let body = piece.split('>').next().unwrap().trim_end_matches('/');
        let mut words = body.splitn(2, ' ');
        let tag = words.next().unwrap().to_string();
        let mut attrs = Vec::new();
        let mut rest = words.next().unwrap_or("");
        while let Some(eq) = rest.find("=\"") {
            let name = rest[..eq].trim().to_string();
            let end = rest[eq + 2..].find('"').unwrap();
            attrs.push((name, rest[eq + 2..eq + 2 + end].to_string()));
            rest = &rest[eq + 3 + end..];
        }
        out.push((tag, attrs));
    }
    out
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> &'a str {
    &attrs.iter().find(|(n, _)| n == name).unwrap().1
}

fn num(attrs: &[(String, String)], name: &str) -> usize {
    attr(attrs, name).parse().unwrap()
}

/// RFC 4648 base64, decoded.
fn unbase64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let mut out = Vec::new();
    for quad in s.as_bytes().chunks(4) {
        let n = quad
            .iter()
            .take_while(|&&c| c != b'=')
            .fold((0u32, 0), |(n, k), &c| {
                (n | u32::from(value(c)) << (18 - 6 * k), k + 1)
            });
        out.extend(&n.0.to_be_bytes()[1..n.1.max(1)]);
    }
    out
}

/// The embedded PNG of an `<image>`'s attributes.
fn embedded(attrs: &[(String, String)]) -> Vec<u8> {
    let href = attr(attrs, "href");
    unbase64(href.strip_prefix("data:image/png;base64,").unwrap())
}

/// The points of a path's data.
fn points(d: &str) -> Vec<(f32, f32)> {
    let numbers: Vec<f32> = d
        .split(|c: char| c.is_ascii_alphabetic() || c == ' ')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    numbers.chunks(2).map(|p| (p[0], p[1])).collect()
}

#[test]
fn base64_is_rfc_4648() {
    // The encoder is checked through the PNGs it embeds below; the decoder
    // here against the RFC's own vectors.
    for (plain, coded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(unbase64(coded), plain.as_bytes());
    }
}

#[test]
fn the_svg_draws_the_figures_marks() {
    let s = Scenario::new();
    let g = grid(&s);
    let text = vec![("Software".to_string(), "densebin test".to_string())];
    for (shading, opts) in [
        (Shading::default(), FrameOptions::default()),
        (
            Shading {
                mode: Mode::Mean,
                how: Some(How::EqHist),
                ..Shading::default()
            },
            FrameOptions {
                title: Some("a <title> & \"quotes\"".to_string()),
                font_size: 14.0,
                ..FrameOptions::default()
            },
        ),
        (
            Shading {
                mode: Mode::Scatter,
                ..Shading::default()
            },
            FrameOptions {
                colorbar: false,
                ..FrameOptions::default().on_background([0.1, 0.1, 0.1])
            },
        ),
    ] {
        let shaded = shade(&g, &shading).unwrap();
        let figure = frame(&shaded.image, &shaded.legend, g.spec(), &opts);
        let svg = figure.to_svg(Compression::Level(3), &text).unwrap();
        let els = elements(&svg);
        let (tag, root) = els.iter().find(|(t, _)| t == "svg").unwrap();
        assert_eq!(tag, "svg");
        assert_eq!(num(root, "width"), figure.width());
        assert_eq!(num(root, "height"), figure.height());
        let drawn: Vec<_> = els
            .iter()
            .filter(|(t, _)| matches!(t.as_str(), "rect" | "image" | "path"))
            .collect();
        assert_eq!(drawn.len(), figure.marks().len());
        let mut first_image = true;
        for ((tag, attrs), mark) in drawn.iter().zip(figure.marks()) {
            match mark {
                Mark::Rect {
                    x0,
                    y0,
                    x1,
                    y1,
                    colour,
                } => {
                    assert_eq!(tag, "rect");
                    let got = [
                        num(attrs, "x"),
                        num(attrs, "y"),
                        num(attrs, "width"),
                        num(attrs, "height"),
                    ];
                    assert_eq!(got, [*x0, *y0, x1 - x0, y1 - y0]);
                    let [r, g, b] = colour.map(densebin::image::to_u8);
                    assert_eq!(attr(attrs, "fill"), format!("#{r:02x}{g:02x}{b:02x}"));
                }
                Mark::Raster { x, y, image } => {
                    assert_eq!(tag, "image");
                    let got = [
                        num(attrs, "x"),
                        num(attrs, "y"),
                        num(attrs, "width"),
                        num(attrs, "height"),
                    ];
                    assert_eq!(got, [*x, *y, image.width(), image.height()]);
                    assert!(attr(attrs, "style").contains("image-rendering:pixelated"));
                    // The plot area is the bare PNG, byte for byte; the
                    // colorbar's pixels are the raster's.
                    let mut png = Vec::new();
                    let chunks = if first_image { &text[..] } else { &[] };
                    encode_png(image, &mut png, Compression::Level(3), chunks).unwrap();
                    assert_eq!(embedded(attrs), png);
                    if first_image {
                        assert_eq!((*x, *y), figure.plot());
                        assert_eq!(image.as_ref(), &shaded.image);
                    }
                    first_image = false;
                }
                Mark::Text { text, .. } => {
                    assert_eq!(tag, "path");
                    let label = attr(attrs, "aria-label")
                        .replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&quot;", "\"")
                        .replace("&amp;", "&");
                    assert_eq!(&label, text);
                    // The outline stays within the line's box (ascent,
                    // descent, advance), where the raster drew it.
                    let [l, t, r, b] = mark.bounds();
                    let pts = points(attr(attrs, "d"));
                    assert!(!pts.is_empty() || text.trim().is_empty(), "{text}");
                    for (x, y) in pts {
                        assert!(
                            x >= l - 1.0 && x <= r + 1.0 && y >= t - 1.0 && y <= b + 1.0,
                            "{text}: ({x}, {y}) outside {:?}",
                            [l, t, r, b]
                        );
                    }
                }
                other => panic!("a mark this test does not know: {other:?}"),
            }
        }
    }
}

#[test]
fn svg_golden() {
    let s = Scenario::new();
    grid(&s);
    s.ok(&[
        "shade",
        "g.h5",
        "-o",
        "fig.svg",
        "--frame",
        "--mode",
        "mean",
        "--how",
        "eq_hist",
        "--title",
        "mean of z",
        "--colorbar-label",
        "z (m)",
        "-q",
    ]);
    let golden = crate::shading::golden_dir().join("framed_mean.svg");
    let got = std::fs::read_to_string(s.path("fig.svg")).unwrap();
    if std::env::var_os("DENSEBIN_BLESS").is_some() {
        std::fs::write(&golden, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    // Everything but the embedded PNGs' bytes exactly; those by their
    // pixels, so that a new deflate in the png crate does not matter.
    let (g, w) = (elements(&got), elements(&want));
    assert_eq!(
        g.len(),
        w.len(),
        "SVG differs from tests/golden/framed_mean.svg; if intended, regenerate with DENSEBIN_BLESS=1"
    );
    for ((gt, ga), (wt, wa)) in g.iter().zip(&w) {
        assert_eq!(gt, wt);
        if gt == "image" {
            let decode = |a: &[(String, String)]| {
                let path = s.write("embedded.png", embedded(a));
                let p = Png::read(&path);
                (p.width, p.height, p.rgba)
            };
            assert!(
                decode(ga) == decode(wa),
                "an embedded image differs from the golden one"
            );
            let strip = |a: &[(String, String)]| {
                a.iter()
                    .filter(|(n, _)| n != "href")
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(strip(ga), strip(wa));
        } else {
            assert_eq!(
                ga, wa,
                "SVG differs from tests/golden/framed_mean.svg in <{gt}>; if intended, regenerate with DENSEBIN_BLESS=1"
            );
        }
    }
}

#[test]
fn svg_through_the_command_line() {
    let s = Scenario::new();
    grid(&s);
    // A bare SVG is the image alone: its PNG is the bare PNG's bytes.
    s.ok(&["shade", "g.h5", "-o", "bare.png", "-q"]);
    s.ok(&["shade", "g.h5", "-o", "bare.SVG", "-q"]);
    let svg = std::fs::read_to_string(s.path("bare.SVG")).unwrap();
    let images: Vec<_> = elements(&svg)
        .into_iter()
        .filter(|(t, _)| t == "image")
        .collect();
    assert_eq!(images.len(), 1);
    assert_eq!(
        embedded(&images[0].1),
        std::fs::read(s.path("bare.png")).unwrap()
    );
    // render writes SVG too; the framed PNG's plot area is in it.
    s.ok(&[
        "render",
        &crate::figure::points(),
        "-o",
        "r.svg",
        "--frame",
        "--width",
        "80",
        "--height",
        "50",
        "-q",
    ]);
    assert!(
        std::fs::read_to_string(s.path("r.svg"))
            .unwrap()
            .contains("<path aria-label=\"x\"")
    );
    // Other extensions are refused before any work, and nothing is written.
    let before = s.files();
    s.fails_with(
        &["shade", "g.h5", "-o", "fig.pdf", "--frame"],
        2,
        "unknown image format .pdf; use .png or .svg",
    );
    s.fails_with(
        &["render", &crate::figure::points(), "-o", "fig.jpg"],
        2,
        "unknown image format .jpg",
    );
    assert_eq!(s.files(), before);
}
