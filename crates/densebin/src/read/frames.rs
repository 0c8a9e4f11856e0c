//! zstd files of several frames — pzstd's, zstd's `--block-size`d
//! output, files concatenated — decompressed in parallel: each frame is
//! independent, so several threads decompress frames ahead of the parsers
//! and hand them over in file order. libzstd finds the frames
//! (`ZSTD_findFrameCompressedSize`) and their sizes
//! (`ZSTD_getFrameContentSize`, or for frames that do not declare one,
//! `ZSTD_decompressBound`); densebin parses no zstd itself.
//!
//! Only frames of at most [`MAX_FRAME`] decompressed bytes are
//! decompressed this way, so memory stays two frames a thread; a file of
//! one frame, or of larger ones, or one damaged in a way that hides its
//! frames, is read by the sequential decoder of `compressed.rs`, which
//! reports where it fails.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use memmap2::Mmap;

/// The largest decompressed frame read in parallel.
pub(crate) const MAX_FRAME: u64 = 32 << 20;

/// The frames of the zstd file `bytes` and their decompressed sizes (or a
/// bound on them), when it holds several and each is at most
/// [`MAX_FRAME`].
pub(crate) fn frames(bytes: &[u8]) -> Option<Vec<(Range<usize>, usize)>> {
    use zstd::zstd_safe::{decompress_bound, find_frame_compressed_size, get_frame_content_size};
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let n = find_frame_compressed_size(rest).ok().filter(|&n| n > 0)?;
        // The size a frame declares, or for one that does not (pzstd's,
        // compressed from a pipe) the bound its blocks put on it.
        let size = match get_frame_content_size(rest).ok()? {
            Some(size) => size,
            None => decompress_bound(&rest[..n]).ok()?,
        };
        if size > MAX_FRAME {
            return None;
        }
        out.push((at..at + n, size as usize));
        at += n;
    }
    (out.len() >= 2).then_some(out)
}

/// The frames `frames` of `map` (from [`frames`]) decompressed by
/// `threads` threads, as a reader of the decompressed bytes in order.
/// Thread `t` decompresses frames `t`, `t + threads`, …, one ahead of the
/// reader; a frame that fails is an `InvalidData` error naming the
/// compressed byte where it starts. The threads end when the reader is
/// dropped.
pub(crate) fn decompressed(
    map: Mmap,
    frames: Vec<(Range<usize>, usize)>,
    threads: usize,
) -> io::Result<Box<dyn Read + Send>> {
    let threads = threads.clamp(1, frames.len());
    let (map, frames) = (Arc::new(map), Arc::new(frames));
    let mut rxs = Vec::with_capacity(threads);
    for t in 0..threads {
        let (tx, rx) = sync_channel(1);
        let (map, frames) = (Arc::clone(&map), Arc::clone(&frames));
        std::thread::Builder::new()
            .name(format!("densebin zstd {t}"))
            .spawn(move || {
                for (range, size) in frames.iter().skip(t).step_by(threads) {
                    let start = range.start;
                    let frame = zstd::bulk::decompress(&map[range.clone()], *size).map_err(|e| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "corrupt or truncated zstd stream at compressed byte {start}: {e}"
                            ),
                        )
                    });
                    let failed = frame.is_err();
                    if tx.send(frame).is_err() || failed {
                        return;
                    }
                }
            })?;
        rxs.push(rx);
    }
    Ok(Box::new(InOrder {
        rxs,
        frames: frames.len(),
        next: 0,
        block: Vec::new(),
        at: 0,
    }))
}

/// Reads the frames the threads send, in file order: frame `i` from
/// thread `i % threads`.
struct InOrder {
    rxs: Vec<Receiver<io::Result<Vec<u8>>>>,
    frames: usize,
    next: usize,
    block: Vec<u8>,
    at: usize,
}

impl Read for InOrder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.block.len() {
            if self.next == self.frames {
                return Ok(0);
            }
            let from = &self.rxs[self.next % self.rxs.len()];
            match from.recv() {
                Ok(Ok(frame)) => {
                    self.block = frame;
                    self.at = 0;
                    self.next += 1;
                }
                Ok(Err(e)) => {
                    self.next = self.frames;
                    return Err(e);
                }
                Err(_) => {
                    self.next = self.frames;
                    return Err(io::Error::other("a decompressing thread stopped"));
                }
            }
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(bytes: &[u8]) -> Mmap {
        let mut m = memmap2::MmapMut::map_anon(bytes.len().max(1)).unwrap();
        m[..bytes.len()].copy_from_slice(bytes);
        m.make_read_only().unwrap()
    }

    #[test]
    fn frames_decompress_in_order_on_any_number_of_threads() {
        let parts: Vec<Vec<u8>> = (0..7u32)
            .map(|k| {
                (0..(10_000 + k * 977))
                    .flat_map(|i| (i ^ k).to_le_bytes())
                    .collect()
            })
            .collect();
        let mut file: Vec<u8> = parts
            .iter()
            .flat_map(|p| zstd::bulk::compress(p, 1).unwrap())
            .collect();
        // A skippable frame (magic 0x184D2A50, four bytes of size) is no data.
        let skippable = [
            &0x184D_2A50u32.to_le_bytes()[..],
            &3u32.to_le_bytes(),
            b"abc",
        ]
        .concat();
        file.splice(0..0, skippable);
        let found = frames(&file).unwrap();
        assert_eq!(found.len(), 8);
        for threads in [1, 2, 3, 8] {
            let mut out = Vec::new();
            decompressed(mapped(&file), found.clone(), threads)
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, parts.concat(), "{threads} threads");
        }
        // A frame that does not declare its size (streamed): its bound.
        let mut unsized_frame = Vec::new();
        let mut e = zstd::stream::write::Encoder::new(&mut unsized_frame, 1).unwrap();
        std::io::Write::write_all(&mut e, &parts[1]).unwrap();
        e.finish().unwrap();
        let two = [zstd::bulk::compress(&parts[0], 1).unwrap(), unsized_frame].concat();
        let mut out = Vec::new();
        decompressed(mapped(&two), frames(&two).unwrap(), 2)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, [&parts[0][..], &parts[1][..]].concat());
        // One frame, a truncated last frame: left to the sequential decoder.
        assert!(frames(&zstd::bulk::compress(&parts[0], 1).unwrap()).is_none());
        assert!(frames(&file[..file.len() - 3]).is_none());
    }

    #[test]
    fn a_damaged_frame_is_an_error_naming_its_start() {
        let parts: Vec<Vec<u8>> = (0..4u32)
            .map(|k| (0..20_000u32).flat_map(|i| (i * k).to_le_bytes()).collect())
            .collect();
        // With checksums, as the zstd tool writes, so damage shows.
        let mut c = zstd::bulk::Compressor::new(1).unwrap();
        c.include_checksum(true).unwrap();
        let mut file: Vec<u8> = Vec::new();
        let mut starts = Vec::new();
        for p in &parts {
            starts.push(file.len());
            file.extend(c.compress(p).unwrap());
        }
        let found = frames(&file).unwrap();
        let mid = (starts[2] + starts[3]) / 2;
        file[mid] ^= 0xFF;
        let mut out = Vec::new();
        let err = decompressed(mapped(&file), found, 2)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string()
                .contains(&format!("at compressed byte {}", starts[2])),
            "{err}"
        );
    }
}
