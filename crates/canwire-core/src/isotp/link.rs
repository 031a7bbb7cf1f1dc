//! Link-layer framing of transmitted N_PDUs: the address byte, padding
//! (`tx_padding`, `tx_data_min_length`, CAN FD length rounding), id and flags.
//!
//! Length rules, applied in order to the address byte + PCI + data:
//! 1. classic CAN (TX_DL 8): padded to 8 when `tx_padding` is set, otherwise left
//!    as short as possible (ISO 15765-2 DLC optimisation);
//! 2. CAN FD (TX_DL > 8): up to 8 bytes as in 1; above 8, rounded up to the next
//!    FD length (12, 16, 20, 24, 32, 48, 64);
//! 3. then raised to `tx_data_min_length` (and rounded up to an FD length again).
//!
//! Padding bytes are `tx_padding`, or 0xCC when it is unset.

use super::address::{LinkAddress, TargetAddressType};
use super::params::{DEFAULT_PADDING, IsoTpParams};
use crate::dlc::{fd_len_to_dlc, fd_padded_len};
use crate::frame::{Frame, FrameFlags};

/// The length a frame of `raw_len` bytes goes out with.
pub fn padded_len(params: &IsoTpParams, raw_len: usize) -> usize {
    let mut len = raw_len;
    if params.tx_padding.is_some() && len <= 8 {
        len = 8;
    }
    if let Some(min) = params.tx_data_min_length {
        len = len.max(min as usize);
    }
    if len > 8 {
        len = fd_padded_len(len.min(64) as u8).unwrap_or(64) as usize;
    }
    len
}

/// True if a frame whose unpadded length is `raw_len` goes out longer than 8 bytes.
pub fn goes_out_long(params: &IsoTpParams, raw_len: usize) -> bool {
    padded_len(params, raw_len) > 8
}

/// Builds the CAN frame carrying `body` (PCI and data, without the address byte).
/// `timestamp_ns` and `channel` stay 0: the driver fills them in.
pub fn build_frame(
    params: &IsoTpParams,
    link: &LinkAddress,
    target: TargetAddressType,
    body: &[u8],
) -> Frame {
    let mut frame = Frame {
        id: link.id(target),
        ..Frame::default()
    };
    let mut n = 0;
    if let Some(prefix) = link.prefix {
        frame.data[0] = prefix;
        n = 1;
    }
    let take = body.len().min(64 - n);
    frame.data[n..n + take].copy_from_slice(&body[..take]);
    n += take;
    let len = padded_len(params, n).max(n);
    let pad = params.tx_padding.unwrap_or(DEFAULT_PADDING);
    frame.data[n..len].fill(pad);
    frame.len = len as u8;
    frame.flags.set(FrameFlags::EXTENDED, link.extended);
    if params.can_fd {
        frame.flags.set(FrameFlags::FD, true);
        frame.flags.set(FrameFlags::BRS, params.bitrate_switch);
        frame.dlc = fd_len_to_dlc(frame.len).unwrap_or(15);
    } else {
        frame.dlc = frame.len;
    }
    frame
}
