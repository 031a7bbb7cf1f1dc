//! Stable error codes. Every failure that reaches a user carries one of these;
//! the strings are part of the public API and never change meaning.

use std::fmt;

/// A stable, machine-readable error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// An option or argument has a wrong type or value.
    InvalidArgument,
    /// A CAN id does not fit its format (11 bit standard, 29 bit extended).
    IdOutOfRange,
    /// More data bytes than the protocol allows (8 classic, 64 FD).
    DataTooLong,
    /// A CAN FD data length that no DLC code encodes (e.g. 9 or 13 bytes).
    InvalidFdLength,
    /// The DLC does not agree with the data length.
    DlcMismatch,
    /// A DLC code outside 0..15 or a remote length above 8.
    InvalidDlc,
    /// A remote frame combined with the error or FD flag.
    RemoteConflict,
    /// Bit rate switch or error state indicator on a frame that is not FD.
    FlagsRequireFd,
    /// A negative, infinite or NaN timestamp.
    InvalidTimestamp,
    /// An FD frame sent on a bus opened for classic CAN.
    FdNotEnabled,
    /// Text that is not valid can-utils frame syntax.
    InvalidFrameSyntax,
    /// The bus, reader or task was closed.
    Closed,
    /// The operation did not complete within its timeout.
    Timeout,
    /// The operation is not supported on this interface or platform.
    Unsupported,
    /// No such interface kind or channel.
    UnknownInterface,
    /// An operating system call failed; the message names the errno.
    Os,
    /// A bug in canwire (for example a caught panic).
    Internal,
    /// A log file whose bytes break its format; the message names the byte offset.
    CorruptFile,
    /// A log file that ends before a structure it needs; the message names the byte offset.
    TruncatedFile,
    /// The transmit queue stayed full (ENOBUFS/EAGAIN) for the whole send timeout.
    TxBufferFull,
    /// The named network interface exists but is not a CAN interface.
    NotCanInterface,
    /// A remote server refused the credentials (a missing or wrong passphrase).
    Unauthenticated,
    /// A remote server refused the operation (for example a read-only export).
    PermissionDenied,
    /// A remote server could not be reached or the connection to it was lost;
    /// the message names its address.
    Unreachable,
    /// A remote server's driver failed with an error of its own; the message
    /// is the server's text.
    Remote,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 25] = [
        ErrorCode::InvalidArgument,
        ErrorCode::IdOutOfRange,
        ErrorCode::DataTooLong,
        ErrorCode::InvalidFdLength,
        ErrorCode::DlcMismatch,
        ErrorCode::InvalidDlc,
        ErrorCode::RemoteConflict,
        ErrorCode::FlagsRequireFd,
        ErrorCode::InvalidTimestamp,
        ErrorCode::FdNotEnabled,
        ErrorCode::InvalidFrameSyntax,
        ErrorCode::Closed,
        ErrorCode::Timeout,
        ErrorCode::Unsupported,
        ErrorCode::UnknownInterface,
        ErrorCode::Os,
        ErrorCode::Internal,
        ErrorCode::CorruptFile,
        ErrorCode::TruncatedFile,
        ErrorCode::TxBufferFull,
        ErrorCode::NotCanInterface,
        ErrorCode::Unauthenticated,
        ErrorCode::PermissionDenied,
        ErrorCode::Unreachable,
        ErrorCode::Remote,
    ];

    /// Whether the code reports bad input (a rule broken by an argument, text
    /// or file); the facade throws these as `InvalidArgumentError`.
    pub const fn is_invalid_input(self) -> bool {
        matches!(
            self,
            ErrorCode::InvalidArgument
                | ErrorCode::IdOutOfRange
                | ErrorCode::DataTooLong
                | ErrorCode::InvalidFdLength
                | ErrorCode::DlcMismatch
                | ErrorCode::InvalidDlc
                | ErrorCode::RemoteConflict
                | ErrorCode::FlagsRequireFd
                | ErrorCode::InvalidTimestamp
                | ErrorCode::FdNotEnabled
                | ErrorCode::InvalidFrameSyntax
                | ErrorCode::CorruptFile
                | ErrorCode::TruncatedFile
        )
    }

    /// The code whose string form is `code` (`"ERR_TIMEOUT"`), if any.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The stable string form, as seen by JavaScript in `error.code`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "ERR_INVALID_ARGUMENT",
            ErrorCode::IdOutOfRange => "ERR_ID_OUT_OF_RANGE",
            ErrorCode::DataTooLong => "ERR_DATA_TOO_LONG",
            ErrorCode::InvalidFdLength => "ERR_INVALID_FD_LENGTH",
            ErrorCode::DlcMismatch => "ERR_DLC_MISMATCH",
            ErrorCode::InvalidDlc => "ERR_INVALID_DLC",
            ErrorCode::RemoteConflict => "ERR_REMOTE_CONFLICT",
            ErrorCode::FlagsRequireFd => "ERR_FLAGS_REQUIRE_FD",
            ErrorCode::InvalidTimestamp => "ERR_INVALID_TIMESTAMP",
            ErrorCode::FdNotEnabled => "ERR_FD_NOT_ENABLED",
            ErrorCode::InvalidFrameSyntax => "ERR_INVALID_FRAME_SYNTAX",
            ErrorCode::Closed => "ERR_CLOSED",
            ErrorCode::Timeout => "ERR_TIMEOUT",
            ErrorCode::Unsupported => "ERR_UNSUPPORTED",
            ErrorCode::UnknownInterface => "ERR_UNKNOWN_INTERFACE",
            ErrorCode::Os => "ERR_OS",
            ErrorCode::Internal => "ERR_INTERNAL",
            ErrorCode::CorruptFile => "ERR_CORRUPT_FILE",
            ErrorCode::TruncatedFile => "ERR_TRUNCATED_FILE",
            ErrorCode::TxBufferFull => "ERR_TX_BUFFER_FULL",
            ErrorCode::NotCanInterface => "ERR_NOT_CAN_INTERFACE",
            ErrorCode::Unauthenticated => "ERR_UNAUTHENTICATED",
            ErrorCode::PermissionDenied => "ERR_PERMISSION_DENIED",
            ErrorCode::Unreachable => "ERR_UNREACHABLE",
            ErrorCode::Remote => "ERR_REMOTE",
        }
    }
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a stable code and a message that says what was wrong and what is allowed.
///
/// `errno` and `sent` are machine-readable details that reach JavaScript as
/// fields of the `CanError` (`error.errno`, `error.sent`); the message says
/// the same in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanwireError {
    /// The stable code.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// The errno name (`"ENOBUFS"`) of the OS call that failed, when one did.
    pub errno: Option<&'static str>,
    /// How many frames of the call went out before it failed, where a send
    /// can fail part way (`ERR_TX_BUFFER_FULL`).
    pub sent: Option<u64>,
}

