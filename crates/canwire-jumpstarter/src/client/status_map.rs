//! gRPC status → [`CanwireError`], as the shared contract tables it (the
//! exporter maps the other way with the same table):
//!
//! | status | code | message |
//! |---|---|---|
//! | NOT_FOUND, UNIMPLEMENTED | `ERR_UNSUPPORTED` | names the method, then the exporter's text |
//! | INVALID_ARGUMENT | `ERR_INVALID_ARGUMENT` | the exporter's text |
//! | DEADLINE_EXCEEDED | `ERR_TIMEOUT` | the exporter's text |
//! | UNAUTHENTICATED | `ERR_UNAUTHENTICATED` | names the address, then the exporter's text |
//! | PERMISSION_DENIED | `ERR_PERMISSION_DENIED` | the exporter's text |
//! | UNAVAILABLE, or any failure of the connection itself | `ERR_UNREACHABLE` | names the address |
//! | anything else (UNKNOWN: a driver exception) | `ERR_REMOTE` | the exporter's text |
//!
//! A status the exporter sent carries no error source; one tonic made from
//! a broken connection (reset, closed mid-call, refused) does, and whatever
//! its code that is an unreachable exporter.

use canwire_core::{CanwireError, ErrorCode};
use tonic::{Code, Status};

/// The error for `status`, returned by `method` of the exporter at `address`.
pub fn error_from_status(status: &Status, method: &str, address: &str) -> CanwireError {
    let text = status.message();
    let connection_failed = std::error::Error::source(status).is_some();
    match status.code() {
        _ if connection_failed && status.code() != Code::DeadlineExceeded => {
            unreachable(address, text)
        }
        Code::Unavailable => unreachable(address, text),
        Code::NotFound | Code::Unimplemented => CanwireError::new(
            ErrorCode::Unsupported,
            if text.is_empty() {
                format!("the exporter's driver does not support '{method}'")
            } else {
                format!("the exporter's driver does not support '{method}': {text}")
            },
        ),
        Code::InvalidArgument => CanwireError::new(ErrorCode::InvalidArgument, text),
        Code::DeadlineExceeded => CanwireError::new(
            ErrorCode::Timeout,
            if text.is_empty() {
                format!("'{method}' timed out on the exporter")
            } else {
                text.to_owned()
            },
        ),
        Code::Unauthenticated => CanwireError::new(
            ErrorCode::Unauthenticated,
            format!("the Jumpstarter exporter at {address} refused this client: {text}"),
        ),
        Code::PermissionDenied => CanwireError::new(ErrorCode::PermissionDenied, text),
        _ => CanwireError::new(ErrorCode::Remote, text),
    }
}

/// `ERR_UNREACHABLE` naming the address and why.
pub fn unreachable(address: &str, why: &str) -> CanwireError {
    CanwireError::new(
        ErrorCode::Unreachable,
        if why.is_empty() {
            format!("the Jumpstarter exporter at {address} is unreachable")
        } else {
            format!("the Jumpstarter exporter at {address} is unreachable: {why}")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_and_message(status: Status) -> (&'static str, String) {
        let e = error_from_status(&status, "send", "127.0.0.1:5");
        (e.code.as_str(), e.message)
    }

    #[test]
    fn the_exporters_statuses_map_to_the_contracts_codes() {
        assert_eq!(
            code_and_message(Status::not_found("method nosuch not found on driver")),
            (
                "ERR_UNSUPPORTED",
                "the exporter's driver does not support 'send': method nosuch not found on driver"
                    .into()
            )
        );
        assert_eq!(
            code_and_message(Status::unimplemented("")),
            (
                "ERR_UNSUPPORTED",
                "the exporter's driver does not support 'send'".into()
            )
        );
        assert_eq!(
            code_and_message(Status::invalid_argument("1 validation error for Can.send")),
            (
                "ERR_INVALID_ARGUMENT",
                "1 validation error for Can.send".into()
            )
        );
        assert_eq!(
            code_and_message(Status::deadline_exceeded("slow")).0,
            "ERR_TIMEOUT"
        );
        assert_eq!(
            code_and_message(Status::unauthenticated("invalid or missing passphrase")),
            (
                "ERR_UNAUTHENTICATED",
                "the Jumpstarter exporter at 127.0.0.1:5 refused this client: invalid or missing passphrase".into()
            )
        );
        assert_eq!(
            code_and_message(Status::permission_denied("read-only")),
            ("ERR_PERMISSION_DENIED", "read-only".into())
        );
        assert_eq!(
            code_and_message(Status::unknown("Cannot operate on a closed bus")),
            ("ERR_REMOTE", "Cannot operate on a closed bus".into())
        );
        assert_eq!(
            code_and_message(Status::unavailable("Socket closed")),
            (
                "ERR_UNREACHABLE",
                "the Jumpstarter exporter at 127.0.0.1:5 is unreachable: Socket closed".into()
            )
        );
    }

    #[test]
    fn a_broken_connection_is_unreachable_whatever_its_code() {
        let broken = Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset",
        )));
        let status = Status::from_error(Box::new(broken));
        let with_source = Status::from_error(
            std::io::Error::other("stream closed because of a broken pipe").into(),
        );
        assert!(std::error::Error::source(&with_source).is_some());
        assert_eq!(code_and_message(with_source).0, "ERR_UNREACHABLE");
        assert_eq!(code_and_message(status).0, "ERR_UNREACHABLE");
    }
}
