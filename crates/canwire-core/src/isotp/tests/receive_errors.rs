//! Receive-side errors: sequence, unexpected CF, interruptions, malformed
//! SF/FF, RX_DL rules, frames that are not ours.

use super::support::*;
use crate::frame::{Frame, FrameFlags};
use crate::isotp::IsoTpEndpoint;

/// An endpoint receiving a 30-byte payload: FF handled, FC sent.
fn receiving_30() -> IsoTpEndpoint {
    let mut ep = endpoint(params(|p| p.blocksize = 0));
    ep.handle_frame(0, &rx(&[0x10, 30, 0, 1, 2, 3, 4, 5]));
    one(&mut ep, 0);
    ep
}

#[test]
fn wrong_sequence_number_drops_the_reception() {
    let mut ep = receiving_30();
    ep.handle_frame(0, &rx(&[0x21, 6, 7, 8, 9, 10, 11, 12]));
    ep.handle_frame(0, &rx(&[0x23, 13, 14, 15, 16, 17, 18, 19]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_WRONG_SEQUENCE"]);
    assert!(!ep.receiving());
    ep.handle_frame(0, &rx(&[0x22, 13, 14, 15, 16, 17, 18, 19]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_UNEXPECTED_CF"]);
}

#[test]
fn first_consecutive_frame_must_have_sequence_number_1() {
    let mut ep = receiving_30();
    ep.handle_frame(0, &rx(&[0x20, 6, 7, 8, 9, 10, 11, 12]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_WRONG_SEQUENCE"]);
}

#[test]
fn consecutive_frame_while_idle_is_unexpected() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x21, 1, 2, 3]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_UNEXPECTED_CF"]);
}

#[test]
fn single_frame_interrupts_a_reception_and_is_delivered() {
    let mut ep = receiving_30();
    ep.handle_frame(0, &rx(&[0x21, 6, 7, 8, 9, 10, 11, 12]));
    ep.handle_frame(0, &rx(&[0x02, 0xAB, 0xCD]));
    let evs = events(&mut ep);
    assert_eq!(evs.len(), 2);
    assert_eq!(
        evs[0].error_code().unwrap().as_str(),
        "ERR_ISOTP_INTERRUPTED_BY_NEW_FRAME"
    );
    assert_eq!(received_with_target(&evs[1]).0, [0xAB, 0xCD]);
    assert!(!ep.receiving());
}

#[test]
fn first_frame_interrupts_a_reception_and_starts_a_new_one() {
    let mut ep = receiving_30();
    ep.handle_frame(0, &rx(&[0x10, 10, 9, 9, 9, 9, 9, 9]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_INTERRUPTED_BY_NEW_FRAME"]);
    assert_classic(&one(&mut ep, 0), TXID, &[0x30, 0, 0]);
    ep.handle_frame(0, &rx(&[0x21, 8, 8, 8, 8]));
    assert_eq!(received(&mut ep), vec![vec![9, 9, 9, 9, 9, 9, 8, 8, 8, 8]]);
}

#[test]
fn malformed_single_frames_are_reported_and_ignored() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x00, 1, 2, 3, 4, 5, 6, 7])); // SF_DL 0 in a classic frame
    ep.handle_frame(0, &rx(&[0x05, 1, 2, 3])); // SF_DL longer than the frame
    ep.handle_frame(0, &rx(&[0x08, 1, 2, 3, 4, 5, 6, 7])); // SF_DL 8 does not fit classic
    ep.handle_frame(0, &rx(&[])); // no PCI at all
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_INVALID_FRAME"; 4]);
}

#[test]
fn reserved_pci_types_are_invalid() {
    let mut ep = endpoint(params(|_| {}));
    for pci in 4..=15u8 {
        ep.handle_frame(0, &rx(&[pci << 4, 0, 0, 0, 0, 0, 0, 0]));
    }
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_INVALID_FRAME"; 12]);
}

#[test]
fn first_frame_shorter_than_8_bytes_has_an_invalid_rx_dl() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_INVALID_RX_DL"]);
    assert!(
        drain(&mut ep, 0).is_empty(),
        "no flow control for an invalid FF"
    );
}

#[test]
fn first_frame_below_ff_dl_min_is_ignored() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x10, 7, 1, 2, 3, 4, 5, 6]));
    ep.handle_frame(0, &rx(&[0x10, 0, 0, 0, 0, 7, 1, 2])); // escaped, same rule
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_INVALID_FRAME"; 2]);
    assert!(!ep.receiving());
    assert!(drain(&mut ep, 0).is_empty());
}

