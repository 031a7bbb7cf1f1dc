//! The gRPC status a driver call ends with, as the Python exporter answers
//! (C8): a table from canwire's error codes, plus the fixed texts Python
//! clients see.
//!
//! | canwire error | status |
//! |---|---|
//! | bad input (`ERR_INVALID_ARGUMENT`, `ERR_ID_OUT_OF_RANGE`, ...) | INVALID_ARGUMENT |
//! | `ERR_TIMEOUT`, `ERR_TX_BUFFER_FULL` | DEADLINE_EXCEEDED |
//! | `ERR_UNSUPPORTED` | UNIMPLEMENTED |
//! | `ERR_PERMISSION_DENIED` | PERMISSION_DENIED |
//! | `ERR_UNAUTHENTICATED` | UNAUTHENTICATED |
//! | anything else | UNKNOWN (the message alone, as Python's `str(exception)`) |

use canwire_core::{CanwireError, ErrorCode};
use tonic::{Code, Status};

/// The status of a call that failed with `error`.
pub fn status_of(error: &CanwireError) -> Status {
    Status::new(code_of(error.code), error.message.clone())
}

/// The status code of a canwire error code.
pub fn code_of(code: ErrorCode) -> Code {
    match code {
        c if c.is_invalid_input() => Code::InvalidArgument,
        ErrorCode::Timeout | ErrorCode::TxBufferFull => Code::DeadlineExceeded,
        ErrorCode::Unsupported => Code::Unimplemented,
        ErrorCode::PermissionDenied => Code::PermissionDenied,
        ErrorCode::Unauthenticated => Code::Unauthenticated,
        _ => Code::Unknown,
    }
}

/// The text python-can gives for any use of a bus after `shutdown()`.
pub const CLOSED_BUS: &str = "Cannot operate on a closed bus";

/// UNKNOWN "Cannot operate on a closed bus".
pub fn closed_bus() -> Status {
    Status::unknown(CLOSED_BUS)
}

/// NOT_FOUND for a method the driver does not have.
pub fn method_not_found(method: &str) -> Status {
    Status::not_found(format!("method {method} not found on driver"))
}

/// UNKNOWN for a driver uuid that is not in the report (Python's KeyError
/// text), or that is not a uuid at all (its ValueError text).
pub fn unknown_driver(uuid: &str) -> Status {
    match uuid::Uuid::parse_str(uuid) {
        Ok(parsed) => Status::unknown(format!(
            "Unexpected <class 'KeyError'>: UUID('{}')",
            parsed.hyphenated()
        )),
        Err(_) => {
            Status::unknown("Unexpected <class 'ValueError'>: badly formed hexadecimal UUID string")
        }
    }
}

/// PERMISSION_DENIED for a call a read-only exporter refuses.
pub fn read_only(what: &str) -> Status {
    Status::permission_denied(format!(
        "this exporter is read-only: {what} is refused (receiving works)"
    ))
}

/// INVALID_ARGUMENT with canwire's own message.
pub fn invalid(message: impl Into<String>) -> Status {
    Status::invalid_argument(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_has_the_status_the_contract_names() {
        let table = [
            (ErrorCode::InvalidArgument, Code::InvalidArgument),
            (ErrorCode::IdOutOfRange, Code::InvalidArgument),
            (ErrorCode::FdNotEnabled, Code::InvalidArgument),
            (ErrorCode::Timeout, Code::DeadlineExceeded),
            (ErrorCode::TxBufferFull, Code::DeadlineExceeded),
            (ErrorCode::Unsupported, Code::Unimplemented),
            (ErrorCode::PermissionDenied, Code::PermissionDenied),
            (ErrorCode::Unauthenticated, Code::Unauthenticated),
            (ErrorCode::Closed, Code::Unknown),
            (ErrorCode::Os, Code::Unknown),
        ];
        for (code, status) in table {
            assert_eq!(code_of(code), status, "{code:?}");
        }
        let s = status_of(&CanwireError::new(ErrorCode::Timeout, "took too long"));
        assert_eq!(
            (s.code(), s.message()),
            (Code::DeadlineExceeded, "took too long")
        );
    }

    #[test]
    fn unknown_driver_texts_are_pythons() {
        let s = unknown_driver("6B29FC40-CA47-1067-B31D-00DD010662DA");
        assert_eq!(s.code(), Code::Unknown);
        assert_eq!(
            s.message(),
            "Unexpected <class 'KeyError'>: UUID('6b29fc40-ca47-1067-b31d-00dd010662da')"
        );
        assert_eq!(
            unknown_driver("nope").message(),
            "Unexpected <class 'ValueError'>: badly formed hexadecimal UUID string"
        );
        assert_eq!(
            method_not_found("nosuch").message(),
            "method nosuch not found on driver"
        );
    }
}
