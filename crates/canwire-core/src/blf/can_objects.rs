//! CAN object payloads: decoding into [`Frame`]s and encoding frames back.
//!
//! Offsets below are from the end of the object header.
//!
//! - CAN_MESSAGE (1), CAN_MESSAGE2 (86): u16 channel, u8 flags (0x01 Tx, 0x80
//!   RTR), u8 DLC, u32 id (bit 31 extended), 8 data bytes. Type 86 adds frame
//!   length and bit count, ignored here.
//! - CAN_FD_MESSAGE (100): u16 channel, u8 flags, u8 DLC, u32 id, u32 frame
//!   length, u8 bit count, u8 FD flags (1 EDL, 2 BRS, 4 ESI), u8 valid bytes, 5
//!   reserved, 64 data bytes at +20.
//! - CAN_FD_MESSAGE_64 (101): u8 channel, u8 DLC, u8 valid bytes, u8 tx count,
//!   u32 id, u32 frame length, u32 flags (0x10 RTR, 0x1000 EDL, 0x2000 BRS,
//!   0x4000 ESI), 4 × u32 bit timing, u16 bit count, u8 dir (0 Rx), u8 ext data
//!   offset (from the object start), u32 CRC, data at +40.
//! - CAN_ERROR (2): u16 channel, u16 length.
//! - CAN_ERROR_EXT (73): u16 channel, u16 length, u32 flags, u8 ECC, u8 position,
//!   u8 DLC, u8 reserved, u32 frame length, u32 id, u16 flagsExt, 2 reserved, 8 data.
//! - CAN_FD_ERROR_64 (104): u8 channel, u8 DLC, u8 valid bytes, u8 ECC, u16
//!   flags, u16 error code ext (as flagsExt), u16 FD flags (0x20 ESI, 0x40 BRS,
//!   0x80 EDL), u8 ext data offset, u8 reserved, u32 id, u32 frame length, 4 ×
//!   u32 timing, u32 CRC, u16 error position, 2 reserved, data at +44.
//!
//! Channels are 1-based in BLF and 0-based in [`Frame`]: `frame.channel = blf - 1`,
//! wrapping, so BLF channel 0 reads as `u32::MAX` and writes back as 0.

use super::bytes::{put, u8_at, u16_at, u32_at};
use super::item::{BlfItem, CanErrorDetails};
use super::object::{encode_v1_header, object_type as ty, padding_after};
use crate::error::{CanwireError, ErrorCode, Result};
use crate::frame::{Frame, FrameFlags};

const EXT_ID_BIT: u32 = 0x8000_0000;
const ID_MASK: u32 = 0x1FFF_FFFF;
const MSG_TX: u8 = 0x01;
const MSG_RTR: u8 = 0x80;
const FD_EDL: u8 = 0x01;
const FD_BRS: u8 = 0x02;
const FD_ESI: u8 = 0x04;
const FD64_RTR: u32 = 0x10;
const FD64_EDL: u32 = 0x1000;
const FD64_BRS: u32 = 0x2000;
const FD64_ESI: u32 = 0x4000;
const FDERR_ESI: u16 = 0x20;
const FDERR_BRS: u16 = 0x40;
const FDERR_EDL: u16 = 0x80;
/// flagsExt: bit 5 set means Rx; bits 12-13 are the extended direction.
const EXT_DIR_RX_BIT: u16 = 1 << 5;
const EXT_DIR_TX: u16 = 3 << 12;
const EXT_DIR_RX: u16 = 2 << 12;

/// Where a decoded object comes from, for everything but the payload.
pub(crate) struct ObjectContext {
    /// Header size of the object (data offsets that count from the object start need it).
    pub header_size: usize,
    /// Absolute timestamp in ns since the Unix epoch.
    pub timestamp_ns: u64,
}

fn frame_base(ctx: &ObjectContext, blf_channel: u32, raw_id: u32, dlc: u8) -> Frame {
    let mut f = Frame {
        timestamp_ns: ctx.timestamp_ns,
        id: raw_id & ID_MASK,
        dlc,
        channel: blf_channel.wrapping_sub(1),
        ..Frame::default()
    };
    f.flags.set(FrameFlags::EXTENDED, raw_id & EXT_ID_BIT != 0);
    f
}

