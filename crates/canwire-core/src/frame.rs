//! The CAN frame model shared by every layer, and its validation.
//!
//! Fields follow python-can's `Message`. `len` is the number of data bytes
//! held in `data`; `dlc` is the raw 4-bit DLC code as it goes on the wire, so
//! a classic frame with DLC 13 and 8 bytes keeps its 13. A remote frame holds
//! no data: its requested length is its DLC code.

use crate::dlc::{CLASSIC_MAX_LEN, FD_MAX_LEN, classic_dlc_to_len, fd_len_to_dlc};
use crate::error::{CanwireError, ErrorCode, Result};

/// Largest standard (11-bit) identifier.
pub const STANDARD_ID_MAX: u32 = 0x7FF;
/// Largest extended (29-bit) identifier.
pub const EXTENDED_ID_MAX: u32 = 0x1FFF_FFFF;

/// Checks that `id` fits its format (11 bits standard, 29 extended); the
/// error, `ERR_ID_OUT_OF_RANGE`, calls the value `what` (`"id"`, `"txid"`).
/// The one id-range rule of canwire: frames, watches and ISO-TP addresses use it.
pub fn check_id(what: &str, id: u32, extended: bool) -> Result<()> {
    let max = if extended {
        EXTENDED_ID_MAX
    } else {
        STANDARD_ID_MAX
    };
    if id > max {
        let kind = if extended { "a 29-bit" } else { "an 11-bit" };
        return Err(CanwireError::new(
            ErrorCode::IdOutOfRange,
            format!("{what} {id:#x} does not fit {kind} identifier: allowed 0..={max:#x}"),
        ));
    }
    Ok(())
}

/// The error for an FD frame of `len` bytes, a length no DLC code encodes.
pub fn invalid_fd_length(len: usize) -> CanwireError {
    CanwireError::new(
        ErrorCode::InvalidFdLength,
        format!(
            "an FD frame cannot carry {len} bytes: allowed lengths are 0..8, 12, 16, 20, 24, 32, 48, 64"
        ),
    )
}

/// Frame flags, one bit each. The bit values are part of the packed record format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct FrameFlags(pub u32);

impl FrameFlags {
    /// 29-bit identifier.
    pub const EXTENDED: u32 = 1 << 0;
    /// Remote transmission request.
    pub const REMOTE: u32 = 1 << 1;
    /// Error frame; `id` holds the error class bits.
    pub const ERROR: u32 = 1 << 2;
    /// CAN FD frame.
    pub const FD: u32 = 1 << 3;
    /// FD bit rate switch.
    pub const BRS: u32 = 1 << 4;
    /// FD error state indicator.
    pub const ESI: u32 = 1 << 5;
    /// The frame was transmitted by this endpoint (python-can's `is_rx == false`).
    pub const TX: u32 = 1 << 6;
    /// The FD frame carried the explicit FD-format mark (SocketCAN's
    /// `CANFD_FDF`, set by Linux 6.2+ on every received FD frame and printed
    /// by candump as the 4 in `##5`). Kept so text output matches candump's;
    /// it changes nothing on the wire. Only on FD frames.
    pub const FDF: u32 = 1 << 7;
    /// Every defined bit.
    pub const ALL: u32 = (1 << 8) - 1;

    /// True if every bit of `bit` is set.
    pub const fn has(self, bit: u32) -> bool {
        self.0 & bit == bit
    }

    /// Sets or clears `bit`.
    pub fn set(&mut self, bit: u32, on: bool) {
        if on {
            self.0 |= bit;
        } else {
            self.0 &= !bit;
        }
    }
}

/// One CAN or CAN FD frame with its receive context.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// Identifier (or error class bits for error frames), without flag bits.
    pub id: u32,
    /// Flag bits, see [`FrameFlags`].
    pub flags: FrameFlags,
    /// Number of valid bytes in `data`.
    pub len: u8,
    /// Raw DLC code, 0..15.
    pub dlc: u8,
    /// Index of the channel the frame belongs to; its meaning is the transport's.
    pub channel: u32,
    /// Payload; bytes past `len` are zero.
    pub data: [u8; 64],
}

impl Default for Frame {
    fn default() -> Self {
        Self {
            timestamp_ns: 0,
            id: 0,
            flags: FrameFlags::default(),
            len: 0,
            dlc: 0,
            channel: 0,
            data: [0; 64],
        }
    }
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("timestamp_ns", &self.timestamp_ns)
            .field("id", &format_args!("{:#x}", self.id))
            .field("flags", &format_args!("{:#x}", self.flags.0))
            .field("len", &self.len)
            .field("dlc", &self.dlc)
            .field("channel", &self.channel)
            .field("data", &self.data())
            .finish()
    }
}

impl Frame {
    /// A classic data frame with the DLC that matches `data`. Does not validate.
    pub fn classic(id: u32, extended: bool, data: &[u8]) -> Self {
        let mut frame = Self::with_data(id, data);
        frame.flags.set(FrameFlags::EXTENDED, extended);
        frame.dlc = frame.len;
        frame
    }