impl CanwireError {
    /// Builds an error from a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            errno: None,
            sent: None,
        }
    }

    /// The same error carrying the errno name of the OS call that failed.
    pub fn with_errno(mut self, errno: Option<&'static str>) -> Self {
        self.errno = errno;
        self
    }

    /// The same error carrying how many frames went out before it failed.
    pub fn with_sent(mut self, sent: u64) -> Self {
        self.sent = Some(sent);
        self
    }

    /// Shorthand for [`ErrorCode::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgument, message)
    }

    /// Shorthand for [`ErrorCode::Closed`].
    pub fn closed(what: &str) -> Self {
        Self::new(ErrorCode::Closed, format!("{what} is closed"))
    }
}

impl fmt::Display for CanwireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for CanwireError {}

/// Result alias used across canwire.
pub type Result<T, E = CanwireError> = std::result::Result<T, E>;

/// The symbolic name of a Linux errno value (`2` → `"ENOENT"`), for the
/// errors canwire's I/O meets; `None` for others. Elsewhere only the classic
/// POSIX values 1..=34, which all Unixes share, are named (none on Windows).
pub fn errno_name(errno: i32) -> Option<&'static str> {
    if cfg!(windows) || (!cfg!(target_os = "linux") && errno > 34) {
        return None;
    }
    Some(match errno {
        1 => "EPERM",
        2 => "ENOENT",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        24 => "EMFILE",
        28 => "ENOSPC",
        30 => "EROFS",
        32 => "EPIPE",
        70 => "ECOMM",
        74 => "EBADMSG",
        84 => "EILSEQ",
        90 => "EMSGSIZE",
        92 => "ENOPROTOOPT",
        93 => "EPROTONOSUPPORT",
        95 => "EOPNOTSUPP",
        97 => "EAFNOSUPPORT",
        99 => "EADDRNOTAVAIL",
        100 => "ENETDOWN",
        101 => "ENETUNREACH",
        105 => "ENOBUFS",
        110 => "ETIMEDOUT",
        112 => "EHOSTDOWN",
        _ => return None,
    })
}

impl CanwireError {
    /// An [`ErrorCode::Os`] error for a failed I/O call: `"{what}: ENAME: description"`.
    pub fn from_io(error: &std::io::Error, what: &str) -> Self {
        let name = error.raw_os_error().and_then(errno_name);
        let message = match name {
            Some(name) => format!("{what}: {name}: {error}"),
            None => format!("{what}: {error}"),
        };
        Self::new(ErrorCode::Os, message).with_errno(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_name_their_errno() {
        let e = CanwireError::from_io(&std::io::Error::from_raw_os_error(2), "opening 'x'");
        assert_eq!(e.code, ErrorCode::Os);
        assert!(
            e.message.starts_with("opening 'x': ENOENT: "),
            "{}",
            e.message
        );
        assert_eq!(e.errno, Some("ENOENT"));
        assert_eq!(errno_name(105), Some("ENOBUFS"));
        assert_eq!(errno_name(9999), None);
    }

    #[test]
    fn every_code_parses_back_from_its_string() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("ERR_NOPE"), None);
    }
}