fn copy_data(f: &mut Frame, data: &[u8], len: usize) {
    let n = len.min(64);
    let avail = n.min(data.len());
    f.data[..avail].copy_from_slice(&data[..avail]);
    f.len = n as u8;
}

fn ext_dir_is_tx(flags_ext: u16) -> bool {
    matches!((flags_ext >> 12) & 3, 1 | 3)
}

/// Decodes a CAN object payload. `None` if the type is not a CAN type this module
/// reads; `Some(None)` if the payload is too short for its type.
pub(crate) fn decode_can(
    object_type: u32,
    p: &[u8],
    ctx: &ObjectContext,
) -> Option<Option<BlfItem>> {
    let item = match object_type {
        ty::CAN_MESSAGE | ty::CAN_MESSAGE2 => (p.len() >= 16).then(|| {
            let flags = u8_at(p, 2);
            let mut f = frame_base(ctx, u32::from(u16_at(p, 0)), u32_at(p, 4), u8_at(p, 3));
            f.flags.set(FrameFlags::TX, flags & MSG_TX != 0);
            if flags & MSG_RTR != 0 {
                f.flags.set(FrameFlags::REMOTE, true);
            } else {
                let len = usize::from(f.dlc.min(8));
                copy_data(&mut f, &p[8..16], len);
            }
            BlfItem::Frame(f)
        }),
        ty::CAN_FD_MESSAGE => (p.len() >= 20).then(|| {
            let (flags, fd) = (u8_at(p, 2), u8_at(p, 13));
            let mut f = frame_base(ctx, u32::from(u16_at(p, 0)), u32_at(p, 4), u8_at(p, 3));
            f.flags.set(FrameFlags::TX, flags & MSG_TX != 0);
            f.flags.set(FrameFlags::FD, fd & FD_EDL != 0);
            f.flags.set(FrameFlags::BRS, fd & FD_BRS != 0);
            f.flags.set(FrameFlags::ESI, fd & FD_ESI != 0);
            if flags & MSG_RTR != 0 {
                f.flags.set(FrameFlags::REMOTE, true);
            } else {
                copy_data(&mut f, &p[20..], usize::from(u8_at(p, 14)));
            }
            BlfItem::Frame(f)
        }),
        ty::CAN_FD_MESSAGE_64 => (p.len() >= 40).then(|| {
            let flags = u32_at(p, 12);
            let mut f = frame_base(ctx, u32::from(u8_at(p, 0)), u32_at(p, 4), u8_at(p, 1));
            f.flags.set(FrameFlags::TX, u8_at(p, 34) != 0);
            f.flags.set(FrameFlags::FD, flags & FD64_EDL != 0);
            f.flags.set(FrameFlags::BRS, flags & FD64_BRS != 0);
            f.flags.set(FrameFlags::ESI, flags & FD64_ESI != 0);
            if flags & FD64_RTR != 0 {
                f.flags.set(FrameFlags::REMOTE, true);
            } else {
                let data = variable_data(p, 40, u8_at(p, 35), ctx.header_size);
                copy_data(&mut f, data, usize::from(u8_at(p, 2)));
            }
            BlfItem::Frame(f)
        }),
        ty::CAN_ERROR => (p.len() >= 2).then(|| {
            let mut f = frame_base(ctx, u32::from(u16_at(p, 0)), 0, 0);
            f.flags.set(FrameFlags::ERROR, true);
            let details = CanErrorDetails {
                object_type,
                length: u16_at(p, 2),
                ..CanErrorDetails::default()
            };
            BlfItem::Error(f, details)
        }),
        ty::CAN_ERROR_EXT => (p.len() >= 32).then(|| {
            let mut f = frame_base(ctx, u32::from(u16_at(p, 0)), u32_at(p, 16), u8_at(p, 10));
            let flags_ext = u16_at(p, 20);
            f.flags.set(FrameFlags::ERROR, true);
            f.flags.set(FrameFlags::TX, ext_dir_is_tx(flags_ext));
            let len = usize::from(f.dlc.min(8));
            copy_data(&mut f, &p[24..32], len);
            let details = CanErrorDetails {
                object_type,
                flags: u32_at(p, 4),
                ecc: u8_at(p, 8),
                position: u16::from(u8_at(p, 9)),
                flags_ext,
                frame_length_ns: u32_at(p, 12),
                length: u16_at(p, 2),
                ..CanErrorDetails::default()
            };
            BlfItem::Error(f, details)
        }),
        ty::CAN_FD_ERROR_64 => (p.len() >= 44).then(|| {
            let mut f = frame_base(ctx, u32::from(u8_at(p, 0)), u32_at(p, 12), u8_at(p, 1));
            let (flags_ext, fd) = (u16_at(p, 6), u16_at(p, 8));
            f.flags.set(FrameFlags::ERROR, true);
            f.flags.set(FrameFlags::TX, ext_dir_is_tx(flags_ext));
            f.flags.set(FrameFlags::FD, fd & FDERR_EDL != 0);
            f.flags.set(FrameFlags::BRS, fd & FDERR_BRS != 0);
            f.flags.set(FrameFlags::ESI, fd & FDERR_ESI != 0);
            let data = variable_data(p, 44, u8_at(p, 10), ctx.header_size);
            copy_data(&mut f, data, usize::from(u8_at(p, 2)));
            let details = CanErrorDetails {
                object_type,
                flags: u32::from(u16_at(p, 4)),
                ecc: u8_at(p, 3),
                position: u16_at(p, 40),
                flags_ext,
                fd_flags: fd,
                frame_length_ns: u32_at(p, 16),
                crc: u32_at(p, 36),
                length: 0,
            };
            BlfItem::Error(f, details)
        }),
        _ => return None,
    };
    Some(item)
}

