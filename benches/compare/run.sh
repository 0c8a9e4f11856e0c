#!/usr/bin/env bash
# densebin against Datashader (pandas and dask), vaex, fast-histogram and
# pandas/pyarrow, side by side on the same files. Builds densebin, generates
# 50 M structured points (float32 records and the same points as text), and
# installs the peers into a virtualenv under target/ (never committed).
#
#   benches/compare/run.sh [--big] [--repeat N] [--baseline OTHER-DENSEBIN] [--python-only]
#   benches/compare/run.sh --dask [--repeat N]
#   benches/compare/run.sh --by [--repeat N] [--points 20M]
#
# --big also generates the 6.2 GB text file of the motivating case (250 M
# points) for the memory check and the end-to-end render. DATA overrides the
# data folder (default target/compare; needs ~2 GB, ~8 GB with --big).
# --baseline runs another densebin build alternately with this one in every
# densebin case, for before/after comparisons in one run. --python-only runs
# only the Python package's cases: densebin.bin against the peers on the same
# in-memory columns, and its memory on the memory-mapped file. --dask runs
# densebin on Dask against datashader on Dask on one 2-worker LocalCluster
# (benches/compare/dask_bench.py). --by counts 20 M points by 5 and by 20
# categories at 1000 x 1000 against datashader's by(col, count())
# (benches/compare/categories_bench.py).
set -euo pipefail
cd "$(dirname "$0")/../.."

target="${CARGO_TARGET_DIR:-target}"
data="${DATA:-$target/compare}"
big=0
for arg in "$@"; do [ "$arg" = "--big" ] && big=1; done
by=0
for arg in "$@"; do [ "$arg" = "--by" ] && by=1; done

cargo build --release --locked --quiet --bin densebin --example gen_points
gen="$target/release/examples/gen_points"
mkdir -p "$data"
if [ "$by" = 0 ]; then
    [ -f "$data/p50.f32" ] || "$gen" --points 50M --format f32 -o "$data/p50.f32"
    [ -f "$data/p50.txt" ] || "$gen" --points 50M -o "$data/p50.txt"
    [ -f "$data/p10.txt" ] || "$gen" --points 10M -o "$data/p10.txt"
fi
if [ "$big" = 1 ] && [ ! -f "$data/big.txt" ]; then
    "$gen" --points 250M --decimals 5 -o "$data/big.txt"
fi

venv="$target/pyvenv-peers"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import numpy, pandas, pyarrow, dask, distributed, datashader, fast_histogram, vaex" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        numpy pandas pyarrow "dask[dataframe]" distributed datashader fast-histogram
    # vaex-core has wheels, but pip would build the newest from source.
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=vaex-core vaex-core
fi
# The Python package, built in release mode from this checkout.
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps ./python
if [ "$by" = 1 ]; then
    args=()
    for arg in "$@"; do [ "$arg" != "--by" ] && args+=("$arg"); done
    exec "$venv/bin/python" benches/compare/categories_bench.py --densebin "$PWD/$target/release/densebin" --data "$data" "${args[@]}"
fi
dask=0
for arg in "$@"; do [ "$arg" = "--dask" ] && dask=1; done
if [ "$dask" = 1 ]; then
    args=()
    for arg in "$@"; do [ "$arg" != "--dask" ] && args+=("$arg"); done
    exec "$venv/bin/python" benches/compare/dask_bench.py --densebin "$PWD/$target/release/densebin" --data "$data" "${args[@]}"
fi
"$venv/bin/python" benches/compare/compare.py --densebin "$PWD/$target/release/densebin" --data "$data" "$@"
