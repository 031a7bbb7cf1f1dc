//! Mapping canwire errors to napi errors.
//!
//! napi-rs 3 gives an error crossing to JS only a status string (its `code`)
//! and a reason (its `message`), and an async function's rejection only the
//! fixed `napi::Status` set, so a canwire error's fields cannot ride on the
//! status. They cross as one JSON object in the reason instead:
//!
//! ```text
//! {"canwire":1,"code":"ERR_TX_BUFFER_FULL","message":"…","errno":"ENOBUFS","sent":3}
//! ```
//!
//! `errno` and `sent` appear only when the error has them. The facade
//! (`src/errors.ts`, `fromNative`) reads the object with `JSON.parse` and
//! builds the typed `CanError` from its fields; a spec checks both sides
//! agree. Errors napi-rs raises itself (a JS value of the wrong type) keep
//! napi's status as their code.

use canwire_core::isotp::IsoTpErrorCode;
use canwire_core::{CanwireError, ErrorCode};
use napi_derive::napi;

/// The version of the envelope: the facade refuses one it does not know.
const ENVELOPE_VERSION: u32 = 1;

/// Converts a canwire error to a napi error carrying its fields (see the module doc).
pub fn to_napi(error: CanwireError) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, envelope(&error))
}

/// An invalid-argument napi error.
pub fn invalid_argument(message: impl Into<String>) -> napi::Error {
    to_napi(CanwireError::new(ErrorCode::InvalidArgument, message))
}

/// Result with a canwire error, converted on the way out.
pub trait IntoNapi<T> {
    /// Converts the error side to a napi error.
    fn into_napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for Result<T, CanwireError> {
    fn into_napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

/// The JSON object that carries `error` across napi.
pub fn envelope(error: &CanwireError) -> String {
    let mut object = serde_json::Map::new();
    object.insert("canwire".into(), ENVELOPE_VERSION.into());
    object.insert("code".into(), error.code.as_str().into());
    object.insert("message".into(), error.message.as_str().into());
    if let Some(errno) = error.errno {
        object.insert("errno".into(), errno.into());
    }
    if let Some(sent) = error.sent {
        object.insert("sent".into(), sent.into());
    }
    serde_json::Value::Object(object).to_string()
}

/// The error a JS callback threw as an envelope (the facade sends a
/// `CanError` back the way this module sends one out); `None` when `reason`
/// is not an envelope or names a code this binding does not know.
pub fn from_envelope(reason: &str) -> Option<CanwireError> {
    let value: serde_json::Value = serde_json::from_str(reason).ok()?;
    if value.get("canwire")?.as_u64()? != u64::from(ENVELOPE_VERSION) {
        return None;
    }
    let code = ErrorCode::parse(value.get("code")?.as_str()?)?;
    Some(CanwireError::new(code, value.get("message")?.as_str()?))
}

/// The error codes Rust can produce, grouped as the facade groups them.
#[napi(object)]
pub struct NativeErrorCodes {
    /// Every code: `ErrorCode::ALL` then the ISO-TP protocol codes.
    pub all: Vec<String>,
    /// The codes of bad input (`ErrorCode::is_invalid_input`).
    pub invalid_input: Vec<String>,
    /// The ISO-TP protocol codes (`IsoTpErrorCode::ALL`).
    pub iso_tp: Vec<String>,
}

/// The error codes of this binding, for the spec that checks the facade knows each.
#[napi(catch_unwind)]
pub fn error_codes() -> NativeErrorCodes {
    let general = ErrorCode::ALL.iter().map(|c| c.as_str().to_string());
    let iso_tp: Vec<String> = IsoTpErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    NativeErrorCodes {
        all: general.chain(iso_tp.iter().cloned()).collect(),
        invalid_input: ErrorCode::ALL
            .iter()
            .filter(|c| c.is_invalid_input())
            .map(|c| c.as_str().to_string())
            .collect(),
        iso_tp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_from_js_becomes_the_error_it_names() {
        let error = CanwireError::new(ErrorCode::IdOutOfRange, "id 0x800 \"big\"");
        let back = from_envelope(&envelope(&error)).expect("an envelope");
        assert_eq!(
            (back.code, back.message.as_str()),
            (ErrorCode::IdOutOfRange, "id 0x800 \"big\"")
        );
        assert!(from_envelope("ERR_TIMEOUT: text").is_none());
        assert!(from_envelope(r#"{"canwire":2,"code":"ERR_TIMEOUT","message":"m"}"#).is_none());
        assert!(from_envelope(r#"{"canwire":1,"code":"ERR_NOPE","message":"m"}"#).is_none());
    }

    #[test]
    fn the_envelope_carries_every_field_as_json() {
        let error = CanwireError::new(ErrorCode::TxBufferFull, "full \"q\"\n\\ \u{1}")
            .with_errno(Some("ENOBUFS"))
            .with_sent(3);
        let json =
            |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("valid JSON");
        assert_eq!(
            json(&envelope(&error)),
            json(
                r#"{"canwire":1,"code":"ERR_TX_BUFFER_FULL","message":"full \"q\"\n\\ \u0001","errno":"ENOBUFS","sent":3}"#
            )
        );
        let plain = CanwireError::new(ErrorCode::Timeout, "µs");
        assert_eq!(
            json(&envelope(&plain)),
            json(r#"{"canwire":1,"code":"ERR_TIMEOUT","message":"µs"}"#)
        );
    }
}
