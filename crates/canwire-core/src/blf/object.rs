//! Object headers ("LOBJ"): the 16-byte base every object starts with, and the
//! version 1 and 2 extensions that carry flags and the timestamp.
//!
//! Base (16 bytes): `"LOBJ"`, u16 header size, u16 header version, u32 object size
//! (header + payload, **without** the padding that follows), u32 object type.
//!
//! V1 (header size 32): u32 flags, u16 client index, u16 object version, u64 timestamp.
//! V2 (header size 40): u32 flags, u8 timestamp status, u8 reserved, u16 object
//! version, u64 timestamp, u64 original timestamp.
//!
//! After each object come `object_size % 4` zero bytes: Vector's padding rule, which
//! is not alignment. Readers find the next `"LOBJ"` within a few bytes instead of
//! trusting it, because writers disagree on the padding.

use super::bytes::{put, u8_at, u16_at, u32_at, u64_at};
use crate::error::{CanwireError, ErrorCode, Result};

/// The object signature.
pub const OBJECT_SIGNATURE: &[u8; 4] = b"LOBJ";
/// Size of the base header.
pub const OBJECT_HEADER_BASE_SIZE: usize = 16;
/// Size of a version 1 header.
pub const OBJECT_HEADER_V1_SIZE: usize = 32;
/// Size of a version 2 header.
pub const OBJECT_HEADER_V2_SIZE: usize = 40;
/// Largest object size accepted when reading; anything above is a corrupt file.
/// It bounds the memory one object can make the reader hold.
pub const MAX_OBJECT_SIZE: u32 = 16 * 1024 * 1024;

/// Object flag: the timestamp counts 10 µs units.
pub const OBJECT_FLAG_TIME_TEN_MICS: u32 = 1;
/// Object flag: the timestamp counts nanoseconds.
pub const OBJECT_FLAG_TIME_ONE_NANS: u32 = 2;

/// Object type numbers used by this module.
pub mod object_type {
    /// CAN_MESSAGE: classic frame.
    pub const CAN_MESSAGE: u32 = 1;
    /// CAN_ERROR: error frame without details.
    pub const CAN_ERROR: u32 = 2;
    /// LOG_CONTAINER: a block of (possibly compressed) objects.
    pub const LOG_CONTAINER: u32 = 10;
    /// APP_TEXT: text or metadata written by the application.
    pub const APP_TEXT: u32 = 65;
    /// CAN_ERROR_EXT: error frame with details.
    pub const CAN_ERROR_EXT: u32 = 73;
    /// CAN_MESSAGE2: classic frame with frame length and bit count.
    pub const CAN_MESSAGE2: u32 = 86;
    /// GLOBAL_MARKER: a marker with group, name and description.
    pub const GLOBAL_MARKER: u32 = 96;
    /// CAN_FD_MESSAGE: FD frame with a fixed 64-byte data field.
    pub const CAN_FD_MESSAGE: u32 = 100;
    /// CAN_FD_MESSAGE_64: FD frame with a variable data field.
    pub const CAN_FD_MESSAGE_64: u32 = 101;
    /// CAN_FD_ERROR_64: FD error frame.
    pub const CAN_FD_ERROR_64: u32 = 104;
}

/// The 16-byte base header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectHeaderBase {
    /// Header size in bytes (base plus extension).
    pub header_size: u16,
    /// Header version (1 or 2 are understood).
    pub header_version: u16,
    /// Header plus payload, without padding.
    pub object_size: u32,
    /// Object type, see [`object_type`].
    pub object_type: u32,
}

impl ObjectHeaderBase {
    /// Decodes and checks a base header. `b` must start with `"LOBJ"` and hold 16
    /// bytes; `at` names where it was found (e.g. || "byte offset 144".into()), for the
    /// error message, and is only called on error.
    pub fn parse(b: &[u8], at: impl FnOnce() -> String) -> Result<Self> {
        if b.len() < OBJECT_HEADER_BASE_SIZE || &b[..4] != OBJECT_SIGNATURE {
            return Err(corrupt(format!("no object signature \"LOBJ\" at {}", at())));
        }
        let base = Self {
            header_size: u16_at(b, 4),
            header_version: u16_at(b, 6),
            object_size: u32_at(b, 8),
            object_type: u32_at(b, 12),
        };
        if base.object_size == 0 {
            let offset = at();
            return Err(corrupt(format!(
                "object at {offset} has size 0: an object holds at least its {OBJECT_HEADER_BASE_SIZE}-byte header"
            )));
        }
        if base.object_size > MAX_OBJECT_SIZE {
            let offset = at();
            return Err(corrupt(format!(
                "object at {offset} claims {} bytes: more than the {MAX_OBJECT_SIZE} bytes allowed",
                base.object_size
            )));
        }
        if usize::from(base.header_size) < OBJECT_HEADER_BASE_SIZE
            || u32::from(base.header_size) > base.object_size
        {
            let offset = at();
            return Err(corrupt(format!(
                "object at {offset} has header size {} and object size {}: allowed {OBJECT_HEADER_BASE_SIZE} <= header size <= object size",
                base.header_size, base.object_size
            )));
        }
        Ok(base)
    }
}

