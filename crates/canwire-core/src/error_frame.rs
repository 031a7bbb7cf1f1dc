//! Decoding SocketCAN error frames (`linux/can/error.h`) into structured fields.
//!
//! An error frame carries class bits in its identifier and details in its
//! 8 data bytes: byte 0 the bit where arbitration was lost, byte 1 the
//! controller problems, bytes 2 and 3 the protocol violation type and
//! location, byte 4 the transceiver status, bytes 6 and 7 the TX and RX
//! error counters (valid when the `CNT` class bit is set).

use crate::frame::Frame;

/// Error class bits in the identifier of an error frame.
pub mod class {
    /// TX timeout (by netdevice driver).
    pub const TX_TIMEOUT: u32 = 0x001;
    /// Lost arbitration; data byte 0 holds the bit.
    pub const LOST_ARBITRATION: u32 = 0x002;
    /// Controller problems; data byte 1.
    pub const CONTROLLER: u32 = 0x004;
    /// Protocol violation; data bytes 2 and 3.
    pub const PROTOCOL: u32 = 0x008;
    /// Transceiver status; data byte 4.
    pub const TRANSCEIVER: u32 = 0x010;
    /// No ACK received on transmission.
    pub const NO_ACK: u32 = 0x020;
    /// Bus off.
    pub const BUS_OFF: u32 = 0x040;
    /// Bus error (may flood).
    pub const BUS_ERROR: u32 = 0x080;
    /// The controller restarted.
    pub const RESTARTED: u32 = 0x100;
    /// TX and RX error counters are in data bytes 6 and 7.
    pub const COUNTERS: u32 = 0x200;
    /// Every class bit: the default error mask.
    pub const ALL: u32 = 0x1FFF_FFFF;
}

/// Controller problem bits (data byte 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControllerProblems {
    /// RX buffer overflow.
    pub rx_overflow: bool,
    /// TX buffer overflow.
    pub tx_overflow: bool,
    /// RX error counter reached the warning level (>= 96).
    pub rx_warning: bool,
    /// TX error counter reached the warning level (>= 96).
    pub tx_warning: bool,
    /// RX error counter reached the error-passive level (>= 128).
    pub rx_passive: bool,
    /// TX error counter reached the error-passive level (>= 128).
    pub tx_passive: bool,
    /// Back to error active.
    pub active: bool,
}

impl ControllerProblems {
    fn from_byte(b: u8) -> Self {
        Self {
            rx_overflow: b & 0x01 != 0,
            tx_overflow: b & 0x02 != 0,
            rx_warning: b & 0x04 != 0,
            tx_warning: b & 0x08 != 0,
            rx_passive: b & 0x10 != 0,
            tx_passive: b & 0x20 != 0,
            active: b & 0x40 != 0,
        }
    }
}

/// The error state a controller reports, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorState {
    /// Error active: normal operation.
    Active,
    /// An error counter at or above the warning level.
    Warning,
    /// Error passive.
    Passive,
    /// Bus off.
    BusOff,
}

/// Names of the protocol violation type bits (data byte 2), in bit order.
const PROTOCOL_TYPES: [(u8, &str); 8] = [
    (0x01, "bit"),
    (0x02, "form"),
    (0x04, "stuff"),
    (0x08, "bit0"),
    (0x10, "bit1"),
    (0x20, "overload"),
    (0x40, "active"),
    (0x80, "tx"),
];

/// The frame part where a protocol violation happened (data byte 3).
pub fn protocol_location(code: u8) -> &'static str {
    match code {
        0x00 => "unspecified",
        0x02 => "id28-21",
        0x03 => "sof",
        0x04 => "srtr",
        0x05 => "ide",
        0x06 => "id20-18",
        0x07 => "id17-13",
        0x08 => "crc-sequence",
        0x09 => "res0",
        0x0A => "data",
        0x0B => "dlc",
        0x0C => "rtr",
        0x0D => "res1",
        0x0E => "id04-00",
        0x0F => "id12-05",
        0x12 => "intermission",
        0x18 => "crc-delimiter",
        0x19 => "ack-slot",
        0x1A => "eof",
        0x1B => "ack-delimiter",
        _ => "unknown",
    }
}

