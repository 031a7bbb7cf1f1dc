//! The record bytes of one data group, one data block at a time: followed
//! along the links (`##DT`, `##DZ`, `##DL` lists, an `##HL` header), or, for
//! a file its writer never finished, found by walking the blocks in file
//! order. A file cut short loses the lists written last (a streaming writer
//! writes the last list at close): when a list lies past the end, the blocks
//! after the last one read are walked instead, for a file of one data group.
//! Only one block is held at a time; a record may span two blocks.

use std::collections::VecDeque;
use std::io::{Read, Seek};

use super::block::{HEADER_LEN, corrupt, truncated};
use super::data_blocks::{inflate_dz, parse_dl};
use super::file_access::FileAccess;
use crate::error::{ErrorCode, Result};

/// Where the next data block comes from.
#[derive(Debug, Clone)]
pub enum BlockSource {
    /// Data blocks by link: those of the current list, then the next list.
    Linked {
        /// Data blocks not read yet.
        queue: VecDeque<u64>,
        /// The next `##DL` block, 0 for none.
        next_list: u64,
    },
    /// Every DT/DZ block from `at` to the end of the file, in file order.
    Walk {
        /// The next block's offset.
        at: u64,
    },
    /// No more blocks.
    Done,
}

/// The record bytes of one data group.
pub struct RecordStream {
    source: BlockSource,
    buf: Vec<u8>,
    pos: usize,
    /// File offset of the block `buf` came from (for errors).
    block_at: u64,
    /// Where the last data block ended, and whether walking from there may
    /// replace a list cut off the file (one data group only).
    block_end: u64,
    walk_on_cut: bool,
}

impl RecordStream {
    /// A stream following the data link `data` of a data group (0: empty).
    pub fn linked(data: u64) -> Self {
        let source = if data == 0 {
            BlockSource::Done
        } else {
            BlockSource::Linked {
                queue: VecDeque::new(),
                next_list: data,
            }
        };
        Self {
            source,
            buf: Vec::new(),
            pos: 0,
            block_at: 0,
            block_end: 0,
            walk_on_cut: false,
        }
    }

    /// Lets a list cut off the file be replaced by walking the blocks after
    /// the last one read, from `first` if none was (see the module doc).
    pub fn walk_if_cut(mut self, first: u64) -> Self {
        self.walk_on_cut = true;
        self.block_end = first;
        self
    }

    /// A stream of every data block from offset `at` on, in file order.
    pub fn walk(at: u64) -> Self {
        Self {
            source: BlockSource::Walk { at },
            buf: Vec::new(),
            pos: 0,
            block_at: at,
            block_end: at,
            walk_on_cut: false,
        }
    }

    /// File offset of the block the last bytes came from.
    pub fn block_offset(&self) -> u64 {
        self.block_at
    }

    /// The next `n` bytes, `None` at a clean end; a record cut short is a
    /// truncated-file error.
    pub fn take<R: Read + Seek>(
        &mut self,
        f: &mut FileAccess<R>,
        n: usize,
    ) -> Result<Option<&[u8]>> {
        while self.buf.len() - self.pos < n {
            let Some((at, block)) = self.next_block(f)? else {
                if self.buf.len() == self.pos {
                    return Ok(None);
                }
                return Err(truncated(
                    self.block_at,
                    &format!(
                        "the data ends inside a record ({} of its {n} bytes are there)",
                        self.buf.len() - self.pos
                    ),
                ));
            };
            self.buf.drain(..self.pos);
            self.pos = 0;
            if self.buf.is_empty() {
                self.buf = block;
            } else {
                self.buf.extend_from_slice(&block);
            }
            self.block_at = at;
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(Some(out))
    }

    /// The next data block's offset and record bytes.
    fn next_block<R: Read + Seek>(
        &mut self,
        f: &mut FileAccess<R>,
    ) -> Result<Option<(u64, Vec<u8>)>> {
        loop {
            match &mut self.source {
                BlockSource::Done => return Ok(None),
                BlockSource::Linked { queue, next_list } => {
                    if let Some(at) = queue.pop_front() {
                        if at == 0 {
                            continue;
                        }
                        return self.data_block(f, at).map(|d| Some((at, d)));
                    }
                    if *next_list == 0 {
                        self.source = BlockSource::Done;
                        continue;
                    }
                    let at = *next_list;
                    let (h, body) = match f.block(at, &[b"DT", b"DZ", b"DL", b"HL"]) {
                        Ok(block) => block,
                        Err(e) if e.code == ErrorCode::TruncatedFile && self.walk_on_cut => {
                            self.source = BlockSource::Walk { at: self.block_end };
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    match &h.id {
                        b"DL" => {
                            let list = parse_dl(&h, &body, at)?;
                            queue.extend(list.blocks);
                            *next_list = list.next;
                        }
                        b"HL" => *next_list = FileAccess::<R>::link(&body, &h, 0),
                        _ => {
                            queue.push_back(at);
                            *next_list = 0;
                        }
                    }
                }
                BlockSource::Walk { at } => {
                    let here = *at;
                    if here + HEADER_LEN as u64 > f.len() {
                        self.source = BlockSource::Done;
                        if here < f.len() {
                            return Err(truncated(here, "the file ends inside a block header"));
                        }
                        continue;
                    }
                    let h = f.header(here)?;
                    *at = here.saturating_add(h.length).div_ceil(8).saturating_mul(8);
                    if &h.id == b"DT" || &h.id == b"DZ" {
                        return self.data_block(f, here).map(|d| Some((here, d)));
                    }
                }
            }
        }
    }

    fn data_block<R: Read + Seek>(&mut self, f: &mut FileAccess<R>, at: u64) -> Result<Vec<u8>> {
        self.block_at = at;
        let (h, mut body) = f.block(at, &[b"DT", b"DZ"])?;
        self.block_end = at.saturating_add(h.length).div_ceil(8).saturating_mul(8);
        let links = h.link_count as usize * 8;
        if &h.id == b"DT" {
            body.drain(..links);
            return Ok(body);
        }
        let data = &body[links..];
        if data.len() >= 2 && &data[..2] != b"DT" {
            return Err(corrupt(
                at,
                &format!(
                    "the ##DZ block holds a ##{} block; only DT data is read here",
                    String::from_utf8_lossy(&data[..2])
                ),
            ));
        }
        inflate_dz(data, at)
    }
}