/// A full object header (base plus a v1 or v2 extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectHeader {
    /// The base header.
    pub base: ObjectHeaderBase,
    /// Object flags ([`OBJECT_FLAG_TIME_TEN_MICS`], [`OBJECT_FLAG_TIME_ONE_NANS`]).
    pub flags: u32,
    /// Client index (v1 only; 0 for v2).
    pub client_index: u16,
    /// Object version.
    pub object_version: u16,
    /// Raw timestamp in the unit the flags give.
    pub timestamp: u64,
    /// Timestamp status (v2 only).
    pub timestamp_status: u8,
    /// Original timestamp (v2 only).
    pub original_timestamp: u64,
}

impl ObjectHeader {
    /// Decodes the header of a whole object `obj` (which starts with the base).
    /// `None` for header versions other than 1 and 2 or headers too short for them.
    pub fn parse(obj: &[u8], base: ObjectHeaderBase) -> Option<Self> {
        let size = usize::from(base.header_size);
        let v2 = match base.header_version {
            1 if size >= OBJECT_HEADER_V1_SIZE => false,
            2 if size >= OBJECT_HEADER_V2_SIZE => true,
            _ => return None,
        };
        if obj.len() < size {
            return None;
        }
        Some(Self {
            base,
            flags: u32_at(obj, 16),
            client_index: if v2 { 0 } else { u16_at(obj, 20) },
            object_version: u16_at(obj, 22),
            timestamp: u64_at(obj, 24),
            timestamp_status: if v2 { u8_at(obj, 20) } else { 0 },
            original_timestamp: if v2 { u64_at(obj, 32) } else { 0 },
        })
    }

    /// The timestamp in nanoseconds relative to the file's start time. Flag 1
    /// means 10 µs units; anything else (2, and 0 as python-can reads it) is ns.
    pub fn timestamp_ns(&self) -> u64 {
        if self.flags & OBJECT_FLAG_TIME_TEN_MICS != 0
            && self.flags & OBJECT_FLAG_TIME_ONE_NANS == 0
        {
            self.timestamp.saturating_mul(10_000)
        } else {
            self.timestamp
        }
    }
}

/// Encodes a v1 header with nanosecond timestamps for an object of `payload_len`
/// payload bytes. The caller checks that the size fits in u32.
pub fn encode_v1_header(
    object_type: u32,
    payload_len: usize,
    timestamp_ns: u64,
) -> [u8; OBJECT_HEADER_V1_SIZE] {
    let mut b = [0u8; OBJECT_HEADER_V1_SIZE];
    put(&mut b, 0, OBJECT_SIGNATURE);
    put(&mut b, 4, &(OBJECT_HEADER_V1_SIZE as u16).to_le_bytes());
    put(&mut b, 6, &1u16.to_le_bytes());
    let size = (OBJECT_HEADER_V1_SIZE + payload_len) as u32;
    put(&mut b, 8, &size.to_le_bytes());
    put(&mut b, 12, &object_type.to_le_bytes());
    put(&mut b, 16, &OBJECT_FLAG_TIME_ONE_NANS.to_le_bytes());
    put(&mut b, 24, &timestamp_ns.to_le_bytes());
    b
}

/// Vector's padding after an object of `object_size` bytes.
pub const fn padding_after(object_size: usize) -> usize {
    object_size % 4
}

/// A [`ErrorCode::CorruptFile`] error.
pub(crate) fn corrupt(message: String) -> CanwireError {
    CanwireError::new(ErrorCode::CorruptFile, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(size: u32, header: u16) -> Vec<u8> {
        let mut b = encode_v1_header(1, 16, 5).to_vec();
        b[4..6].copy_from_slice(&header.to_le_bytes());
        b[8..12].copy_from_slice(&size.to_le_bytes());
        b
    }

    #[test]
    fn sizes_are_checked_and_named_with_the_offset() {
        let err = ObjectHeaderBase::parse(&base(0, 32), || "byte offset 144".into()).unwrap_err();
        assert_eq!(err.code, ErrorCode::CorruptFile);
        assert!(
            err.message.contains("byte offset 144") && err.message.contains("size 0"),
            "{err}"
        );
        let err =
            ObjectHeaderBase::parse(&base(1 << 31, 32), || "byte offset 7".into()).unwrap_err();
        assert!(
            err.message.contains("byte offset 7") && err.message.contains("2147483648"),
            "{err}"
        );
        assert!(ObjectHeaderBase::parse(&base(20, 32), String::new).is_err());
        assert!(ObjectHeaderBase::parse(&base(48, 8), String::new).is_err());
        assert!(ObjectHeaderBase::parse(&base(48, 32), String::new).is_ok());
    }

    #[test]
    fn v1_and_v2_timestamps() {
        let mut b = base(48, 32);
        b.resize(48, 0);
        let h = ObjectHeader::parse(&b, ObjectHeaderBase::parse(&b, String::new).unwrap()).unwrap();
        assert_eq!(h.timestamp_ns(), 5);
        b[16] = 1;
        let h = ObjectHeader::parse(&b, h.base).unwrap();
        assert_eq!(h.timestamp_ns(), 50_000);
        let mut v2 = base(56, 40);
        v2[6] = 2;
        v2.resize(56, 0);
        v2[20] = 7;
        v2[32] = 9;
        let h =
            ObjectHeader::parse(&v2, ObjectHeaderBase::parse(&v2, String::new).unwrap()).unwrap();
        assert_eq!(
            (h.timestamp_status, h.original_timestamp, h.timestamp_ns()),
            (7, 9, 5)
        );
        let mut v3 = v2.clone();
        v3[6] = 3;
        assert!(
            ObjectHeader::parse(&v3, ObjectHeaderBase::parse(&v3, String::new).unwrap()).is_none()
        );
    }
}
