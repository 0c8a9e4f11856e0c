//! The chunk queue: hands out the chunks of every source of a run, in
//! order, to any number of workers.

use std::sync::Mutex;

use super::source::{Chunk, PointSource};
use crate::error::Result;

/// Hands out chunks of all sources, in order, to any number of workers.
pub struct ChunkQueue<'a, S> {
    inputs: &'a [S],
    target: usize,
    /// The source being cut and where its next chunk starts.
    state: Mutex<(usize, u64)>,
}

impl<'a, S: PointSource> ChunkQueue<'a, S> {
    /// A queue over `inputs` with chunks of about `target` bytes.
    pub fn new(inputs: &'a [S], target: usize) -> ChunkQueue<'a, S> {
        let start = inputs.first().map_or(0, PointSource::start);
        ChunkQueue {
            inputs,
            target: target.max(1),
            state: Mutex::new((0, start)),
        }
    }

    /// A chunk size that gives every worker several chunks of a small input
    /// and caps them at a few MB for large ones.
    pub fn chunk_size(inputs: &[S], workers: usize) -> usize {
        let total: u64 = inputs
            .iter()
            .map(|i| i.data_len().unwrap_or(u64::MAX / 4))
            .sum();
        let per = total / (workers.max(1) as u64 * 8);
        per.clamp(64 << 10, 4 << 20) as usize
    }

    /// The next chunk, or `None` when every source is done.
    pub fn next(&self) -> Result<Option<Chunk<'a>>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let (idx, at) = *state;
            let Some(input) = self.inputs.get(idx) else {
                return Ok(None);
            };
            match input.next_chunk(at, self.target)? {
                Some(mut chunk) => {
                    chunk.input = idx;
                    state.1 = chunk.end();
                    return Ok(Some(chunk));
                }
                None => {
                    let next = idx + 1;
                    let start = self.inputs.get(next).map_or(0, PointSource::start);
                    *state = (next, start);
                }
            }
        }
    }
}
