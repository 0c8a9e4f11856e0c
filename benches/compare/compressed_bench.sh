#!/usr/bin/env bash
# Compressed text against the uncompressed rate and the decompressors alone:
# 10 M lines (gen_points) as text, gzip -6, zstd -3 (one frame) and
# pzstd -3 (a frame per 8 MB-ish chunk), each binned by densebin's command
# line (whole process) and decompressed by the tools to /dev/null on one
# thread. Three alternating rounds; prints every time, seconds.
#
#   benches/compare/compressed_bench.sh [DATA-DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${1:-target/compare}"
cargo build --release --locked --quiet --bin densebin --example gen_points
[ -f "$data/p10.txt" ] || target/release/examples/gen_points --points 10M -o "$data/p10.txt"
[ -f "$data/p10.txt.gz" ] || gzip -6 -c "$data/p10.txt" > "$data/p10.txt.gz"
[ -f "$data/p10.txt.zst" ] || zstd -3 -q "$data/p10.txt" -o "$data/p10.txt.zst"
[ -f "$data/p10.pz.txt.zst" ] || pzstd -3 -q -p 2 "$data/p10.txt" -o "$data/p10.pz.txt.zst"
bin=(target/release/densebin bin --layers count,sum --x-range -13.6,13.1 --y-range -8,8 -q -o /tmp/compressed.h5)
TIMEFORMAT=%R
for round in 1 2 3; do
    for f in p10.txt p10.txt.gz p10.txt.zst p10.pz.txt.zst; do
        printf '%s densebin %s ' "$round" "$f"; { time "${bin[@]}" "$data/$f"; } 2>&1
    done
    printf '%s gzip -dc ' "$round"; { time gzip -dc "$data/p10.txt.gz" > /dev/null; } 2>&1
    printf '%s zstd -dc ' "$round"; { time zstd -dc -q "$data/p10.txt.zst" > /dev/null; } 2>&1
    printf '%s zstd -dc (pzstd file) ' "$round"; { time zstd -dc -q "$data/p10.pz.txt.zst" > /dev/null; } 2>&1
done
