//! Random access to an MDF file: blocks read by offset, with their bounds
//! checked against the file length, so a link past the end or a block cut
//! short is a typed error naming the offset instead of a huge allocation.

use std::io::{Read, Seek, SeekFrom};

use super::block::{BlockHeader, HEADER_LEN, corrupt, truncated};
use super::data_blocks::MAX_BLOCK_BYTES;
use crate::error::{CanwireError, ErrorCode, Result};

/// A seekable source and its length.
pub struct FileAccess<R: Read + Seek> {
    src: R,
    len: u64,
}

impl<R: Read + Seek> FileAccess<R> {
    /// Wraps `src`, measuring its length.
    pub fn new(mut src: R) -> Result<Self> {
        let len = src.seek(SeekFrom::End(0)).map_err(io)?;
        Ok(Self { src, len })
    }

    /// Length of the file in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `n` bytes at `offset`; `what` names them in the error.
    pub fn read_at(&mut self, offset: u64, n: u64, what: &str) -> Result<Vec<u8>> {
        if offset.checked_add(n).is_none_or(|end| end > self.len) {
            return Err(truncated(
                offset,
                &format!(
                    "{what} needs {n} bytes but the file ends at byte {}",
                    self.len
                ),
            ));
        }
        self.src.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut buf = vec![0; n as usize];
        self.src.read_exact(&mut buf).map_err(io)?;
        Ok(buf)
    }

    /// The header of the block at `offset`.
    pub fn header(&mut self, offset: u64) -> Result<BlockHeader> {
        if offset < super::meta::ID_BLOCK_LEN as u64 {
            return Err(corrupt(offset, "a link points into the file's ID block"));
        }
        let bytes = self.read_at(offset, HEADER_LEN as u64, "a block header")?;
        BlockHeader::parse(&bytes, offset)
    }

    /// The block at `offset`: its header and everything after the header
    /// (links, then data). `expect` lists the ids allowed there.
    pub fn block(&mut self, offset: u64, expect: &[&[u8; 2]]) -> Result<(BlockHeader, Vec<u8>)> {
        let header = self.header(offset)?;
        if !expect.is_empty() && !expect.iter().any(|id| **id == header.id) {
            let names: Vec<String> = expect
                .iter()
                .map(|id| format!("##{}", String::from_utf8_lossy(&id[..])))
                .collect();
            return Err(corrupt(
                offset,
                &format!(
                    "found a ##{} block where {} was expected",
                    header.id_str(),
                    names.join(" or ")
                ),
            ));
        }
        let body_len = header.length - HEADER_LEN as u64;
        if body_len > MAX_BLOCK_BYTES + 4096 {
            return Err(corrupt(
                offset,
                &format!(
                    "the ##{} block claims {} bytes; at most {MAX_BLOCK_BYTES} are read",
                    header.id_str(),
                    header.length
                ),
            ));
        }
        let what = format!("the ##{} block", header.id_str());
        let body = self.read_at(offset + HEADER_LEN as u64, body_len, &what)?;
        Ok((header, body))
    }

    /// Link `index` of a block body.
    pub fn link(body: &[u8], header: &BlockHeader, index: usize) -> u64 {
        if (index as u64) < header.link_count {
            super::block::le_u64(body, index * 8)
        } else {
            0
        }
    }

    /// The text of a `##TX` or `##MD` block, without its NUL padding; "" for link 0.
    pub fn text(&mut self, offset: u64) -> Result<String> {
        if offset == 0 {
            return Ok(String::new());
        }
        let (header, body) = self.block(offset, &[b"TX", b"MD"])?;
        let data = &body[header.link_count as usize * 8..];
        let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
        Ok(String::from_utf8_lossy(&data[..end]).into_owned())
    }
}

fn io(e: std::io::Error) -> CanwireError {
    CanwireError::new(ErrorCode::Os, format!("reading the MF4 file: {e}"))
}
