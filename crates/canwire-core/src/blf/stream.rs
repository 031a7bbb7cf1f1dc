//! The top level of a BLF file after its header: a run of objects, nearly always
//! LOG_CONTAINERs, read one at a time from any `Read` into one continuous stream
//! of inner-object bytes.

use std::io::{ErrorKind, Read};

use super::container::{
    CONTAINER_HEADER_SIZE, ContainerInfo, MAX_CONTAINER_UNCOMPRESSED, METHOD_NONE, METHOD_ZLIB,
    decode_payload,
};
use super::object::{OBJECT_HEADER_BASE_SIZE, OBJECT_SIGNATURE, ObjectHeaderBase, object_type};
use crate::error::{CanwireError, ErrorCode, Result};

/// How far past the expected position a top-level signature is looked for
/// (padding differs between writers).
const SIGNATURE_WINDOW: usize = 12;

/// What one step of the top level produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Block {
    /// Inner bytes were appended.
    Data {
        /// Byte offset of the top-level object in the file.
        file_offset: u64,
        /// Σ(32 + raw size) of the containers before this one.
        uncompressed_before: u64,
        /// The object is cut short by the end of the file.
        truncated: bool,
    },
    /// A container with an unknown compression method was skipped.
    Skipped,
    /// The file ends here cleanly (possibly after zero padding).
    End,
    /// The file ends inside the header of the top-level object at this offset.
    Truncated(u64),
}

/// Reads top-level objects from `src`.
pub(crate) struct ContainerStream<R> {
    src: R,
    /// Bytes consumed from `src` (the file offset of the next byte).
    pub pos: u64,
    /// Σ(32 + raw size) of the containers read so far.
    pub uncompressed: u64,
    /// File offset just past the last whole top-level object.
    pub last_whole_end: u64,
    scratch: Vec<u8>,
}

fn io_error(e: std::io::Error, offset: u64) -> CanwireError {
    CanwireError::new(
        ErrorCode::Os,
        format!("reading BLF at byte offset {offset}: {e}"),
    )
}

impl<R: Read> ContainerStream<R> {
    /// A stream positioned at byte offset `pos` of the file.
    pub fn new(src: R, pos: u64) -> Self {
        Self {
            src,
            pos,
            uncompressed: 0,
            last_whole_end: pos,
            scratch: Vec::new(),
        }
    }

