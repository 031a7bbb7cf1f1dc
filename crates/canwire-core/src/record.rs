//! The packed record: how frames cross between Rust and JavaScript in batches.
//!
//! One record is [`RECORD_SIZE`] bytes, little-endian:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | timestamp, ns since the Unix epoch |
//! | 8 | 4 | id (without flag bits) |
//! | 12 | 4 | flags ([`FrameFlags`](crate::FrameFlags) bits) |
//! | 16 | 1 | data length in bytes |
//! | 17 | 1 | raw DLC code |
//! | 18 | 2 | reserved, zero |
//! | 20 | 4 | channel index |
//! | 24 | 64 | data, zero past the length |
//!
//! A batch is records back to back; the TypeScript facade reads the same layout.

use crate::error::{CanwireError, Result};
use crate::frame::{Frame, FrameFlags};

/// Size of one packed record in bytes.
pub const RECORD_SIZE: usize = 88;

/// Byte offsets of the record fields.
pub mod offset {
    /// Timestamp (u64).
    pub const TIMESTAMP: usize = 0;
    /// Identifier (u32).
    pub const ID: usize = 8;
    /// Flags (u32).
    pub const FLAGS: usize = 12;
    /// Data length (u8).
    pub const LEN: usize = 16;
    /// DLC code (u8).
    pub const DLC: usize = 17;
    /// Channel index (u32).
    pub const CHANNEL: usize = 20;
    /// Data (64 bytes).
    pub const DATA: usize = 24;
}

/// Writes `frame` into `out`, which must be at least [`RECORD_SIZE`] bytes.
pub fn encode_into(frame: &Frame, out: &mut [u8]) {
    let out = &mut out[..RECORD_SIZE];
    out[0..8].copy_from_slice(&frame.timestamp_ns.to_le_bytes());
    out[8..12].copy_from_slice(&frame.id.to_le_bytes());
    out[12..16].copy_from_slice(&frame.flags.0.to_le_bytes());
    out[16] = frame.len;
    out[17] = frame.dlc;
    out[18..20].fill(0);
    out[20..24].copy_from_slice(&frame.channel.to_le_bytes());
    out[24..88].copy_from_slice(&frame.data);
}

/// Appends the records of `frames` to `out`.
pub fn encode_batch(frames: &[Frame], out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + frames.len() * RECORD_SIZE, 0);
    for (frame, chunk) in frames
        .iter()
        .zip(out[start..].chunks_exact_mut(RECORD_SIZE))
    {
        encode_into(frame, chunk);
    }
}

/// Reads one record. The frame is not validated.
pub fn decode(record: &[u8]) -> Frame {
    let r = &record[..RECORD_SIZE];
    let mut data = [0u8; 64];
    data.copy_from_slice(&r[24..88]);
    Frame {
        timestamp_ns: u64::from_le_bytes(r[0..8].try_into().unwrap_or_default()),
        id: u32::from_le_bytes(r[8..12].try_into().unwrap_or_default()),
        flags: FrameFlags(u32::from_le_bytes(r[12..16].try_into().unwrap_or_default())),
        len: r[16],
        dlc: r[17],
        channel: u32::from_le_bytes(r[20..24].try_into().unwrap_or_default()),
        data,
    }
}

/// Reads and validates every record of a batch. On a bad record the error
/// message names its index; nothing is returned for the batch.
pub fn decode_batch(batch: &[u8]) -> Result<ValidFrames> {
    if !batch.len().is_multiple_of(RECORD_SIZE) {
        return Err(CanwireError::invalid_argument(format!(
            "a record batch is a multiple of {RECORD_SIZE} bytes, got {}",
            batch.len()
        )));
    }
    ValidFrames::check(batch.chunks_exact(RECORD_SIZE).map(decode).collect())
}

/// Frames that each passed [`Frame::validate`]. Only [`ValidFrames::check`]
/// (which [`decode_batch`] runs) makes one, so whatever takes `ValidFrames`
/// (a bus's send of frames from JS) need not validate them again: one
/// validation per send. Reads as a slice of frames.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidFrames(Vec<Frame>);

impl ValidFrames {
    /// Validates every frame; a bad one's error names its index (`record 3: ...`).
    pub fn check(frames: Vec<Frame>) -> Result<Self> {
        for (index, frame) in frames.iter().enumerate() {
            frame
                .validate()
                .map_err(|e| CanwireError::new(e.code, format!("record {index}: {}", e.message)))?;
        }
        Ok(Self(frames))
    }

    /// The frames, as a plain vector.
    pub fn into_vec(self) -> Vec<Frame> {
        self.0
    }
}

impl std::ops::Deref for ValidFrames {
    type Target = [Frame];

    fn deref(&self) -> &[Frame] {
        &self.0
    }
}

impl PartialEq<[Frame]> for ValidFrames {
    fn eq(&self, other: &[Frame]) -> bool {
        self.0 == other
    }
}

impl<const N: usize> PartialEq<[Frame; N]> for ValidFrames {
    fn eq(&self, other: &[Frame; N]) -> bool {
        self.0 == other
    }
}

impl PartialEq<Vec<Frame>> for ValidFrames {
    fn eq(&self, other: &Vec<Frame>) -> bool {
        &self.0 == other
    }
}

impl From<ValidFrames> for Vec<Frame> {
    fn from(frames: ValidFrames) -> Self {
        frames.0
    }
}

impl IntoIterator for ValidFrames {
    type Item = Frame;
    type IntoIter = std::vec::IntoIter<Frame>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn round_trip_keeps_every_field() {
        let mut frame = Frame::fd(0x1ABC_DEF0, true, &[7; 48], true);
        frame.flags.set(FrameFlags::ESI, true);
        frame.flags.set(FrameFlags::TX, true);
        frame.timestamp_ns = 1_699_999_999_123_456_789;
        frame.channel = 42;
        let mut buf = Vec::new();
        encode_batch(&[frame, Frame::classic(0x7FF, false, &[1, 2])], &mut buf);
        assert_eq!(buf.len(), 2 * RECORD_SIZE);
        let back = decode_batch(&buf).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0], frame);
        assert_eq!(back[1].data(), &[1, 2]);
    }

    #[test]
    fn layout_is_fixed() {
        let mut frame = Frame::classic(0x123, false, &[0xDE, 0xAD]);
        frame.timestamp_ns = 0x0102_0304_0506_0708;
        frame.channel = 5;
        let mut buf = vec![0u8; RECORD_SIZE];
        encode_into(&frame, &mut buf);
        assert_eq!(&buf[0..8], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(&buf[8..12], &[0x23, 0x01, 0, 0]);
        assert_eq!(buf[offset::LEN], 2);
        assert_eq!(buf[offset::DLC], 2);
        assert_eq!(&buf[20..24], &[5, 0, 0, 0]);
        assert_eq!(&buf[24..26], &[0xDE, 0xAD]);
    }

    #[test]
    fn bad_record_is_named_by_index() {
        let mut buf = Vec::new();
        encode_batch(
            &[
                Frame::classic(1, false, &[]),
                Frame::classic(0x800, false, &[]),
            ],
            &mut buf,
        );
        let err = decode_batch(&buf).unwrap_err();
        assert_eq!(err.code, ErrorCode::IdOutOfRange);
        assert!(err.message.starts_with("record 1:"), "{}", err.message);
        let err = decode_batch(&buf[..RECORD_SIZE + 1]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
    }
}