/// The variable data field at `start`: it ends at the ext data offset (counted
/// from the object start) if one is given, else at the end of the payload.
/// Bytes missing from the file read as zero (python-can #1905).
fn variable_data(p: &[u8], start: usize, ext_offset: u8, header_size: usize) -> &[u8] {
    let end = match usize::from(ext_offset).checked_sub(header_size) {
        Some(e) if ext_offset != 0 && e >= start => e.min(p.len()),
        _ => p.len(),
    };
    p.get(start..end).unwrap_or(&[])
}

fn invalid(code: ErrorCode, message: String) -> CanwireError {
    CanwireError::new(code, message)
}

/// Checks that a frame can be written and returns its BLF channel.
fn check_frame(f: &Frame, max_channel: u32) -> Result<u32> {
    if f.id > ID_MASK {
        return Err(invalid(
            ErrorCode::IdOutOfRange,
            format!("id {:#x} does not fit 29 bits", f.id),
        ));
    }
    if f.len > 64 {
        return Err(invalid(
            ErrorCode::DataTooLong,
            format!("{} data bytes: at most 64 allowed", f.len),
        ));
    }
    let ch = f.channel.wrapping_add(1);
    if ch > max_channel {
        return Err(CanwireError::invalid_argument(format!(
            "channel {} does not fit this BLF object: allowed 0..={} (BLF channel = channel + 1)",
            f.channel,
            max_channel - 1
        )));
    }
    if f.is_fd() && !f.is_remote() && crate::dlc::fd_len_to_dlc(f.len).is_none() {
        return Err(invalid(
            ErrorCode::InvalidFdLength,
            format!(
                "an FD frame cannot carry {} bytes: allowed lengths are 0..8, 12, 16, 20, 24, 32, 48, 64",
                f.len
            ),
        ));
    }
    if !f.is_fd() {
        if f.is_remote() && f.len != 0 {
            return Err(invalid(
                ErrorCode::DlcMismatch,
                format!("a remote frame carries no data, got {} bytes", f.len),
            ));
        }
        if !f.is_remote() && f.dlc.min(8) != f.len {
            return Err(invalid(
                ErrorCode::DlcMismatch,
                format!(
                    "DLC {} does not match {} data bytes of a classic frame",
                    f.dlc, f.len
                ),
            ));
        }
    }
    Ok(ch)
}

/// Appends an object of `payload_len` zeroed payload bytes (and its padding) to
/// `out`, with a v1 header; returns the payload slice to fill.
fn push_object(out: &mut Vec<u8>, object_type: u32, payload_len: usize, ts: u64) -> &mut [u8] {
    let start = out.len();
    out.extend_from_slice(&encode_v1_header(object_type, payload_len, ts));
    let size = 32 + payload_len;
    out.resize(start + size + padding_after(size), 0);
    &mut out[start + 32..start + size]
}

