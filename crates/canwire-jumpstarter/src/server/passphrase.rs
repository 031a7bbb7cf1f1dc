//! The passphrase check every RPC goes through: metadata
//! `x-jumpstarter-passphrase` compared in constant time, or
//! UNAUTHENTICATED "invalid or missing passphrase" (the text `jmp shell`
//! prints as "Authentication failed: …").

use std::sync::Arc;

use subtle::ConstantTimeEq;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// The metadata key Jumpstarter clients send the passphrase in.
pub const PASSPHRASE_KEY: &str = "x-jumpstarter-passphrase";

/// Lets every request through, or only those carrying the passphrase.
#[derive(Clone)]
pub struct PassphraseCheck {
    expected: Option<Arc<[u8]>>,
}

impl PassphraseCheck {
    /// A check for `passphrase` (`None`: no check).
    pub fn new(passphrase: Option<&str>) -> Self {
        Self {
            expected: passphrase.map(|p| Arc::from(p.as_bytes())),
        }
    }

    /// Whether `given` is the passphrase (always true without one).
    pub fn accepts(&self, given: Option<&[u8]>) -> bool {
        match (&self.expected, given) {
            (None, _) => true,
            (Some(expected), Some(given)) => bool::from(expected.as_ref().ct_eq(given)),
            (Some(_), None) => false,
        }
    }
}

impl Interceptor for PassphraseCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let given = request.metadata().get(PASSPHRASE_KEY).map(|v| v.as_bytes());
        if self.accepts(given) {
            Ok(request)
        } else {
            Err(Status::unauthenticated("invalid or missing passphrase"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_passphrase_passes() {
        let check = PassphraseCheck::new(Some("s3cret"));
        assert!(check.accepts(Some(b"s3cret")));
        assert!(!check.accepts(Some(b"s3cre")));
        assert!(!check.accepts(Some(b"s3cret!")));
        assert!(!check.accepts(None));
        assert!(PassphraseCheck::new(None).accepts(None));
        let mut check = check;
        let mut request = Request::new(());
        request
            .metadata_mut()
            .insert(PASSPHRASE_KEY, "wrong".parse().unwrap());
        let status = check.call(request).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(status.message(), "invalid or missing passphrase");
    }
}
