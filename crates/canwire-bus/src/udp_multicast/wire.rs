//! One datagram: python-can's msgpack map of the message fields
//! (`can.interfaces.udp_multicast.utils.pack_message`), in its key order,
//! data as msgpack `bin`, without `is_rx`. Pure: no socket here.

use canwire_core::error::Result;
use canwire_core::logfile::time::{format_seconds, parse_decimal_ns};
use canwire_core::{CanwireError, ErrorCode, Frame, FrameFlags};
use serde::{Deserialize, Serialize};

/// The map python-can packs, in its key order.
#[derive(Debug, Serialize)]
struct OutMessage<'a> {
    timestamp: f64,
    arbitration_id: u32,
    is_extended_id: bool,
    is_remote_frame: bool,
    is_error_frame: bool,
    /// python-can sends the message's channel, usually nil; so does canwire.
    channel: Option<()>,
    dlc: u8,
    #[serde(with = "serde_bytes")]
    data: &'a [u8],
    is_fd: bool,
    bitrate_switch: bool,
    error_state_indicator: bool,
}

/// The map as received: every key optional (python-can's `Message` has
/// defaults for all), other keys refused as python-can's `Message(**map)`
/// refuses them; `channel` and `is_rx` taken and ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InMessage {
    #[serde(default)]
    timestamp: f64,
    #[serde(default)]
    arbitration_id: u32,
    #[serde(default = "yes")]
    is_extended_id: bool,
    #[serde(default)]
    is_remote_frame: bool,
    #[serde(default)]
    is_error_frame: bool,
    #[serde(default, rename = "channel")]
    _channel: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "is_rx")]
    _is_rx: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    dlc: Option<u8>,
    #[serde(default, with = "serde_bytes")]
    data: Vec<u8>,
    #[serde(default)]
    is_fd: bool,
    #[serde(default)]
    bitrate_switch: bool,
    #[serde(default)]
    error_state_indicator: bool,
}

const fn yes() -> bool {
    true
}

/// The datagram python-can would send for `frame`. The timestamp is the
/// frame's, in seconds; `dlc` is the data length (python-can's `Message.dlc`),
/// so a classic frame's DLC code 9..15 goes as 8.
pub fn encode(frame: &Frame) -> Vec<u8> {
    let timestamp = format_seconds(frame.timestamp_ns, 9)
        .parse::<f64>()
        .unwrap_or(0.0);
    let message = OutMessage {
        timestamp,
        arbitration_id: frame.id,
        is_extended_id: frame.is_extended(),
        is_remote_frame: frame.is_remote(),
        is_error_frame: frame.is_error(),
        channel: None,
        dlc: frame.requested_len(),
        data: frame.data(),
        is_fd: frame.is_fd(),
        bitrate_switch: frame.flags.has(FrameFlags::BRS),
        error_state_indicator: frame.flags.has(FrameFlags::ESI),
    };
    // A struct of plain fields always serializes.
    rmp_serde::to_vec_named(&message).unwrap_or_default()
}

