//! ISO-TP parameters: python-can-isotp's `Params`, with times in nanoseconds.

use super::address::TargetAddressType;
use crate::dlc::FD_LENGTHS;
use crate::error::{CanwireError, Result};

/// The TX_DL values ISO 15765-2 allows.
pub const TX_DATA_LENGTHS: [u8; 8] = [8, 12, 16, 20, 24, 32, 48, 64];

/// Padding byte used when a frame must be padded and `tx_padding` is unset.
pub const DEFAULT_PADDING: u8 = 0xCC;

const MS: u64 = 1_000_000;

/// Every parameter of the endpoint. Defaults are python-can-isotp's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoTpParams {
    /// STmin put in our flow control frames: 0..=0x7F ms, or 0xF1..=0xF9 for 100..900 µs.
    pub stmin: u8,
    /// Block size put in our flow control frames; 0 means no further FC after the first.
    pub blocksize: u8,
    /// TX_DL: 8 for classic CAN, or 12, 16, 20, 24, 32, 48, 64 (needs `can_fd`).
    pub tx_data_length: u8,
    /// Minimum length of every transmitted frame (1..=8 or an FD length, at most
    /// `tx_data_length`); short frames are padded with `tx_padding` or 0xCC.
    pub tx_data_min_length: Option<u8>,
    /// Use this separation time between consecutive frames instead of the receiver's STmin.
    pub override_receiver_stmin_ns: Option<u64>,
    /// N_Bs: how long the transmitter waits for a flow control frame.
    pub rx_flowcontrol_timeout_ns: u64,
    /// N_Cr: how long the receiver waits for the next consecutive frame.
    pub rx_consecutive_frame_timeout_ns: u64,
    /// Pad transmitted classic frames to 8 bytes (FD frames to their DLC length) with this byte.
    pub tx_padding: Option<u8>,
    /// How many WAIT flow control frames in a row are accepted; 0 means WAIT is unsupported.
    pub wftmax: u32,
    /// Largest payload accepted from a first frame; larger ones get an OVERFLOW FC.
    pub max_frame_size: u32,
    /// Transmit CAN FD frames.
    pub can_fd: bool,
    /// Set the bit rate switch flag on transmitted FD frames.
    pub bitrate_switch: bool,
    /// Target address type used when `send` is given none.
    pub default_target_address_type: TargetAddressType,
    /// Limit the transmitted data rate.
    pub rate_limit_enable: bool,
    /// Data bits per second allowed by the rate limiter (CAN data field bits only).
    pub rate_limit_max_bitrate: u64,
    /// Width of the rate limiter's sliding window.
    pub rate_limit_window_size_ns: u64,
    /// Receive without sending flow control frames (sniffing another receiver's transfer).
    pub listen_mode: bool,
    /// The driver resolves `send` only when the transfer completes; the machine
    /// itself always reports completion with [`IsoTpEvent::TransmitComplete`](super::IsoTpEvent).
    pub blocking_send: bool,
}

impl Default for IsoTpParams {
    fn default() -> Self {
        Self {
            stmin: 0,
            blocksize: 8,
            tx_data_length: 8,
            tx_data_min_length: None,
            override_receiver_stmin_ns: None,
            rx_flowcontrol_timeout_ns: 1000 * MS,
            rx_consecutive_frame_timeout_ns: 1000 * MS,
            tx_padding: None,
            wftmax: 0,
            max_frame_size: 4095,
            can_fd: false,
            bitrate_switch: false,
            default_target_address_type: TargetAddressType::Physical,
            rate_limit_enable: false,
            rate_limit_max_bitrate: 100_000_000,
            rate_limit_window_size_ns: 200 * MS,
            listen_mode: false,
            blocking_send: false,
        }
    }
}

fn invalid(message: String) -> CanwireError {
    CanwireError::invalid_argument(message)
}

impl IsoTpParams {
    /// Checks every parameter and its combinations with the others.
    pub fn validate(&self) -> Result<()> {
        if !(self.stmin <= 0x7F || (0xF1..=0xF9).contains(&self.stmin)) {
            return Err(invalid(format!(
                "stmin {:#04x} is reserved: allowed 0x00..=0x7F (milliseconds) or 0xF1..=0xF9 (100..900 µs)",
                self.stmin
            )));
        }
        if !TX_DATA_LENGTHS.contains(&self.tx_data_length) {
            return Err(invalid(format!(
                "tx_data_length {} is not allowed: use one of 8, 12, 16, 20, 24, 32, 48, 64",
                self.tx_data_length
            )));
        }
        if self.tx_data_length > 8 && !self.can_fd {
            return Err(invalid(format!(
                "tx_data_length {} needs CAN FD: set can_fd, or use tx_data_length 8",
                self.tx_data_length
            )));
        }
        if self.bitrate_switch && !self.can_fd {
            return Err(invalid(
                "bitrate_switch needs CAN FD: set can_fd too".into(),
            ));
        }
        if let Some(min) = self.tx_data_min_length {
            if min == 0 || !FD_LENGTHS.contains(&min) {
                return Err(invalid(format!(
                    "tx_data_min_length {min} is not allowed: use 1..=8, 12, 16, 20, 24, 32, 48 or 64"
                )));
            }
            if min > self.tx_data_length {
                return Err(invalid(format!(
                    "tx_data_min_length {min} exceeds tx_data_length {}: it must be at most tx_data_length",
                    self.tx_data_length
                )));
            }
        }
        if self.rx_flowcontrol_timeout_ns == 0 {
            return Err(invalid(
                "rx_flowcontrol_timeout must be greater than 0".into(),
            ));
        }
        if self.rx_consecutive_frame_timeout_ns == 0 {
            return Err(invalid(
                "rx_consecutive_frame_timeout must be greater than 0".into(),
            ));
        }
        if self.rate_limit_enable {
            if self.rate_limit_max_bitrate == 0 {
                return Err(invalid(
                    "rate_limit_max_bitrate must be greater than 0".into(),
                ));
            }
            if self.rate_limit_window_size_ns == 0 {
                return Err(invalid(
                    "rate_limit_window_size must be greater than 0".into(),
                ));
            }
            let budget = self.rate_limit_budget_bits();
            let frame_bits = self.tx_data_length as u64 * 8;
            if budget < frame_bits {
                return Err(invalid(format!(
                    "the rate limiter allows {budget} bits per window, less than one frame of \
                     tx_data_length {} ({frame_bits} bits): raise rate_limit_max_bitrate or rate_limit_window_size",
                    self.tx_data_length
                )));
            }
        }
        Ok(())
    }

    /// Data bits the rate limiter allows per window.
    pub fn rate_limit_budget_bits(&self) -> u64 {
        let bits = self.rate_limit_max_bitrate as u128 * self.rate_limit_window_size_ns as u128
            / 1_000_000_000;
        bits.min(u64::MAX as u128) as u64
    }
}

/// The separation time an STmin byte stands for, in nanoseconds.
/// Reserved values (0x80..=0xF0, 0xFA..=0xFF) mean 127 ms, as ISO 15765-2 requires.
pub const fn stmin_to_ns(raw: u8) -> u64 {
    match raw {
        0x00..=0x7F => raw as u64 * MS,
        0xF1..=0xF9 => (raw - 0xF0) as u64 * 100_000,
        _ => 0x7F * MS,
    }
}
