//! Protocol control information: decoding the four N_PDU types from frame
//! bytes and encoding their headers (ISO 15765-2 byte layouts).
//!
//! | type | byte 0 | following bytes |
//! |---|---|---|
//! | SF (CAN_DL ≤ 8) | `0x0L`, L = SF_DL 1..7 | data |
//! | SF (CAN_DL > 8) | `0x00` | SF_DL, data |
//! | FF (FF_DL ≤ 4095) | `0x1H` | low byte of FF_DL, data |
//! | FF (escape) | `0x10` | `0x00`, FF_DL as u32 big endian, data |
//! | CF | `0x2N`, N = sequence number | data |
//! | FC | `0x3S`, S = 0 CTS, 1 WAIT, 2 OVERFLOW | BS, STmin |

use super::event::{IsoTpError, IsoTpErrorCode};

/// Flow status of a flow control frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowStatus {
    /// Continue to send.
    ContinueToSend = 0,
    /// Wait for another flow control frame.
    Wait = 1,
    /// The receiver cannot take the announced payload.
    Overflow = 2,
}

/// One decoded N_PDU; `data` borrows from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pdu<'a> {
    /// Single frame with its whole payload.
    Single {
        /// The payload, exactly SF_DL bytes.
        data: &'a [u8],
    },
    /// First frame of a segmented payload.
    First {
        /// FF_DL, the whole payload length.
        total_len: u32,
        /// The payload bytes this frame carries.
        data: &'a [u8],
    },
    /// Consecutive frame.
    Consecutive {
        /// Sequence number 0..15.
        seq: u8,
        /// Every byte after the PCI; the last frame's tail may be padding.
        data: &'a [u8],
    },
    /// Flow control frame.
    FlowControl {
        /// Flow status.
        status: FlowStatus,
        /// Block size.
        blocksize: u8,
        /// Raw STmin byte.
        stmin: u8,
    },
}

fn invalid(code: IsoTpErrorCode, message: String) -> IsoTpError {
    IsoTpError::new(code, message)
}

/// Decodes the bytes after the address byte. `can_dl` is the whole CAN frame
/// length (it decides the SF format and the RX_DL), `prefix_len` the number of
/// address bytes before `body`.
pub fn decode(body: &[u8], can_dl: usize, prefix_len: usize) -> Result<Pdu<'_>, IsoTpError> {
    use IsoTpErrorCode::*;
    let Some(&b0) = body.first() else {
        return Err(invalid(InvalidFrame, "frame holds no PCI byte".into()));
    };
    match b0 >> 4 {
        0 if can_dl <= 8 => {
            let len = (b0 & 0x0F) as usize;
            if len == 0 {
                return Err(invalid(
                    InvalidFrame,
                    format!(
                        "single frame with SF_DL 0 in a {can_dl}-byte frame: the escape is only allowed when CAN_DL > 8"
                    ),
                ));
            }
            if len > body.len() - 1 {
                return Err(invalid(
                    InvalidFrame,
                    format!(
                        "single frame announces {len} bytes but a {can_dl}-byte frame holds {}",
                        body.len() - 1
                    ),
                ));
            }
            Ok(Pdu::Single {
                data: &body[1..1 + len],
            })
        }
        0 => {
            if b0 != 0 {
                return Err(invalid(
                    MissingEscapeSequence,
                    format!(
                        "single frame in a {can_dl}-byte frame must start with 0x00 and put SF_DL in the next byte, got {b0:#04x}"
                    ),
                ));
            }
            let len = body.get(1).copied().unwrap_or(0) as usize;
            let room = body.len().saturating_sub(2);
            if len == 0 || len > room {
                return Err(invalid(
                    InvalidFrame,
                    format!(
                        "single frame announces SF_DL {len}; a {can_dl}-byte frame holds 1..={room}"
                    ),
                ));
            }
            Ok(Pdu::Single {
                data: &body[2..2 + len],
            })
        }
        1 => {
            if can_dl < 8 {
                return Err(invalid(
                    InvalidRxDl,
                    format!("first frame in a {can_dl}-byte frame: RX_DL must be at least 8"),
                ));
            }
            let low = body.get(1).copied().unwrap_or(0) as u32;
            let short = ((b0 as u32 & 0x0F) << 8) | low;
            if short != 0 {
                return Ok(Pdu::First {
                    total_len: short,
                    data: body.get(2..).unwrap_or(&[]),
                });
            }
            if body.len() < 6 {
                return Err(invalid(
                    InvalidFrame,
                    "first frame with FF_DL escape is too short for its 32-bit length".into(),
                ));
            }
            let total_len = u32::from_be_bytes([body[2], body[3], body[4], body[5]]);
            Ok(Pdu::First {
                total_len,
                data: &body[6..],
            })
        }
        2 => Ok(Pdu::Consecutive {
            seq: b0 & 0x0F,
            data: &body[1..],
        }),
        3 => {
            if body.len() < 3 {
                return Err(invalid(
                    InvalidFrame,
                    format!(
                        "flow control frame needs 3 bytes after the address byte, got {}",
                        body.len()
                    ),
                ));
            }
            let status = match b0 & 0x0F {
                0 => FlowStatus::ContinueToSend,
                1 => FlowStatus::Wait,
                2 => FlowStatus::Overflow,
                other => {
                    return Err(invalid(
                        InvalidFc,
                        format!("flow control frame with reserved flow status {other}"),
                    ));
                }
            };
            Ok(Pdu::FlowControl {
                status,
                blocksize: body[1],
                stmin: body[2],
            })
        }
        other => Err(invalid(
            InvalidFrame,
            format!(
                "reserved PCI type {other} (byte {b0:#04x}) after {prefix_len} address byte(s)"
            ),
        )),
    }
}

/// The smallest FF_DL a first frame may announce for this RX_DL: anything
/// shorter fits a single frame (ISO 15765-2 FF_DLmin).
pub const fn ff_dl_min(rx_dl: usize, prefix_len: usize) -> usize {
    if rx_dl <= 8 {
        8 - prefix_len
    } else {
        rx_dl - 1 - prefix_len
    }
}

/// Payload bytes a classic-format single frame can hold.
pub const fn short_sf_capacity(prefix_len: usize) -> usize {
    7 - prefix_len
}

/// Appends a single frame header; `escape` uses the CAN FD SF_DL byte.
pub fn push_sf_header(out: &mut Vec<u8>, len: usize, escape: bool) {
    if escape {
        out.extend_from_slice(&[0x00, len as u8]);
    } else {
        out.push(len as u8 & 0x0F);
    }
}

/// Appends a first frame header, with the 32-bit escape above 4095 bytes.
pub fn push_ff_header(out: &mut Vec<u8>, total_len: u32) {
    if total_len <= 0xFFF {
        out.extend_from_slice(&[0x10 | (total_len >> 8) as u8, total_len as u8]);
    } else {
        out.extend_from_slice(&[0x10, 0x00]);
        out.extend_from_slice(&total_len.to_be_bytes());
    }
}

/// Length of the first frame header for `total_len`.
pub const fn ff_header_len(total_len: u32) -> usize {
    if total_len <= 0xFFF { 2 } else { 6 }
}

/// The three bytes of a flow control frame.
pub const fn fc_bytes(status: FlowStatus, blocksize: u8, stmin: u8) -> [u8; 3] {
    [0x30 | status as u8, blocksize, stmin]
}