    /// An FD data frame with the DLC that matches `data`. Does not validate.
    pub fn fd(id: u32, extended: bool, data: &[u8], brs: bool) -> Self {
        let mut frame = Self::with_data(id, data);
        frame.flags.set(FrameFlags::EXTENDED, extended);
        frame.flags.set(FrameFlags::FD, true);
        frame.flags.set(FrameFlags::BRS, brs);
        frame.dlc = fd_len_to_dlc(frame.len).unwrap_or(frame.len);
        frame
    }

    /// A remote frame requesting `dlc` bytes. Does not validate.
    pub fn remote(id: u32, extended: bool, dlc: u8) -> Self {
        let mut frame = Self {
            id,
            dlc,
            ..Self::default()
        };
        frame.flags.set(FrameFlags::EXTENDED, extended);
        frame.flags.set(FrameFlags::REMOTE, true);
        frame
    }

    fn with_data(id: u32, data: &[u8]) -> Self {
        let mut frame = Self {
            id,
            ..Self::default()
        };
        let n = data.len().min(64);
        frame.data[..n].copy_from_slice(&data[..n]);
        frame.len = data.len().min(255) as u8;
        frame
    }

    /// The valid data bytes.
    pub fn data(&self) -> &[u8] {
        &self.data[..(self.len as usize).min(64)]
    }

    /// 29-bit identifier.
    pub const fn is_extended(&self) -> bool {
        self.flags.has(FrameFlags::EXTENDED)
    }
    /// Remote transmission request.
    pub const fn is_remote(&self) -> bool {
        self.flags.has(FrameFlags::REMOTE)
    }
    /// Error frame.
    pub const fn is_error(&self) -> bool {
        self.flags.has(FrameFlags::ERROR)
    }
    /// CAN FD frame.
    pub const fn is_fd(&self) -> bool {
        self.flags.has(FrameFlags::FD)
    }

    /// The length a remote frame requests, or the data length otherwise.
    pub fn requested_len(&self) -> u8 {
        if self.is_remote() {
            classic_dlc_to_len(self.dlc).unwrap_or(CLASSIC_MAX_LEN)
        } else {
            self.len
        }
    }

    /// Checks the frame as python-can's `Message(check=True)` does, with a
    /// distinct code per rule. Error frames may use any 29-bit class value.
    pub fn validate(&self) -> Result<()> {
        let flags = self.flags;
        if flags.0 & !FrameFlags::ALL != 0 {
            return Err(CanwireError::invalid_argument(format!(
                "unknown flag bits {:#x}; defined bits are {:#x}",
                flags.0 & !FrameFlags::ALL,
                FrameFlags::ALL
            )));
        }
        let wide = self.is_extended() || self.is_error();
        check_id("id", self.id, wide).map_err(|mut e| {
            if !wide && self.id <= EXTENDED_ID_MAX {
                e.message.push_str("; set extended: true for a 29-bit id");
            }
            e
        })?;
        if self.is_remote() && (self.is_error() || self.is_fd()) {
            return Err(CanwireError::new(
                ErrorCode::RemoteConflict,
                "a remote frame cannot also be an error frame or an FD frame",
            ));
        }
        if !self.is_fd()
            && (flags.has(FrameFlags::BRS)
                || flags.has(FrameFlags::ESI)
                || flags.has(FrameFlags::FDF))
        {
            return Err(CanwireError::new(
                ErrorCode::FlagsRequireFd,
                "bitrateSwitch, errorStateIndicator and the FDF mark are only allowed on FD frames (fd: true)",
            ));
        }
        if self.dlc > 15 {
            return Err(CanwireError::new(
                ErrorCode::InvalidDlc,
                format!("DLC code {} is out of range: allowed 0..=15", self.dlc),
            ));
        }
        if self.is_remote() {
            if self.len != 0 {
                return Err(CanwireError::new(
                    ErrorCode::DlcMismatch,
                    format!("a remote frame carries no data, got {} bytes", self.len),
                ));
            }
            return Ok(());
        }
        if self.is_fd() {
            if self.len > FD_MAX_LEN {
                return Err(CanwireError::new(
                    ErrorCode::DataTooLong,
                    format!("an FD frame carries at most 64 bytes, got {}", self.len),
                ));
            }
            let Some(code) = fd_len_to_dlc(self.len) else {
                return Err(invalid_fd_length(self.len.into()));
            };
            if code != self.dlc {
                return Err(dlc_mismatch(self.dlc, self.len, &format!("{code}")));
            }
        } else {
            if self.len > CLASSIC_MAX_LEN {
                return Err(CanwireError::new(
                    ErrorCode::DataTooLong,
                    format!(
                        "a classic frame carries at most 8 bytes, got {}; set fd: true for up to 64",
                        self.len
                    ),
                ));
            }
            let ok = if self.len == CLASSIC_MAX_LEN {
                self.dlc >= 8
            } else {
                self.dlc == self.len
            };
            if !ok {
                let allowed = if self.len == 8 {
                    "8..=15".to_string()
                } else {
                    self.len.to_string()
                };
                return Err(dlc_mismatch(self.dlc, self.len, &allowed));
            }
        }
        Ok(())
    }
}

