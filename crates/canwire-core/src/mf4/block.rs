//! The header every MDF 4 block starts with, and blocks as bytes.
//!
//! A block is `##XX`, 4 reserved bytes, its total length (u64), its link
//! count (u64), the links (u64 file offsets, 0 for none), then its data
//! section. Blocks start on 8-byte boundaries, so lengths are padded to 8.

use crate::error::{CanwireError, ErrorCode, Result};

/// Bytes in a block header.
pub const HEADER_LEN: usize = 24;

/// A parsed block header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    /// The two letters after `##` (`DT`, `DZ`, `CN`, ...).
    pub id: [u8; 2],
    /// Total length of the block in bytes, header included.
    pub length: u64,
    /// Number of links after the header.
    pub link_count: u64,
}

impl BlockHeader {
    /// Parses the 24 header bytes of the block at `offset` (for the error message).
    pub fn parse(bytes: &[u8], offset: u64) -> Result<Self> {
        if bytes.len() < HEADER_LEN || &bytes[..2] != b"##" {
            return Err(corrupt(offset, "no block header (`##` expected)"));
        }
        let header = Self {
            id: [bytes[2], bytes[3]],
            length: le_u64(bytes, 8),
            link_count: le_u64(bytes, 16),
        };
        if header.length < (HEADER_LEN as u64).saturating_add(header.link_count.saturating_mul(8)) {
            return Err(corrupt(
                offset,
                &format!(
                    "the ##{} block's length {} does not hold its {} links",
                    header.id_str(),
                    header.length,
                    header.link_count
                ),
            ));
        }
        Ok(header)
    }

    /// The id as text, e.g. `DT`.
    pub fn id_str(&self) -> String {
        String::from_utf8_lossy(&self.id).into_owned()
    }

    /// Bytes after the links (the data section).
    pub fn data_len(&self) -> u64 {
        self.length - HEADER_LEN as u64 - self.link_count * 8
    }
}

/// A block being built: its links and data, serialised by [`BlockBuilder::finish`].
#[derive(Debug, Clone)]
pub struct BlockBuilder {
    id: [u8; 2],
    links: Vec<u64>,
    data: Vec<u8>,
}

impl BlockBuilder {
    /// A block `##` + `id` with `links`.
    pub fn new(id: &[u8; 2], links: &[u64]) -> Self {
        Self {
            id: *id,
            links: links.to_vec(),
            data: Vec::new(),
        }
    }

    /// Appends bytes to the data section.
    pub fn bytes(mut self, bytes: &[u8]) -> Self {
        self.data.extend_from_slice(bytes);
        self
    }
    /// Appends one byte.
    pub fn u8(self, v: u8) -> Self {
        self.bytes(&[v])
    }
    /// Appends a little-endian u16.
    pub fn u16(self, v: u16) -> Self {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends a little-endian u32.
    pub fn u32(self, v: u32) -> Self {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends a little-endian u64.
    pub fn u64(self, v: u64) -> Self {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends a little-endian f64.
    pub fn f64(self, v: f64) -> Self {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends `n` zero bytes.
    pub fn zeros(mut self, n: usize) -> Self {
        self.data.resize(self.data.len() + n, 0);
        self
    }

    /// The block's bytes, followed by zeros up to a multiple of 8 so the
    /// next block is aligned (the padding is not part of the block's length:
    /// a DT block's data must be exactly its records).
    pub fn finish(self) -> Vec<u8> {
        let length = HEADER_LEN + self.links.len() * 8 + self.data.len();
        let mut out = Vec::with_capacity(length.div_ceil(8) * 8);
        out.extend_from_slice(b"##");
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(length as u64).to_le_bytes());
        out.extend_from_slice(&(self.links.len() as u64).to_le_bytes());
        for link in &self.links {
            out.extend_from_slice(&link.to_le_bytes());
        }
        out.extend_from_slice(&self.data);
        out.resize(length.div_ceil(8) * 8, 0);
        out
    }
}

/// Reads a little-endian u64 at `at` (the caller checked the length).
pub fn le_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Reads a little-endian u32 at `at`.
pub fn le_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Reads a little-endian u16 at `at`.
pub fn le_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(bytes[at..at + 2].try_into().expect("2 bytes"))
}

/// A [`ErrorCode::CorruptFile`] error naming the byte offset.
pub fn corrupt(offset: u64, what: &str) -> CanwireError {
    CanwireError::new(
        ErrorCode::CorruptFile,
        format!("MF4: at byte offset {offset}: {what}"),
    )
}

/// A [`ErrorCode::TruncatedFile`] error naming the byte offset.
pub fn truncated(offset: u64, what: &str) -> CanwireError {
    CanwireError::new(
        ErrorCode::TruncatedFile,
        format!("MF4: at byte offset {offset}: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_padded_to_8_and_its_header_reads_back() {
        let bytes = BlockBuilder::new(b"TX", &[]).bytes(b"time\0").finish();
        assert_eq!(bytes.len(), 32);
        assert_eq!(&bytes[..4], b"##TX");
        assert_eq!(le_u64(&bytes, 8), 29);
        assert_eq!(&bytes[24..32], b"time\0\0\0\0");
        let header = BlockHeader::parse(&bytes, 0).unwrap();
        assert_eq!(
            (header.id, header.length, header.link_count),
            (*b"TX", 29, 0)
        );
        assert_eq!(header.data_len(), 5);
    }

    #[test]
    fn links_come_before_the_data() {
        let bytes = BlockBuilder::new(b"DG", &[1, 2, 3, 4])
            .u8(1)
            .zeros(7)
            .finish();
        assert_eq!(bytes.len(), 64);
        assert_eq!(le_u64(&bytes, 16), 4);
        assert_eq!(le_u64(&bytes, 24), 1);
        assert_eq!(le_u64(&bytes, 48), 4);
        assert_eq!(bytes[56], 1);
    }

    #[test]
    fn a_bad_header_is_a_corrupt_file_error_naming_the_offset() {
        let err = BlockHeader::parse(b"xxDT\0\0\0\0........................", 4096).unwrap_err();
        assert_eq!(err.code, ErrorCode::CorruptFile);
        assert!(err.message.contains("4096"), "{err}");
        let mut short = BlockBuilder::new(b"DL", &[0, 0]).finish();
        short[8..16].copy_from_slice(&24u64.to_le_bytes());
        let err = BlockHeader::parse(&short, 8).unwrap_err();
        assert!(err.message.contains("##DL"), "{err}");
    }
}
