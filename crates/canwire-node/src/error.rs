//! Mapping canwire errors to napi errors.

use canwire_core::{CanwireError, ErrorCode};

/// Converts a canwire error to a napi error whose message starts with the code.
pub fn to_napi(error: CanwireError) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, error.to_string())
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
