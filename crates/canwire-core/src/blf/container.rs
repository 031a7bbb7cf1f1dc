//! LOG_CONTAINER (type 10): a block of inner objects, stored raw or zlib-compressed.
//!
//! Layout: a 16-byte base header (header size 16, version 1), then u16 method
//! (0 = none, 2 = zlib), 6 reserved bytes, u32 uncompressed size, 4 reserved
//! bytes, then the payload; `object_size = 32 + payload length`, followed by
//! `object_size % 4` zero bytes. Inner objects run on from one container into the
//! next: the container stream is one byte stream cut into blocks.
//!
//! Compression is a pure function of a finished block ([`encode_container`]), so
//! a writer can hand blocks to another thread.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::bytes::{put, u16_at, u32_at};
use super::object::{OBJECT_SIGNATURE, corrupt, object_type, padding_after};
use crate::error::{CanwireError, Result};

/// Header plus container info: where the payload starts.
pub const CONTAINER_HEADER_SIZE: usize = 32;
/// The container block size python-can and Vector tools write.
pub const DEFAULT_MAX_CONTAINER_SIZE: usize = 128 * 1024;
/// Largest uncompressed container accepted when reading.
pub const MAX_CONTAINER_UNCOMPRESSED: u32 = 16 * 1024 * 1024;

/// Compression method: stored as is.
pub const METHOD_NONE: u16 = 0;
/// Compression method: zlib deflate.
pub const METHOD_ZLIB: u16 = 2;

/// The container fields that follow the base header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContainerInfo {
    /// Compression method ([`METHOD_NONE`], [`METHOD_ZLIB`] or unknown).
    pub method: u16,
    /// Uncompressed payload size as recorded.
    pub uncompressed_size: u32,
}

impl ContainerInfo {
    /// Decodes the 16 bytes after the base header.
    pub fn parse(b: &[u8]) -> Self {
        Self {
            method: u16_at(b, 0),
            uncompressed_size: u32_at(b, 8),
        }
    }
}

/// A container object ready to be written: header, payload and padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedContainer {
    /// The whole object including the trailing padding.
    pub bytes: Vec<u8>,
    /// Size of the raw block it holds.
    pub uncompressed_len: usize,
}

/// Compresses a finished block of inner objects into a LOG_CONTAINER object.
/// Level 0 stores the block uncompressed (method 0), as python-can does; levels
/// 1..=9 use zlib. Levels above 9 are an error.
pub fn encode_container(raw: &[u8], level: u32) -> Result<EncodedContainer> {
    if level > 9 {
        return Err(CanwireError::invalid_argument(format!(
            "compression level {level} is out of range: allowed 0..=9"
        )));
    }
    let uncompressed = u32::try_from(raw.len())
        .ok()
        .filter(|&n| n <= MAX_CONTAINER_UNCOMPRESSED)
        .ok_or_else(|| {
            CanwireError::invalid_argument(format!(
                "container block of {} bytes is larger than {MAX_CONTAINER_UNCOMPRESSED}",
                raw.len()
            ))
        })?;
    let mut bytes = Vec::with_capacity(CONTAINER_HEADER_SIZE + raw.len() / 2 + 64);
    bytes.resize(CONTAINER_HEADER_SIZE, 0);
    let method = if level == 0 {
        bytes.extend_from_slice(raw);
        METHOD_NONE
    } else {
        deflate_into(raw, level, &mut bytes)?;
        METHOD_ZLIB
    };
    let object_size = bytes.len();
    put(&mut bytes, 0, OBJECT_SIGNATURE);
    put(&mut bytes, 4, &16u16.to_le_bytes());
    put(&mut bytes, 6, &1u16.to_le_bytes());
    put(&mut bytes, 8, &(object_size as u32).to_le_bytes());
    put(&mut bytes, 12, &object_type::LOG_CONTAINER.to_le_bytes());
    put(&mut bytes, 16, &method.to_le_bytes());
    put(&mut bytes, 24, &uncompressed.to_le_bytes());
    bytes.resize(object_size + padding_after(object_size), 0);
    Ok(EncodedContainer {
        bytes,
        uncompressed_len: raw.len(),
    })
}

fn deflate_into(raw: &[u8], level: u32, out: &mut Vec<u8>) -> Result<()> {
    let mut z = Compress::new(Compression::new(level), true);
    // zlib's worst case is a little above the input size.
    out.reserve(raw.len() + raw.len() / 1000 + 64);
    loop {
        let consumed = z.total_in() as usize;
        let input = raw.get(consumed..).unwrap_or(&[]);
        if out.capacity() == out.len() {
            out.reserve(4096);
        }
        let status = z
            .compress_vec(input, out, FlushCompress::Finish)
            .map_err(|e| CanwireError::new(crate::ErrorCode::Internal, format!("zlib: {e}")))?;
        if status == Status::StreamEnd {
            return Ok(());
        }
    }
}

