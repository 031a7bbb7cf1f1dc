//! The top level of a BLF file after its header: a run of objects, nearly always
//! LOG_CONTAINERs, read one at a time from any `Read` into one continuous stream
//! of inner-object bytes.
//!
//! Damage (a bad signature, an impossible size, corrupt zlib data) does not end
//! the stream: the object is recorded as a [`Damage`], the bytes after its
//! start are searched for the next plausible object header, and reading goes
//! on from there ([`Block::Gap`] tells the inner reader the stream broke).

use std::io::{ErrorKind, Read};

use super::container::{
    CONTAINER_HEADER_SIZE, ContainerInfo, Decoded, MAX_CONTAINER_UNCOMPRESSED, METHOD_NONE,
    METHOD_ZLIB, decode_payload,
};
use super::item::Damage;
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
    /// A damaged stretch was skipped (see [`ContainerStream::damage`]): the inner
    /// bytes before and after it do not continue each other.
    Gap,
}

/// Whether `b` starts with a base header a writer could have written: the
/// signature, sizes that fit together, header version 1 or 2.
pub(crate) fn plausible_header(b: &[u8]) -> bool {
    b.len() >= OBJECT_HEADER_BASE_SIZE
        && ObjectHeaderBase::parse(b, String::new)
            .is_ok_and(|base| matches!(base.header_version, 1 | 2))
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
    /// Damaged stretches skipped since the caller last took them.
    pub damage: Vec<Damage>,
    scratch: Vec<u8>,
    /// Bytes given back by [`unread`](Self::unread), read before `src`.
    lookahead: Vec<u8>,
    look_at: usize,
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
            damage: Vec::new(),
            scratch: Vec::new(),
            lookahead: Vec::new(),
            look_at: 0,
        }
    }

    /// Gives bytes just read back to the stream: they are read again next.
    fn unread(&mut self, bytes: &[u8]) {
        let mut rest = Vec::with_capacity(bytes.len() + self.lookahead.len() - self.look_at);
        rest.extend_from_slice(bytes);
        rest.extend_from_slice(&self.lookahead[self.look_at..]);
        self.lookahead = rest;
        self.look_at = 0;
        self.pos -= bytes.len() as u64;
    }

    /// Reads until `buf` is full or the source ends; returns the bytes read.
    pub fn read_full(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut n = 0;
        if self.look_at < self.lookahead.len() {
            let k = (self.lookahead.len() - self.look_at).min(buf.len());
            buf[..k].copy_from_slice(&self.lookahead[self.look_at..self.look_at + k]);
            self.look_at += k;
            n = k;
            if self.look_at == self.lookahead.len() {
                self.lookahead = Vec::new();
                self.look_at = 0;
            }
        }
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
    /// Damage is skipped (recorded in [`damage`](Self::damage)) and reported as
    /// [`Block::Gap`]; only I/O failures are errors.
    pub fn next_block(&mut self, out: &mut Vec<u8>) -> Result<Block> {
        match self.read_object(out)? {
            Ok(block) => Ok(block),
            Err(broken) => self.resync(broken),
        }
    }

    /// Records `broken` and moves to the next plausible object header after
    /// its start (or to the end of the file).
    fn resync(&mut self, broken: Broken) -> Result<Block> {
        self.unread(&broken.reread);
        let mut window: Vec<u8> = Vec::new();
        let mut window_start = self.pos;
        let resumed_at = loop {
            let before = window.len();
            window.resize(before + 4096, 0);
            let n = self.read_full(&mut window[before..])?;
            window.truncate(before + n);
            let searchable = if n == 0 {
                window.len()
            } else {
                window.len().saturating_sub(OBJECT_HEADER_BASE_SIZE - 1)
            };
            let found = (0..searchable).find(|&i| {
                window[i..].starts_with(OBJECT_SIGNATURE) && plausible_header(&window[i..])
            });
            if let Some(i) = found {
                let rest = window.split_off(i);
                self.unread(&rest);
                break window_start + i as u64;
            }
            if n == 0 {
                break self.pos;
            }
            window.drain(..searchable);
            window_start += searchable as u64;
        };
        self.damage.push(Damage {
            file_offset: broken.offset,
            skipped_bytes: resumed_at - broken.offset,
            reason: broken.reason,
        });
        Ok(Block::Gap)
    }

    fn read_object(&mut self, out: &mut Vec<u8>) -> Result<std::result::Result<Block, Broken>> {
        let mut head = [0u8; OBJECT_HEADER_BASE_SIZE];
        let start = self.pos;
        let n = self.read_full(&mut head)?;
        if n < head.len() {
            let tail = &head[..n];
            let lead = tail.iter().take_while(|&&b| b == 0).count();
            let rest = &tail[lead..];
            return Ok(if rest.is_empty() {
                Ok(Block::End)
            } else if OBJECT_SIGNATURE.starts_with(rest) || rest.starts_with(OBJECT_SIGNATURE) {
                Ok(Block::Truncated(start + lead as u64))
            } else {
                Err(Broken {
                    offset: start,
                    reason: format!(
                        "{n} bytes at byte offset {start} at the end of the file are no object"
                    ),
                    reread: head[1..n].to_vec(),
                })
            });
        }
        let mut object_offset = start;
        if &head[..4] != OBJECT_SIGNATURE {
            let Some(k) = (1..=SIGNATURE_WINDOW).find(|&k| head[k..].starts_with(OBJECT_SIGNATURE))
            else {
                if head.iter().all(|&b| b == 0) {
                    return self.zero_tail(start);
                }
                // Name the first byte after the padding, where the object should be.
                let padding = head.iter().take_while(|&&b| b == 0).count();
                let at = start + padding as u64;
                return Ok(Err(Broken {
                    offset: at,
                    reason: format!("no object signature \"LOBJ\" at byte offset {at}"),
                    reread: head[padding + 1..].to_vec(),
                }));
            };
            head.copy_within(k.., 0);
            let got = self.read_full(&mut head[OBJECT_HEADER_BASE_SIZE - k..])?;
            object_offset = start + k as u64;
            if got < k {
                return Ok(Ok(Block::Truncated(object_offset)));
            }
        }
        let base = match ObjectHeaderBase::parse(&head, || format!("byte offset {object_offset}")) {
            Ok(base) => base,
            Err(e) => {
                return Ok(Err(Broken {
                    offset: object_offset,
                    reason: e.message,
                    reread: head[4..].to_vec(),
                }));
            }
        };
        if base.object_type == object_type::LOG_CONTAINER {
            return self.container(base, object_offset, &head, out);
        }
        // A bare object at top level: pass it on as if it sat in a container.
        let rest = base.object_size as usize - OBJECT_HEADER_BASE_SIZE;
        out.extend_from_slice(&head);
        let got = self.read_append(out, rest)?;
        let truncated = got < rest;
        if !truncated {
            self.last_whole_end = self.pos;
        }
        Ok(Ok(Block::Data {
            file_offset: object_offset,
            uncompressed_before: self.uncompressed,
            truncated,
        }))
    }

    /// Zero bytes where an object should start: the end of the file if only zeros follow.
    fn zero_tail(&mut self, start: u64) -> Result<std::result::Result<Block, Broken>> {
        let mut chunk = [0u8; 4096];
        loop {
            let at = self.pos;
            let n = self.read_full(&mut chunk)?;
            if let Some(i) = chunk[..n].iter().position(|&b| b != 0) {
                return Ok(Err(Broken {
                    offset: start,
                    reason: format!(
                        "zero bytes from byte offset {start} to {} where an object should start",
                        at + i as u64
                    ),
                    reread: chunk[i..n].to_vec(),
                }));
            }
            if n < chunk.len() {
                return Ok(Ok(Block::End));
            }
        }
    }

    fn container(
        &mut self,
        base: ObjectHeaderBase,
        offset: u64,
        head: &[u8; OBJECT_HEADER_BASE_SIZE],
        out: &mut Vec<u8>,
    ) -> Result<std::result::Result<Block, Broken>> {
        let size = base.object_size as usize;
        if size < CONTAINER_HEADER_SIZE {
            return Ok(Err(Broken {
                offset,
                reason: format!(
                    "container at byte offset {offset} has size {size}: at least {CONTAINER_HEADER_SIZE} needed"
                ),
                reread: head[4..].to_vec(),
            }));
        }
        let mut info_bytes = [0u8; 16];
        if self.read_full(&mut info_bytes)? < info_bytes.len() {
            return Ok(Ok(Block::Truncated(offset)));
        }
        let info = ContainerInfo::parse(&info_bytes);
        let reread = |payload: &[u8]| [&head[4..], &info_bytes[..], payload].concat();
        if info.uncompressed_size > MAX_CONTAINER_UNCOMPRESSED {
            return Ok(Err(Broken {
                offset,
                reason: format!(
                    "container at byte offset {offset} claims {} uncompressed bytes: at most {MAX_CONTAINER_UNCOMPRESSED} allowed",
                    info.uncompressed_size
                ),
                reread: reread(&[]),
            }));
        }
        let payload_len = size - CONTAINER_HEADER_SIZE;
        let mut payload = std::mem::take(&mut self.scratch);
        payload.clear();
        let got = self.read_append(&mut payload, payload_len)?;
        let mut truncated = got < payload_len;
        let result = if info.method == METHOD_NONE || info.method == METHOD_ZLIB {
            let limit = match (info.method, info.uncompressed_size) {
                (METHOD_NONE, _) | (_, 0) => MAX_CONTAINER_UNCOMPRESSED as usize,
                (_, n) => n as usize,
            };
            let before = out.len();
            match decode_payload(info.method, &payload, limit, out, offset) {
                Ok(Decoded { used, ended }) => {
                    if !ended && !truncated {
                        self.damage.push(Damage {
                            file_offset: offset,
                            skipped_bytes: 0,
                            reason: format!(
                                "container at byte offset {offset}: its zlib data does not end \
                                 (the {} bytes it gave are kept, unchecked)",
                                out.len() - before
                            ),
                        });
                    }
                    let unused = &payload[used.min(payload.len())..];
                    if unused.iter().any(|&b| b != 0) {
                        // The size field claims more than the data: what follows
                        // the data is read as the next objects.
                        self.damage.push(Damage {
                            file_offset: offset,
                            skipped_bytes: 0,
                            reason: format!(
                                "container at byte offset {offset} claims {size} bytes but its data ends after {}",
                                CONTAINER_HEADER_SIZE + used
                            ),
                        });
                        let unused = unused.to_vec();
                        self.unread(&unused);
                        truncated = false;
                    }
                    let block = Block::Data {
                        file_offset: offset,
                        uncompressed_before: self.uncompressed,
                        truncated,
                    };
                    self.uncompressed += (CONTAINER_HEADER_SIZE + out.len() - before) as u64;
                    Ok(block)
                }
                Err(e) => {
                    out.truncate(before);
                    Err(Broken {
                        offset,
                        reason: e.message,
                        reread: reread(&payload),
                    })
                }
            }
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
        if !truncated && result.is_ok() {
            self.last_whole_end = self.pos;
        }
        Ok(result)
    }
}

/// A damaged top-level object: where it starts, what was wrong, and the bytes
/// read after its first one, to search again for the next object.
pub(crate) struct Broken {
    offset: u64,
    reason: String,
    reread: Vec<u8>,
}