/// Appends a frame as a BLF object (with padding) to `out`, with a nanosecond
/// timestamp `ts` relative to the file start:
/// classic data and remote frames as CAN_MESSAGE, FD frames as
/// CAN_FD_MESSAGE_64, classic error frames as CAN_ERROR_EXT and FD error frames
/// as CAN_FD_ERROR_64. Returns the object type written. Nothing is appended on error.
pub fn encode_frame(f: &Frame, ts: u64, out: &mut Vec<u8>) -> Result<u32> {
    let raw_id = f.id | if f.is_extended() { EXT_ID_BIT } else { 0 };
    let tx = f.flags.has(FrameFlags::TX);
    let data = f.data();
    let dir = if tx {
        EXT_DIR_TX
    } else {
        EXT_DIR_RX | EXT_DIR_RX_BIT
    };
    let fd_code = crate::dlc::fd_len_to_dlc(f.len).unwrap_or(f.dlc);
    match (f.is_error(), f.is_fd()) {
        (false, false) => {
            let ch = check_frame(f, u32::from(u16::MAX))?;
            let p = push_object(out, ty::CAN_MESSAGE, 16, ts);
            put(p, 0, &(ch as u16).to_le_bytes());
            p[2] = if tx { MSG_TX } else { 0 } | if f.is_remote() { MSG_RTR } else { 0 };
            p[3] = f.dlc;
            put(p, 4, &raw_id.to_le_bytes());
            put(p, 8, data);
            Ok(ty::CAN_MESSAGE)
        }
        (false, true) => {
            let ch = check_frame(f, u32::from(u8::MAX))?;
            let mut flags = FD64_EDL;
            for (bit, v) in [
                (FrameFlags::BRS, FD64_BRS),
                (FrameFlags::ESI, FD64_ESI),
                (FrameFlags::REMOTE, FD64_RTR),
            ] {
                if f.flags.has(bit) {
                    flags |= v;
                }
            }
            let p = push_object(out, ty::CAN_FD_MESSAGE_64, 40 + data.len(), ts);
            p[0] = ch as u8;
            p[1] = if f.is_remote() { f.dlc } else { fd_code };
            p[2] = f.len;
            put(p, 4, &raw_id.to_le_bytes());
            put(p, 12, &flags.to_le_bytes());
            p[34] = u8::from(tx);
            put(p, 40, data);
            Ok(ty::CAN_FD_MESSAGE_64)
        }
        (true, false) => {
            let ch = check_frame(f, u32::from(u16::MAX))?;
            let p = push_object(out, ty::CAN_ERROR_EXT, 32, ts);
            put(p, 0, &(ch as u16).to_le_bytes());
            p[10] = f.dlc;
            put(p, 16, &raw_id.to_le_bytes());
            put(p, 20, &dir.to_le_bytes());
            put(p, 24, data);
            Ok(ty::CAN_ERROR_EXT)
        }
        (true, true) => {
            let ch = check_frame(f, u32::from(u8::MAX))?;
            let mut fd = FDERR_EDL;
            for (bit, v) in [(FrameFlags::BRS, FDERR_BRS), (FrameFlags::ESI, FDERR_ESI)] {
                if f.flags.has(bit) {
                    fd |= v;
                }
            }
            let p = push_object(out, ty::CAN_FD_ERROR_64, 44 + data.len(), ts);
            p[0] = ch as u8;
            p[1] = fd_code;
            p[2] = f.len;
            put(p, 6, &dir.to_le_bytes());
            put(p, 8, &fd.to_le_bytes());
            put(p, 12, &raw_id.to_le_bytes());
            put(p, 44, data);
            Ok(ty::CAN_FD_ERROR_64)
        }
    }
}

/// Appends an arbitrary object (header, payload, padding) to `out`.
pub(crate) fn encode_raw_object(object_type: u32, payload: &[u8], ts: u64, out: &mut Vec<u8>) {
    push_object(out, object_type, payload.len(), ts).copy_from_slice(payload);
}