/// Appends the payload of a container to `out`: a copy for method 0, an inflate
/// for method 2, at most `limit` bytes either way. A payload cut short (a
/// truncated file) yields what its complete part holds. `offset` names the
/// container in errors.
pub fn decode_payload(
    method: u16,
    payload: &[u8],
    limit: usize,
    out: &mut Vec<u8>,
    offset: u64,
) -> Result<Decoded> {
    match method {
        METHOD_NONE => {
            let n = payload.len().min(limit);
            out.extend_from_slice(&payload[..n]);
            Ok(Decoded {
                used: payload.len(),
                ended: true,
            })
        }
        METHOD_ZLIB => inflate_into(payload, limit, out, offset),
        other => Err(corrupt(format!(
            "container at byte offset {offset} uses compression method {other}: known methods are 0 and 2"
        ))),
    }
}

/// Output past a container's claimed size that is decoded, and dropped, to
/// reach the zlib checksum (a stream holding more is cut at the claim unchecked).
const MAX_OVERRUN: usize = 64 * 1024;

/// What [`decode_payload`] used of a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// Payload bytes the data used: less than the payload when a zlib stream
    /// ends early.
    pub used: usize,
    /// Whether the data ended as its format says (a zlib stream with its
    /// checksum checked, or cut at the claimed size); false when the payload
    /// ran out first (a file cut short, or a stream whose end is damaged).
    pub ended: bool,
}

fn inflate_into(payload: &[u8], limit: usize, out: &mut Vec<u8>, offset: u64) -> Result<Decoded> {
    let mut z = Decompress::new(true);
    let start = out.len();
    // Reserve what a normal container needs; a larger claim grows only as data comes.
    out.reserve(limit.min(2 * DEFAULT_MAX_CONTAINER_SIZE));
    let mut overrun = 0;
    loop {
        let consumed = z.total_in() as usize;
        let produced = out.len() - start;
        let input = payload.get(consumed..).unwrap_or(&[]);
        // Never let the output grow past `limit`, whatever the stream says; the
        // stream is still decoded to its end, as only its checksum shows damage.
        let room = if produced < limit {
            (limit - produced).min(64 * 1024)
        } else {
            4096
        };
        let before = (z.total_in(), z.total_out());
        let mut chunk = Vec::with_capacity(room);
        let status = z
            .decompress_vec(input, &mut chunk, FlushDecompress::None)
            .map_err(|e| {
                corrupt(format!(
                    "container at byte offset {offset}: zlib data is corrupt ({e})"
                ))
            })?;
        if produced < limit {
            out.extend_from_slice(&chunk);
        } else {
            overrun += chunk.len();
            if overrun > MAX_OVERRUN {
                // Far more data than claimed: keep the claimed part unchecked
                // rather than inflate without bound.
                return Ok(Decoded {
                    used: payload.len(),
                    ended: true,
                });
            }
        }
        if status == Status::StreamEnd {
            return Ok(Decoded {
                used: z.total_in() as usize,
                ended: true,
            });
        }
        if (z.total_in(), z.total_out()) == before {
            return Ok(Decoded {
                used: payload.len(),
                ended: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_round_trips() {
        let raw: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for level in 0..=9 {
            let c = encode_container(&raw, level).unwrap();
            let size = u32_at(&c.bytes, 8) as usize;
            assert_eq!(c.bytes.len(), size + size % 4);
            let info = ContainerInfo::parse(&c.bytes[16..32]);
            assert_eq!(info.method, if level == 0 { 0 } else { 2 });
            assert_eq!(info.uncompressed_size as usize, raw.len());
            let mut out = Vec::new();
            decode_payload(info.method, &c.bytes[32..size], raw.len(), &mut out, 0).unwrap();
            assert_eq!(out, raw, "level {level}");
        }
        assert!(encode_container(&raw, 10).is_err());
    }

    #[test]
    fn inflate_is_bounded_and_tolerates_a_cut() {
        let raw = vec![0u8; 1 << 20];
        let c = encode_container(&raw, 6).unwrap();
        let size = u32_at(&c.bytes, 8) as usize;
        let mut out = Vec::new();
        decode_payload(2, &c.bytes[32..size], 1000, &mut out, 0).unwrap();
        assert_eq!(out.len(), 1000, "output is capped at the limit");
        out.clear();
        decode_payload(2, &c.bytes[32..size / 2], raw.len(), &mut out, 0).unwrap();
        assert!(out.len() < raw.len() && out.iter().all(|&b| b == 0));
        let err =
            decode_payload(2, b"\x78\x9c\xff\xff\xff\xff", 100, &mut Vec::new(), 99).unwrap_err();
        assert!(err.message.contains("byte offset 99"), "{err}");
        assert!(decode_payload(7, b"", 0, &mut Vec::new(), 5).is_err());
    }
}