/// The transceiver status (data byte 4).
pub fn transceiver_status(code: u8) -> &'static str {
    match code {
        0x00 => "unspecified",
        0x04 => "canh-no-wire",
        0x05 => "canh-short-to-bat",
        0x06 => "canh-short-to-vcc",
        0x07 => "canh-short-to-gnd",
        0x40 => "canl-no-wire",
        0x50 => "canl-short-to-bat",
        0x60 => "canl-short-to-vcc",
        0x70 => "canl-short-to-gnd",
        0x80 => "canl-short-to-canh",
        _ => "unknown",
    }
}

/// A protocol violation (class bit `PROTOCOL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolViolation {
    /// Violation kinds from data byte 2 ("bit", "form", "stuff", "bit0",
    /// "bit1", "overload", "active", "tx"); empty when unspecified.
    pub kinds: Vec<&'static str>,
    /// Where in the frame it happened (data byte 3), e.g. "ack-slot".
    pub location: &'static str,
}

/// Everything an error frame says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorFrameInfo {
    /// The raw class bits.
    pub class: u32,
    /// TX timeout.
    pub tx_timeout: bool,
    /// The bit position where arbitration was lost (0 = unspecified), if reported.
    pub lost_arbitration_bit: Option<u8>,
    /// Controller problems, if reported.
    pub controller: Option<ControllerProblems>,
    /// Protocol violation, if reported.
    pub protocol: Option<ProtocolViolation>,
    /// Transceiver status, if reported.
    pub transceiver: Option<&'static str>,
    /// No ACK on transmission.
    pub no_ack: bool,
    /// Bus off.
    pub bus_off: bool,
    /// Bus error.
    pub bus_error: bool,
    /// The controller restarted.
    pub restarted: bool,
    /// TX error counter, if reported.
    pub tx_error_count: Option<u8>,
    /// RX error counter, if reported.
    pub rx_error_count: Option<u8>,
}

impl ErrorFrameInfo {
    /// Decodes the class bits and the data bytes of an error frame (missing bytes read as 0).
    pub fn decode(class_bits: u32, data: &[u8]) -> Self {
        let byte = |i: usize| data.get(i).copied().unwrap_or(0);
        let has = |bit: u32| class_bits & bit != 0;
        Self {
            class: class_bits,
            tx_timeout: has(class::TX_TIMEOUT),
            lost_arbitration_bit: has(class::LOST_ARBITRATION).then(|| byte(0)),
            controller: has(class::CONTROLLER).then(|| ControllerProblems::from_byte(byte(1))),
            protocol: has(class::PROTOCOL).then(|| ProtocolViolation {
                kinds: PROTOCOL_TYPES
                    .iter()
                    .filter(|(bit, _)| byte(2) & bit != 0)
                    .map(|&(_, name)| name)
                    .collect(),
                location: protocol_location(byte(3)),
            }),
            transceiver: has(class::TRANSCEIVER).then(|| transceiver_status(byte(4))),
            no_ack: has(class::NO_ACK),
            bus_off: has(class::BUS_OFF),
            bus_error: has(class::BUS_ERROR),
            restarted: has(class::RESTARTED),
            tx_error_count: has(class::COUNTERS).then(|| byte(6)),
            rx_error_count: has(class::COUNTERS).then(|| byte(7)),
        }
    }

    /// Decodes an error frame; `None` if `frame` is not one.
    pub fn from_frame(frame: &Frame) -> Option<Self> {
        frame
            .is_error()
            .then(|| Self::decode(frame.id, frame.data()))
    }

