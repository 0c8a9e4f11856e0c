#!/usr/bin/env python3
"""Writes tests/data/ticks.tsv: what matplotlib's default axis ticking
(MaxNLocator(nbins='auto', steps=[1, 2, 2.5, 5, 10]) and ScalarFormatter)
gives for a table of (range, axis length in pixels at 100 dpi, font size,
axis), so that densebin's port (crates/densebin/src/figure/ticks.rs) is
tested against matplotlib itself; and tests/data/offset_text.tsv: where
matplotlib puts an axis's offset text (x: right-aligned with the axes,
below the tick labels; y: left-aligned, above the axes), in pixels, so
that the figure layout (crates/densebin/src/figure/frame.rs) is too; and
tests/data/log_ticks.tsv: the major and minor ticks and labels of log
axes (LogLocator, LogFormatterSciNotation) for figure/logticks.rs.
Regenerate with the test virtualenv:

    target/pyvenv/bin/python scripts/make_tick_table.py
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RANGES = [
    (0, 1), (0, 10), (-1, 1), (-10, 10), (-6, 6), (0.001, 0.002), (-5, 3), (1, 7),
    (0, 1e-9), (1e-9, 3e-9), (-2e-9, 5e-9), (1e12, 3e12), (0, 1e12), (-7e11, 2e11),
    (10000.0, 10000.5), (-10000.5, -10000.0), (1e6, 1e6 + 1), (123456.0, 123999.0),
    (-0.3, 17.2), (2.5, 2.75), (0, 37), (-13.5647, 13.1082), (-11.0447, 7.4218),
    (-2, 3), (0, 256), (0.5, 999.5), (1e-5, 1e-4), (3.14159, 3.14160), (-1e-3, 1e-3),
    (42, 43), (0, 0.07), (-100, -1), (5e5, 2e6), (0.9, 1.1), (-1e9, 1e9), (7, 7.0001),
]
LENGTHS = [(600, "x"), (150, "x"), (60, "x"), (400, "y"), (90, "y"), (40, "y")]
FONT_SIZES = [10, 14]


def drawn_axis(lo, hi, length, axis, size, margin=0, scale="linear"):
    """A drawn figure at 100 dpi whose axes are `length` pixels along
    `axis` (100 across), `margin` pixels of room around them, viewing
    `lo..hi` with tick labels of `size` points: (figure, axes, axis)."""
    plt.rcdefaults()
    plt.rcParams["xtick.labelsize"] = size
    plt.rcParams["ytick.labelsize"] = size
    w, h = (length, 100) if axis == "x" else (100, length)
    fw, fh = w + 2 * margin, h + 2 * margin
    fig = plt.figure(figsize=(fw / 100, fh / 100), dpi=100)
    ax = fig.add_axes([margin / fw, margin / fh, w / fw, h / fh])
    (ax.set_xscale if axis == "x" else ax.set_yscale)(scale)
    (ax.set_xlim if axis == "x" else ax.set_ylim)(lo, hi)
    fig.canvas.draw()
    return fig, ax, ax.xaxis if axis == "x" else ax.yaxis


def write_table(name, header, rows):
    """tests/data/NAME: a comment naming matplotlib, the header, the rows."""
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# matplotlib {matplotlib.__version__}: scripts/make_tick_table.py{header[0]}\n")
        f.write("# " + "\t".join(header[1:]) + "\n")
        for row in rows:
            assert not any("\t" in r for r in row), row
            f.write("\t".join(row) + "\n")
    print(f"{len(rows)} rows from matplotlib {matplotlib.__version__} to {path}")


def case(lo, hi, length, axis, size):
    fig, ax, a = drawn_axis(lo, hi, length, axis, size)
    vmin, vmax = sorted(a.get_view_interval())
    locs = [float(t) for t in a.get_majorticklocs()]
    labels = {float(t.get_position()[0 if axis == "x" else 1]): t.get_text()
              for t in (ax.get_xticklabels() if axis == "x" else ax.get_yticklabels())}
    visible = [t for t in locs if vmin <= t <= vmax]
    shown = [labels[t] for t in visible]
    assert not any(" " in lb for lb in shown)
    row = [repr(lo), repr(hi), str(length), axis, str(size), str(int(a.get_tick_space())),
           " ".join(repr(t) for t in visible), " ".join(shown), a.get_offset_text().get_text()]
    plt.close(fig)
    return row


OFFSET_RANGES = [
    (10000.0, 10000.5), (-10000.5, -10000.0), (1e6, 1e6 + 1), (3.14159, 3.14160),
    (1e12, 3e12), (0, 1e-9), (7, 7.0001),
]
OFFSET_AXES = [(600, "x"), (300, "x"), (400, "y"), (200, "y")]


def offset_case(lo, hi, length, axis, size):
    """The offset text of an axis of `length` pixels in a figure with room
    around it: its text, and where matplotlib anchors it, in pixels: on x
    its right edge left of the axes' right edge and its top below the tick
    labels' boxes; on y its left edge right of the axes' left edge and its
    baseline above the axes' top."""
    fig, ax, a = drawn_axis(lo, hi, length, axis, size, margin=150)
    r = fig.canvas.get_renderer()
    text = a.get_offset_text()
    axes = ax.get_window_extent(r)
    # The text's anchor in pixels: (right, top) on x, (left, baseline) on y.
    anchor = text.get_transform().transform(text.get_position())
    want = ("right", "top") if axis == "x" else ("left", "baseline")
    assert (text.get_ha(), text.get_va()) == want
    if axis == "x":
        labels = [t.get_window_extent(r) for t in ax.get_xticklabels() if t.get_text()]
        below = min(b.y0 for b in labels)
        # Right edge from the axes' right edge; top below the tick labels.
        gaps = (axes.x1 - anchor[0], below - anchor[1])
    else:
        # Left edge from the axes' left edge; baseline above the axes' top.
        gaps = (anchor[0] - axes.x0, anchor[1] - axes.y1)
    plt.close(fig)
    return [repr(lo), repr(hi), str(length), axis, str(size), text.get_text(),
            f"{gaps[0]:.2f}", f"{gaps[1]:.2f}"]