#[test]
fn escaped_first_frame_announcing_0_bytes_is_invalid() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x10, 0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_INVALID_FRAME"]);
}

#[test]
fn consecutive_frame_shorter_than_rx_dl_before_the_end_is_rejected() {
    let mut ep = receiving_30();
    ep.handle_frame(0, &rx(&[0x21, 6, 7, 8, 9, 10, 11])); // 7 bytes, 24 remain
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_CHANGING_RX_DL"]);
    assert!(
        ep.receiving(),
        "the frame is ignored, the reception goes on"
    );
    ep.handle_frame(0, &rx(&[0x21, 6, 7, 8, 9, 10, 11, 12]));
    ep.handle_frame(0, &rx(&[0x22, 13, 14, 15, 16, 17, 18, 19]));
    ep.handle_frame(0, &rx(&[0x23, 20, 21, 22, 23, 24, 25, 26]));
    ep.handle_frame(0, &rx(&[0x24, 27, 28, 29]));
    assert_eq!(received(&mut ep), vec![payload(30)]);
}

#[test]
fn rx_dl_cannot_grow_mid_transfer() {
    let mut ep = receiving_30();
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x21], &payload(11)])));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_CHANGING_RX_DL"]);
    // Not even for the last frame.
    let mut ep = receiving_30();
    ep.handle_frame(0, &rx(&[0x21, 6, 7, 8, 9, 10, 11, 12]));
    ep.handle_frame(0, &rx(&[0x22, 13, 14, 15, 16, 17, 18, 19]));
    ep.handle_frame(0, &rx(&[0x23, 20, 21, 22, 23, 24, 25, 26]));
    ep.handle_frame(
        0,
        &rx_fd(&[
            0x24, 27, 28, 29, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC,
        ]),
    );
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_CHANGING_RX_DL"]);
    // And an FD transfer with RX_DL 16 cannot continue with 12-byte frames.
    let mut ep = endpoint(params(|p| p.blocksize = 0));
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x10, 60], &payload(14)])));
    one(&mut ep, 0);
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x21], &payload(11)])));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_CHANGING_RX_DL"]);
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x21], &payload(15)])));
    assert_eq!(codes(&mut ep), Vec::<&str>::new());
}

#[test]
fn frames_that_are_not_ours_are_ignored_silently() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &Frame::classic(0x7E9, false, &[0x01, 0x11]));
    ep.handle_frame(0, &Frame::classic(TXID, false, &[0x01, 0x11]));
    ep.handle_frame(0, &Frame::classic(RXID, true, &[0x01, 0x11])); // 29-bit id 0x7E8
    ep.handle_frame(0, &Frame::remote(RXID, false, 8));
    let mut err = rx(&[0x01, 0x11]);
    err.flags.set(FrameFlags::ERROR, true);
    ep.handle_frame(0, &err);
    assert_eq!(events(&mut ep), vec![]);
}

#[test]
fn frames_with_impossible_lengths_are_invalid() {
    let mut ep = endpoint(params(|_| {}));
    let mut classic = rx(&[0x01, 0x11]);
    classic.len = 9;
    ep.handle_frame(0, &classic);
    let mut fd = rx_fd(&[0x01, 0x11]);
    fd.len = 13;
    ep.handle_frame(0, &fd);
    let mut huge = rx_fd(&[0x01, 0x11]);
    huge.len = 200;
    ep.handle_frame(0, &huge);
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_INVALID_FRAME"; 3]);
}