    /// The controller state this frame reports, if it reports one: bus-off
    /// wins, then a restart (back to active), then the strongest controller level.
    pub fn state(&self) -> Option<ErrorState> {
        if self.bus_off {
            return Some(ErrorState::BusOff);
        }
        if self.restarted {
            return Some(ErrorState::Active);
        }
        let c = self.controller?;
        if c.rx_passive || c.tx_passive {
            Some(ErrorState::Passive)
        } else if c.rx_warning || c.tx_warning {
            Some(ErrorState::Warning)
        } else if c.active {
            Some(ErrorState::Active)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameFlags;

    fn error_frame(class_bits: u32, data: [u8; 8]) -> Frame {
        let mut f = Frame::classic(class_bits, false, &data);
        f.flags.set(FrameFlags::ERROR, true);
        f
    }

    #[test]
    fn data_frames_are_not_error_frames() {
        assert_eq!(
            ErrorFrameInfo::from_frame(&Frame::classic(0x40, false, &[])),
            None
        );
    }

    #[test]
    fn bus_off_wins() {
        let info =
            ErrorFrameInfo::from_frame(&error_frame(class::BUS_OFF | class::CONTROLLER, [0; 8]))
                .unwrap();
        assert!(info.bus_off);
        assert_eq!(info.state(), Some(ErrorState::BusOff));
        assert_eq!(info.controller, Some(ControllerProblems::default()));
    }

    #[test]
    fn controller_levels() {
        let state = |b: u8| ErrorFrameInfo::decode(class::CONTROLLER, &[0, b]).state();
        assert_eq!(state(0x04), Some(ErrorState::Warning));
        assert_eq!(state(0x08), Some(ErrorState::Warning));
        assert_eq!(state(0x10), Some(ErrorState::Passive));
        assert_eq!(state(0x2C), Some(ErrorState::Passive));
        assert_eq!(state(0x40), Some(ErrorState::Active));
        assert_eq!(state(0x01), None, "an overflow alone is no state change");
        let c = ErrorFrameInfo::decode(class::CONTROLLER, &[0, 0x03])
            .controller
            .unwrap();
        assert!(c.rx_overflow && c.tx_overflow && !c.rx_warning);
        assert_eq!(
            ErrorFrameInfo::decode(class::RESTARTED, &[]).state(),
            Some(ErrorState::Active)
        );
        assert_eq!(ErrorFrameInfo::decode(class::NO_ACK, &[]).state(), None);
    }

    #[test]
    fn protocol_violation_type_and_location() {
        let info = ErrorFrameInfo::decode(class::PROTOCOL | class::BUS_ERROR, &[0, 0, 0x84, 0x19]);
        let p = info.protocol.unwrap();
        assert_eq!(p.kinds, ["stuff", "tx"]);
        assert_eq!(p.location, "ack-slot");
        assert!(info.bus_error);
        let p = ErrorFrameInfo::decode(class::PROTOCOL, &[0, 0, 0, 0x0A])
            .protocol
            .unwrap();
        assert!(p.kinds.is_empty());
        assert_eq!(p.location, "data");
        assert_eq!(protocol_location(0x7F), "unknown");
    }

    #[test]
    fn arbitration_transceiver_ack_counters() {
        let info = ErrorFrameInfo::decode(
            class::LOST_ARBITRATION
                | class::TRANSCEIVER
                | class::NO_ACK
                | class::COUNTERS
                | class::TX_TIMEOUT,
            &[7, 0, 0, 0, 0x70, 0, 130, 12],
        );
        assert_eq!(info.lost_arbitration_bit, Some(7));
        assert_eq!(info.transceiver, Some("canl-short-to-gnd"));
        assert!(info.no_ack && info.tx_timeout && !info.bus_off && !info.restarted);
        assert_eq!(
            (info.tx_error_count, info.rx_error_count),
            (Some(130), Some(12))
        );
        assert_eq!(info.controller, None);
        assert_eq!(info.protocol, None);
    }

    #[test]
    fn counters_absent_without_their_class_bit() {
        let info = ErrorFrameInfo::decode(class::NO_ACK, &[0, 0, 0, 0, 0, 0, 5, 6]);
        assert_eq!((info.tx_error_count, info.rx_error_count), (None, None));
        assert_eq!(info.lost_arbitration_bit, None);
        assert_eq!(info.transceiver, None);
    }

    #[test]
    fn short_data_reads_as_zero() {
        let info = ErrorFrameInfo::decode(class::COUNTERS | class::TRANSCEIVER, &[1]);
        assert_eq!(info.tx_error_count, Some(0));
        assert_eq!(info.transceiver, Some("unspecified"));
    }
}