    /// Reads until `buf` is full or the source ends; returns the bytes read.
    pub fn read_full(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.src.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(e, self.pos + n as u64)),
            }
        }
        self.pos += n as u64;
        Ok(n)
    }

    /// Appends up to `n` bytes to `out`, growing it as data arrives (so a size
    /// claimed by a corrupt header costs no memory the file does not back up).
    pub fn read_append(&mut self, out: &mut Vec<u8>, n: usize) -> Result<usize> {
        let mut got = 0;
        while got < n {
            let before = out.len();
            let want = (n - got).min(64 * 1024);
            out.resize(before + want, 0);
            let k = self.read_full(&mut out[before..])?;
            out.truncate(before + k);
            got += k;
            if k < want {
                break;
            }
        }
        Ok(got)
    }

    /// Reads and discards `n` bytes; returns how many there were.
    pub fn skip(&mut self, n: u64) -> Result<u64> {
        let mut left = n;
        let mut chunk = [0u8; 4096];
        while left > 0 {
            let want = left.min(chunk.len() as u64) as usize;
            let got = self.read_full(&mut chunk[..want])?;
            left -= got as u64;
            if got < want {
                break;
            }
        }
        Ok(n - left)
    }

    /// Reads the next top-level object and appends its inner bytes to `out`.
    pub fn next_block(&mut self, out: &mut Vec<u8>) -> Result<Block> {
        let mut head = [0u8; OBJECT_HEADER_BASE_SIZE];
        let start = self.pos;
        let n = self.read_full(&mut head)?;
        if n < head.len() {
            return Ok(if head[..n].iter().all(|&b| b == 0) {
                Block::End
            } else {
                Block::Truncated(start)
            });
        }
        let mut object_offset = start;
        if &head[..4] != OBJECT_SIGNATURE {
            let Some(k) = (1..=SIGNATURE_WINDOW).find(|&k| head[k..].starts_with(OBJECT_SIGNATURE))
            else {
                if head.iter().all(|&b| b == 0) {
                    return self.zero_tail(start);
                }
                return Err(CanwireError::new(
                    ErrorCode::CorruptFile,
                    format!("no object signature \"LOBJ\" at byte offset {start}"),
                ));
            };
            head.copy_within(k.., 0);
            let got = self.read_full(&mut head[OBJECT_HEADER_BASE_SIZE - k..])?;
            object_offset = start + k as u64;
            if got < k {
                return Ok(Block::Truncated(object_offset));
            }
        }
        let base = ObjectHeaderBase::parse(&head, || format!("byte offset {object_offset}"))?;
        if base.object_type == object_type::LOG_CONTAINER {
            return self.container(base, object_offset, out);
        }
        // A bare object at top level: pass it on as if it sat in a container.
        let rest = base.object_size as usize - OBJECT_HEADER_BASE_SIZE;
        out.extend_from_slice(&head);
        let got = self.read_append(out, rest)?;
        let truncated = got < rest;
        if !truncated {
            self.last_whole_end = self.pos;
        }
        Ok(Block::Data {
            file_offset: object_offset,
            uncompressed_before: self.uncompressed,
            truncated,
        })
    }

    /// Zero bytes where an object should start: the end of the file if only zeros follow.
    fn zero_tail(&mut self, start: u64) -> Result<Block> {
        let mut chunk = [0u8; 4096];
        loop {
            let at = self.pos;
            let n = self.read_full(&mut chunk)?;
            if let Some(i) = chunk[..n].iter().position(|&b| b != 0) {
                return Err(CanwireError::new(
                    ErrorCode::CorruptFile,
                    format!(
                        "zero bytes from byte offset {start} to {} where an object should start",
                        at + i as u64
                    ),
                ));
            }
            if n < chunk.len() {
                return Ok(Block::End);
            }
        }
    }

    fn container(
        &mut self,
        base: ObjectHeaderBase,
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Result<Block> {
        let size = base.object_size as usize;
        if size < CONTAINER_HEADER_SIZE {
            return Err(CanwireError::new(
                ErrorCode::CorruptFile,
                format!(
                    "container at byte offset {offset} has size {size}: at least {CONTAINER_HEADER_SIZE} needed"
                ),
            ));
        }
        let mut info = [0u8; 16];
        if self.read_full(&mut info)? < info.len() {
            return Ok(Block::Truncated(offset));
        }
        let info = ContainerInfo::parse(&info);
        if info.uncompressed_size > MAX_CONTAINER_UNCOMPRESSED {
            return Err(CanwireError::new(
                ErrorCode::CorruptFile,
                format!(
                    "container at byte offset {offset} claims {} uncompressed bytes: at most {MAX_CONTAINER_UNCOMPRESSED} allowed",
                    info.uncompressed_size
                ),
            ));
        }
        let payload_len = size - CONTAINER_HEADER_SIZE;
        let mut payload = std::mem::take(&mut self.scratch);
        payload.clear();
        let got = self.read_append(&mut payload, payload_len)?;
        let truncated = got < payload_len;
        let result = if info.method == METHOD_NONE || info.method == METHOD_ZLIB {
            let limit = match (info.method, info.uncompressed_size) {
                (METHOD_NONE, _) | (_, 0) => MAX_CONTAINER_UNCOMPRESSED as usize,
                (_, n) => n as usize,
            };
            let before = out.len();
            decode_payload(info.method, &payload, limit, out, offset).map(|()| {
                let block = Block::Data {
                    file_offset: offset,
                    uncompressed_before: self.uncompressed,
                    truncated,
                };
                self.uncompressed += (CONTAINER_HEADER_SIZE + out.len() - before) as u64;
                block
            })
        } else {
            Ok(if truncated {
                Block::Truncated(offset)
            } else {
                Block::Skipped
            })
        };
        self.scratch = payload;
        if self.scratch.capacity() > 2 * super::container::DEFAULT_MAX_CONTAINER_SIZE {
            self.scratch = Vec::new();
        }
        if !truncated {
            self.last_whole_end = self.pos;
        }
        result
    }
}