fn dlc_mismatch(dlc: u8, len: u8, allowed: &str) -> CanwireError {
    CanwireError::new(
        ErrorCode::DlcMismatch,
        format!("DLC {dlc} does not match {len} data bytes: allowed DLC {allowed}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(frame: Frame) -> Option<ErrorCode> {
        frame.validate().err().map(|e| e.code)
    }

    #[test]
    fn id_ranges_by_format() {
        assert_eq!(code(Frame::classic(0x7FF, false, &[])), None);
        assert_eq!(
            code(Frame::classic(0x800, false, &[])),
            Some(ErrorCode::IdOutOfRange)
        );
        assert_eq!(code(Frame::classic(0x1FFF_FFFF, true, &[])), None);
        assert_eq!(
            code(Frame::classic(0x2000_0000, true, &[])),
            Some(ErrorCode::IdOutOfRange)
        );
    }

    #[test]
    fn remote_conflicts_with_error_and_fd() {
        let mut f = Frame::remote(1, false, 2);
        assert_eq!(code(f), None);
        f.flags.set(FrameFlags::FD, true);
        assert_eq!(code(f), Some(ErrorCode::RemoteConflict));
        let mut f = Frame::remote(1, false, 2);
        f.flags.set(FrameFlags::ERROR, true);
        assert_eq!(code(f), Some(ErrorCode::RemoteConflict));
    }

    #[test]
    fn brs_esi_and_fdf_need_fd() {
        for bit in [FrameFlags::BRS, FrameFlags::ESI, FrameFlags::FDF] {
            let mut f = Frame::classic(1, false, &[1]);
            f.flags.set(bit, true);
            assert_eq!(code(f), Some(ErrorCode::FlagsRequireFd));
            let mut f = Frame::fd(1, false, &[1], false);
            f.flags.set(bit, true);
            assert_eq!(code(f), None);
        }
    }

    #[test]
    fn lengths_by_protocol() {
        assert_eq!(
            code(Frame::classic(1, false, &[0; 9])),
            Some(ErrorCode::DataTooLong)
        );
        assert_eq!(code(Frame::fd(1, false, &[0; 64], true)), None);
        assert_eq!(
            code(Frame::fd(1, false, &[0; 9], false)),
            Some(ErrorCode::InvalidFdLength)
        );
        let mut f = Frame::fd(1, false, &[0; 64], false);
        f.len = 65;
        assert_eq!(code(f), Some(ErrorCode::DataTooLong));
    }

    #[test]
    fn dlc_must_agree_with_data() {
        let mut f = Frame::classic(1, false, &[1, 2]);
        f.dlc = 3;
        assert_eq!(code(f), Some(ErrorCode::DlcMismatch));
        let mut f = Frame::classic(1, false, &[0; 8]);
        f.dlc = 13;
        assert_eq!(code(f), None, "classic DLC 9..15 with 8 bytes is legal");
        let mut f = Frame::fd(1, false, &[0; 12], false);
        f.dlc = 10;
        assert_eq!(code(f), Some(ErrorCode::DlcMismatch));
        let mut f = Frame::classic(1, false, &[0; 8]);
        f.dlc = 16;
        assert_eq!(code(f), Some(ErrorCode::InvalidDlc));
    }

    #[test]
    fn error_frames_take_29_bit_class_values() {
        let mut f = Frame::classic(0x1000, false, &[0; 8]);
        f.flags.set(FrameFlags::ERROR, true);
        assert_eq!(code(f), None);
    }

    #[test]
    fn remote_frames_carry_no_data() {
        let mut f = Frame::remote(1, false, 8);
        assert_eq!(f.requested_len(), 8);
        f.len = 1;
        assert_eq!(code(f), Some(ErrorCode::DlcMismatch));
    }

    #[test]
    fn one_id_rule_for_frames_watches_and_addresses() {
        let e = check_id("txid", 0x800, false).unwrap_err();
        assert_eq!(e.code, ErrorCode::IdOutOfRange);
        assert_eq!(
            e.message,
            "txid 0x800 does not fit an 11-bit identifier: allowed 0..=0x7ff"
        );
        assert!(check_id("id", 0x1FFF_FFFF, true).is_ok());
        let e = Frame::classic(0x800, false, &[]).validate().unwrap_err();
        assert_eq!(
            e.message,
            "id 0x800 does not fit an 11-bit identifier: allowed 0..=0x7ff; set extended: true for a 29-bit id"
        );
    }
}