LOG_RANGES = [
    (1e-3, 1e4), (1, 100), (1, 1e12), (1e-9, 1e9), (2, 8), (3, 30), (0.5, 2), (1e3, 1e5),
    # Not 1e-30 itself: numpy's vector power gives 10.0 ** -30 as
    # 9.999999999999999e-31, so matplotlib drops a tick on that very edge.
    (1, 10), (7, 1.3e3), (0.011, 0.99), (2e-30, 5e29), (1.5, 2.5), (20, 1e6), (0.9, 1.1),
    (1e5, 3.3e5), (0.04, 0.2), (1, 1e9),
]
LOG_AXES = [(600, "x"), (150, "x"), (60, "x"), (400, "y"), (90, "y")]
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def unmath(label):
    """matplotlib's mathtext tick label as plain unicode: 10³, 2×10⁻²."""
    import re

    m = re.fullmatch(r"\$\\mathdefault\{(?:(.+)\\times)?10\^\{(-?\d+)\}\}\$", label)
    if not m:
        m2 = re.fullmatch(r"\$\\mathdefault\{(.+)\}\$", label)
        return m2.group(1) if m2 else (label or "_")
    coeff, exp = m.groups()
    return (coeff + "×" if coeff else "") + "10" + exp.translate(SUPERSCRIPT)


def log_case(lo, hi, length, axis, size):
    fig, _, a = drawn_axis(lo, hi, length, axis, size, scale="log")
    vmin, vmax = sorted(a.get_view_interval())

    def shown(ticks):
        return [(float(t.get_loc()), unmath(t.label1.get_text())) for t in ticks
                if vmin <= t.get_loc() <= vmax]

    major, minor = shown(a.get_major_ticks()), shown(a.get_minor_ticks())
    row = [repr(lo), repr(hi), str(length), axis, str(size), str(int(a.get_tick_space())),
           " ".join(repr(v) for v, _ in major), " ".join(lb for _, lb in major),
           " ".join(repr(v) for v, _ in minor), " ".join(lb for _, lb in minor)]
    plt.close(fig)
    return row


def main():
    def each(case, ranges, axes):
        return [
            case(float(lo), float(hi), length, axis, size)
            for lo, hi in ranges
            for length, axis in axes
            for size in FONT_SIZES
        ]

    rows = each(case, RANGES, LENGTHS)
    write_table(
        "ticks.tsv",
        ["", "lo", "hi", "length_px", "axis", "font_size", "tick_space", "ticks", "labels",
         "offset"],
        rows,
    )
    assert all([float(t) for t in r[6].split()] == sorted(float(t) for t in r[6].split())
               for r in rows)
    rows = each(offset_case, OFFSET_RANGES, OFFSET_AXES)
    assert all(r[5] for r in rows), "an offset text in every case"
    write_table(
        "offset_text.tsv",
        ["", "lo", "hi", "length_px", "axis", "font_size", "offset", "gap_along", "gap_across"],
        rows,
    )
    write_table(
        "log_ticks.tsv",
        ["; _ is no label", "lo", "hi", "length_px", "axis", "font_size", "tick_space", "major",
         "major_labels", "minor", "minor_labels"],
        each(log_case, LOG_RANGES, LOG_AXES),
    )


if __name__ == "__main__":
    main()
