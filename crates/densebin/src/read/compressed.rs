//! Compressed input: gzip (multi-member too, flate2) and zstd (several
//! frames too, the zstd crate), detected by their magic bytes, not by
//! extension — on files and on standard input alike.
//!
//! Decompression runs on a thread of its own, a block ahead of the
//! workers: it fills blocks of decompressed bytes into a channel of two,
//! and the stream reader cuts them into line-aligned chunks that the
//! workers parse in parallel. So parsing stays parallel, memory is a few
//! blocks, and the one thread that must read the compressed stream in
//! order does nothing else. A corrupt or truncated stream is an error
//! that names the compressed byte at which decoding failed; the run fails,
//! and nothing is written.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::stream::{Stream, fill};

/// A compression format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    Gzip,
    Zstd,
}

impl Codec {
    /// The format whose magic bytes `prefix` starts with.
    pub(crate) fn sniff(prefix: &[u8]) -> Option<Codec> {
        match prefix {
            [0x1f, 0x8b, ..] => Some(Codec::Gzip),
            // A zstd frame, or a skippable frame (pzstd writes one first).
            [0x28, 0xb5, 0x2f, 0xfd, ..] | [0x50..=0x5f, 0x2a, 0x4d, 0x18, ..] => Some(Codec::Zstd),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
        }
    }
}

/// Counts the bytes read through it, for messages.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads from `rx` the blocks a decompressing thread sends.
struct Pipelined {
    rx: Receiver<io::Result<Vec<u8>>>,
    block: Vec<u8>,
    at: usize,
    done: bool,
}

impl Read for Pipelined {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.block.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(block)) if block.is_empty() => self.done = true,
                Ok(Ok(block)) => {
                    self.block = block;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread ended without saying so: it panicked.
                Err(_) => {
                    self.done = true;
                    return Err(io::Error::other("the decompressing thread stopped"));
                }
            }
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// `compressed` (which starts with `codec`'s magic bytes) decompressed on
/// a thread of its own, as a reader of the decompressed bytes. Decoding
/// errors are `InvalidData`, naming the compressed byte where they
/// happened; the thread ends when the reader is dropped.
pub(crate) fn decompressed(
    codec: Codec,
    compressed: Box<dyn Read + Send>,
) -> io::Result<Box<dyn Read + Send>> {
    let read = Arc::new(AtomicU64::new(0));
    let counting = Counting {
        inner: compressed,
        read: Arc::clone(&read),
    };
    let mut decoder: Box<dyn Read + Send> = match codec {
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counting)),
        Codec::Zstd => Box::new(zstd::stream::read::Decoder::new(counting)?),
    };
    let (tx, rx): (SyncSender<io::Result<Vec<u8>>>, _) = sync_channel(2);
    std::thread::Builder::new()
        .name(format!("densebin {}", codec.name()))
        .spawn(move || {
            loop {
                let mut block = Vec::with_capacity(Stream::BLOCK);
                match fill(&mut *decoder, &mut block, Stream::BLOCK) {
                    Ok(eof) => {
                        let last = eof && !block.is_empty();
                        if tx.send(Ok(block)).is_err() || eof {
                            if last {
                                let _ = tx.send(Ok(Vec::new()));
                            }
                            return;
                        }
                    }
                    Err(e) => {
                        let at = read.load(Ordering::Relaxed);
                        let e = io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "corrupt or truncated {} stream at compressed byte {at}: {e}",
                                codec.name()
                            ),
                        );
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        })?;
    Ok(Box::new(Pipelined {
        rx,
        block: Vec::new(),
        at: 0,
        done: false,
    }))
}

/// `reader`, decompressed when it starts with a compression format's magic
/// bytes (read ahead and put back), and the format.
pub(crate) fn sniffed(
    mut reader: Box<dyn Read + Send>,
) -> io::Result<(Box<dyn Read + Send>, Option<Codec>)> {
    let mut prefix = Vec::with_capacity(4);
    fill(&mut *reader, &mut prefix, 4)?;
    let codec = Codec::sniff(&prefix);
    let whole: Box<dyn Read + Send> = Box::new(io::Cursor::new(prefix).chain(reader));
    match codec {
        Some(c) => Ok((decompressed(c, whole)?, Some(c))),
        None => Ok((whole, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn members_and_frames_decompress_in_order() {
        let a: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let b = b"tail".to_vec();
        let two_members = [gzip(&a), gzip(&b)].concat();
        let two_frames = [
            zstd::encode_all(&a[..], 1).unwrap(),
            zstd::encode_all(&b[..], 1).unwrap(),
        ]
        .concat();
        for (bytes, codec) in [(two_members, Codec::Gzip), (two_frames, Codec::Zstd)] {
            let (mut r, found) = sniffed(Box::new(io::Cursor::new(bytes))).unwrap();
            assert_eq!(found, Some(codec));
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, [&a[..], &b[..]].concat(), "{codec:?}");
        }
        let (mut r, found) = sniffed(Box::new(io::Cursor::new(b"1 2".to_vec()))).unwrap();
        assert_eq!(found, None);
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, "1 2");
    }

    #[test]
    fn corrupt_and_truncated_streams_are_errors_with_an_offset() {
        let a: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let gz = gzip(&a);
        let zs = zstd::encode_all(&a[..], 3).unwrap();
        let mut corrupt = gz.clone();
        corrupt[gz.len() / 2] ^= 0xFF;
        for bad in [
            gz[..gz.len() / 2].to_vec(),
            corrupt,
            zs[..zs.len() - 7].to_vec(),
        ] {
            let (mut r, _) = sniffed(Box::new(io::Cursor::new(bad))).unwrap();
            let mut out = Vec::new();
            let err = r.read_to_end(&mut out).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
            assert!(err.to_string().contains("at compressed byte"), "{err}");
        }
    }
}
