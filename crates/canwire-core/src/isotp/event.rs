//! What the endpoint hands back to its driver: events, transfer ids and the
//! stable codes of ISO-TP protocol errors.

use std::fmt;

use super::address::TargetAddressType;

/// Identifies one payload queued with [`IsoTpEndpoint::send`](super::IsoTpEndpoint::send);
/// the matching [`IsoTpEvent::TransmitComplete`] or [`IsoTpEvent::TransmitFailed`]
/// carries the same id, so a driver can resolve a blocking send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransferId(pub u64);

/// A stable, machine-readable ISO-TP error code. See the table in the
/// [module documentation](super) for when each one is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsoTpErrorCode {
    /// No flow control frame arrived within N_Bs after a first frame or a block.
    NBsTimeout,
    /// No consecutive frame arrived within N_Cr during a reception.
    NCrTimeout,
    /// A consecutive frame arrived while no reception was in progress.
    UnexpectedCf,
    /// A flow control frame arrived while no transmission was waiting for one.
    UnexpectedFc,
    /// A consecutive frame carried the wrong sequence number.
    WrongSequence,
    /// The receiver answered with flow status OVERFLOW.
    OverflowFc,
    /// The receiver sent more WAIT flow control frames than `wftmax` allows.
    WaitFrameLimit,
    /// The receiver sent a WAIT flow control frame while `wftmax` is 0.
    UnsupportedWaitFrame,
    /// A first frame announced more bytes than `max_frame_size`; an OVERFLOW FC was sent.
    FrameTooLong,
    /// A single or first frame arrived during a reception, which was dropped.
    InterruptedByNewFrame,
    /// A flow control frame with a reserved flow status (3..15).
    InvalidFc,
    /// A malformed frame: bad length, reserved PCI type, bad SF_DL/FF_DL,
    /// or a multi-frame PCI on a functional address.
    InvalidFrame,
    /// A single frame longer than 8 bytes without the SF_DL escape (byte 0 = 0).
    MissingEscapeSequence,
    /// A first frame whose CAN frame length is not a valid RX_DL (shorter than 8).
    InvalidRxDl,
    /// A consecutive frame whose length differs from the RX_DL set by the first frame.
    ChangingRxDl,
    /// The transfer was abandoned by `stop_sending` or `set_address`.
    SendStopped,
}

impl IsoTpErrorCode {
    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [IsoTpErrorCode; 16] = [
        Self::NBsTimeout,
        Self::NCrTimeout,
        Self::UnexpectedCf,
        Self::UnexpectedFc,
        Self::WrongSequence,
        Self::OverflowFc,
        Self::WaitFrameLimit,
        Self::UnsupportedWaitFrame,
        Self::FrameTooLong,
        Self::InterruptedByNewFrame,
        Self::InvalidFc,
        Self::InvalidFrame,
        Self::MissingEscapeSequence,
        Self::InvalidRxDl,
        Self::ChangingRxDl,
        Self::SendStopped,
    ];

    /// The stable string form, as seen by JavaScript in `error.code`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NBsTimeout => "ERR_ISOTP_N_BS_TIMEOUT",
            Self::NCrTimeout => "ERR_ISOTP_N_CR_TIMEOUT",
            Self::UnexpectedCf => "ERR_ISOTP_UNEXPECTED_CF",
            Self::UnexpectedFc => "ERR_ISOTP_UNEXPECTED_FC",
            Self::WrongSequence => "ERR_ISOTP_WRONG_SEQUENCE",
            Self::OverflowFc => "ERR_ISOTP_OVERFLOW_FC",
            Self::WaitFrameLimit => "ERR_ISOTP_WAIT_FRAME_LIMIT",
            Self::UnsupportedWaitFrame => "ERR_ISOTP_UNSUPPORTED_WAIT_FRAME",
            Self::FrameTooLong => "ERR_ISOTP_FRAME_TOO_LONG",
            Self::InterruptedByNewFrame => "ERR_ISOTP_INTERRUPTED_BY_NEW_FRAME",
            Self::InvalidFc => "ERR_ISOTP_INVALID_FC",
            Self::InvalidFrame => "ERR_ISOTP_INVALID_FRAME",
            Self::MissingEscapeSequence => "ERR_ISOTP_MISSING_ESCAPE_SEQUENCE",
            Self::InvalidRxDl => "ERR_ISOTP_INVALID_RX_DL",
            Self::ChangingRxDl => "ERR_ISOTP_CHANGING_RX_DL",
            Self::SendStopped => "ERR_ISOTP_SEND_STOPPED",
        }
    }
}

impl fmt::Display for IsoTpErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol error: a stable code and a message saying what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoTpError {
    /// The stable code.
    pub code: IsoTpErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

impl IsoTpError {
    /// Builds an error from a code and a message.
    pub fn new(code: IsoTpErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for IsoTpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for IsoTpError {}

/// Something the driver should act on, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsoTpEvent {
    /// A complete payload arrived.
    Received {
        /// The reassembled payload.
        payload: Vec<u8>,
        /// Whether it came on the physical or the functional address.
        target_address_type: TargetAddressType,
    },
    /// The last frame of a transfer was handed out by `poll_transmit`.
    TransmitComplete {
        /// The id `send` returned.
        id: TransferId,
    },
    /// A transfer ended without being sent completely.
    TransmitFailed {
        /// The id `send` returned.
        id: TransferId,
        /// Why it failed.
        error: IsoTpError,
    },
    /// A protocol problem that ended no transfer of ours (receive-side errors,
    /// unexpected or unsupported frames).
    Error(IsoTpError),
}

impl IsoTpEvent {
    /// The error code carried by a failure or error event.
    pub fn error_code(&self) -> Option<IsoTpErrorCode> {
        match self {
            Self::TransmitFailed { error, .. } | Self::Error(error) => Some(error.code),
            _ => None,
        }
    }
}
