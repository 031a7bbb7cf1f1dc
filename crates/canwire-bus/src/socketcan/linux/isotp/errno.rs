//! What the kernel's errno values mean for ISO-TP.
//!
//! can-isotp reports protocol failures through the socket's error slot:
//! `ETIMEDOUT` (no consecutive frame in time), `EILSEQ` (wrong sequence
//! number) and `EBADMSG` (bad padding) on the receive path; `ECOMM` (no flow
//! control, or no echo of a sent frame, within 1 s), `EMSGSIZE` (the receiver
//! answered OVERFLOW) and `EBADMSG` (a malformed flow control frame) on the
//! send path. Anything else is an OS error (`ENETDOWN`, `ENOBUFS`, ...).

use canwire_core::isotp::{IsoTpError, IsoTpErrorCode};

use crate::socketcan::sys::errno_name;

/// Which side of the protocol an errno belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelFailure {
    /// A failure of the transfer being sent.
    Send(IsoTpError),
    /// A failure of a reception (the payload was dropped).
    Receive(IsoTpError),
    /// Not a protocol error: the errno value.
    Os(i32),
}

/// Classifies an errno returned by a write (`sending`) or a read.
pub fn classify(errno: i32, sending: bool) -> KernelFailure {
    use IsoTpErrorCode::*;
    let name = errno_name(errno);
    let send = |code, what: &str| {
        KernelFailure::Send(IsoTpError::new(code, format!("{what} (kernel: {name})")))
    };
    let receive = |code, what: &str| {
        KernelFailure::Receive(IsoTpError::new(code, format!("{what} (kernel: {name})")))
    };
    match errno {
        libc::ECOMM => send(
            NBsTimeout,
            "no flow control frame (or no echo of a sent frame) within the kernel's N_Bs of 1000 ms",
        ),
        libc::EMSGSIZE => send(
            OverflowFc,
            "the receiver answered with flow status OVERFLOW",
        ),
        libc::EBADMSG if sending => send(
            InvalidFc,
            "a malformed flow control frame (length or padding) ended the transfer",
        ),
        libc::EBADMSG => receive(
            InvalidFrame,
            "a received frame had wrong padding; the payload was dropped",
        ),
        libc::ETIMEDOUT => receive(
            NCrTimeout,
            "no consecutive frame within the kernel's N_Cr of 1000 ms; the reception was dropped",
        ),
        libc::EILSEQ => receive(
            WrongSequence,
            "a consecutive frame had the wrong sequence number; the reception was dropped",
        ),
        _ => KernelFailure::Os(errno),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(f: &KernelFailure) -> Option<(bool, IsoTpErrorCode)> {
        match f {
            KernelFailure::Send(e) => Some((true, e.code)),
            KernelFailure::Receive(e) => Some((false, e.code)),
            KernelFailure::Os(_) => None,
        }
    }

    #[test]
    fn each_errno_maps_to_its_code_and_side() {
        use IsoTpErrorCode::*;
        let cases = [
            (libc::ECOMM, true, Some((true, NBsTimeout))),
            (libc::EMSGSIZE, true, Some((true, OverflowFc))),
            (libc::EBADMSG, true, Some((true, InvalidFc))),
            (libc::EBADMSG, false, Some((false, InvalidFrame))),
            (libc::ETIMEDOUT, false, Some((false, NCrTimeout))),
            (libc::ETIMEDOUT, true, Some((false, NCrTimeout))),
            (libc::EILSEQ, false, Some((false, WrongSequence))),
            (libc::ENETDOWN, true, None),
        ];
        for (errno, sending, expected) in cases {
            assert_eq!(code(&classify(errno, sending)), expected, "errno {errno}");
        }
        let KernelFailure::Send(e) = classify(libc::ECOMM, true) else {
            panic!()
        };
        assert!(e.message.ends_with("(kernel: ECOMM)"), "{}", e.message);
        assert_eq!(
            classify(libc::ENOBUFS, true),
            KernelFailure::Os(libc::ENOBUFS)
        );
    }
}