/// The frame a datagram carries, checked as python-can's `Message(check=True)`
/// checks it; the error says what is wrong. The sender's timestamp is kept
/// (the transport replaces it with the receive time, as python-can does).
pub fn decode(datagram: &[u8]) -> Result<Frame> {
    let m: InMessage = rmp_serde::from_slice(datagram).map_err(|e| {
        CanwireError::new(
            ErrorCode::CorruptFile,
            format!("a datagram that is no python-can message map: {e}"),
        )
    })?;
    if m.data.len() > 64 {
        return Err(CanwireError::new(
            ErrorCode::DataTooLong,
            format!("{} data bytes: at most 64 allowed", m.data.len()),
        ));
    }
    let mut f = if m.is_remote_frame {
        Frame::remote(m.arbitration_id, m.is_extended_id, m.dlc.unwrap_or(0))
    } else if m.is_fd {
        Frame::fd(
            m.arbitration_id,
            m.is_extended_id,
            &m.data,
            m.bitrate_switch,
        )
    } else {
        Frame::classic(m.arbitration_id, m.is_extended_id, &m.data)
    };
    if !m.is_remote_frame && m.dlc.is_some_and(|dlc| usize::from(dlc) != m.data.len()) {
        return Err(CanwireError::new(
            ErrorCode::DlcMismatch,
            format!(
                "dlc {} with {} data bytes: they must agree",
                m.dlc.unwrap_or(0),
                m.data.len()
            ),
        ));
    }
    f.flags.set(FrameFlags::ERROR, m.is_error_frame);
    f.flags.set(FrameFlags::ESI, m.error_state_indicator);
    if !m.is_fd && m.bitrate_switch {
        f.flags.set(FrameFlags::BRS, true);
    }
    if m.timestamp.is_finite() && m.timestamp >= 0.0 {
        f.timestamp_ns = parse_decimal_ns(&format!("{}", m.timestamp))
            .and_then(|ns| u64::try_from(ns).ok())
            .unwrap_or(0);
    }
    f.validate()?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// python-can 4.6.1's `pack_message(Message(timestamp=1.5,
    /// arbitration_id=0x123, data=[1, 2], is_extended_id=False))`, as it
    /// printed it.
    const PYTHON_CAN_BYTES: &str = "8ba974696d657374616d70cb3ff8000000000000ae6172626974726174696f6e5f6964cd0123ae69735f657874656e6465645f6964c2af69735f72656d6f74655f6672616d65c2ae69735f6572726f725f6672616d65c2a76368616e6e656cc0a3646c6302a464617461c4020102a569735f6664c2ae626974726174655f737769746368c2b56572726f725f73746174655f696e64696361746f72c2";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn encodes_byte_for_byte_as_python_can() {
        let mut f = Frame::classic(0x123, false, &[1, 2]);
        f.timestamp_ns = 1_500_000_000;
        assert_eq!(hex(&encode(&f)), PYTHON_CAN_BYTES);
        assert_eq!(decode(&unhex(PYTHON_CAN_BYTES)).unwrap(), f);
    }

    #[test]
    fn fd_remote_error_and_flags_round_trip() {
        let mut fd = Frame::fd(0x18DA_F110, true, &[0x5A; 48], true);
        fd.flags.set(FrameFlags::ESI, true);
        let rtr = Frame::remote(0x7FF, false, 6);
        let mut err = Frame::classic(0x4, true, &[0, 4, 0, 0, 0, 0, 0, 0]);
        err.flags.set(FrameFlags::ERROR, true);
        for f in [fd, rtr, err] {
            assert_eq!(decode(&encode(&f)).unwrap(), f);
        }
    }

    #[test]
    fn bad_datagrams_say_what_is_wrong() {
        let e = decode(b"\x93\x01\x02\x03").unwrap_err();
        assert_eq!(e.code, ErrorCode::CorruptFile);
        let mut big = encode(&Frame::classic(0x800, false, &[]));
        assert_eq!(decode(&big).unwrap_err().code, ErrorCode::IdOutOfRange);
        big.truncate(big.len() - 3);
        assert_eq!(decode(&big).unwrap_err().code, ErrorCode::CorruptFile);
        // {"dlc": 3, "data": b"\x01"}
        let mismatch = unhex("82a3646c6303a464617461c40101");
        assert_eq!(decode(&mismatch).unwrap_err().code, ErrorCode::DlcMismatch);
        // {"is_rx": true} is taken (python-can's Message has the argument); {"foo": true} is not
        assert_eq!(decode(&unhex("81a569735f7278c3")).unwrap().id, 0);
        let unknown = unhex("81a3666f6fc3");
        assert_eq!(decode(&unknown).unwrap_err().code, ErrorCode::CorruptFile);
    }
}
