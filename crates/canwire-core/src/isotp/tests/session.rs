//! Endpoint-level behaviour: listen mode, stop_sending, stop_receiving,
//! set_address, full duplex, transfer ids for blocking sends.

use super::support::*;
use crate::frame::Frame;
use crate::isotp::{AddressConfig, IsoTpAddress, IsoTpEndpoint, IsoTpErrorCode, IsoTpEvent};

/// A sniffer that listens to a transfer sent on RXID, answered on TXID.
fn listener() -> IsoTpEndpoint {
    endpoint(params(|p| {
        p.listen_mode = true;
        p.rx_consecutive_frame_timeout_ns = 100 * MS;
        p.rx_flowcontrol_timeout_ns = 300 * MS;
    }))
}

#[test]
fn listen_mode_receives_without_sending_flow_control() {
    let mut ep = listener();
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    assert!(drain(&mut ep, 0).is_empty());
    ep.handle_frame(MS, &Frame::classic(TXID, false, &[0x30, 1, 0])); // the real receiver's FC
    ep.handle_frame(2 * MS, &rx(&[0x21, 6, 7, 8, 9, 10, 11, 12]));
    ep.handle_frame(3 * MS, &Frame::classic(TXID, false, &[0x30, 1, 0]));
    ep.handle_frame(4 * MS, &rx(&[0x22, 13, 14, 15, 16, 17, 18, 19]));
    assert!(drain(&mut ep, 4 * MS).is_empty());
    assert_eq!(received(&mut ep), vec![payload(20)]);
}

#[test]
fn listen_mode_follows_the_observed_flow_control_for_timing() {
    let mut ep = listener();
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    assert_eq!(ep.poll_timeout(), Some(100 * MS));
    // WAIT from the real receiver: the sender may now wait up to N_Bs.
    ep.handle_frame(50 * MS, &Frame::classic(TXID, false, &[0x31, 0, 0]));
    assert_eq!(ep.poll_timeout(), Some(350 * MS));
    ep.handle_timeout(200 * MS);
    assert!(ep.receiving());
    ep.handle_frame(300 * MS, &Frame::classic(TXID, false, &[0x30, 0, 0]));
    assert_eq!(ep.poll_timeout(), Some(400 * MS));
    ep.handle_timeout(400 * MS);
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_N_CR_TIMEOUT"]);
}

#[test]
fn listen_mode_drops_the_reception_when_the_observed_receiver_overflows() {
    let mut ep = listener();
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    ep.handle_frame(0, &Frame::classic(TXID, false, &[0x32, 0, 0]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_OVERFLOW_FC"]);
    assert!(!ep.receiving());
    // Frames the other receiver sends that are not FC change nothing.
    ep.handle_frame(0, &Frame::classic(TXID, false, &[0x01, 0x11]));
    assert_eq!(events(&mut ep), vec![]);
}

#[test]
fn listen_mode_reports_too_long_payloads_without_answering() {
    let mut ep = listener();
    ep.handle_frame(0, &rx(&[0x1F, 0xFF, 0, 1, 2, 3, 4, 5]));
    ep.handle_frame(0, &rx(&[0x10, 0, 0, 0, 0x10, 0, 0, 1]));
    assert_eq!(
        codes(&mut ep),
        [
            "ERR_ISOTP_INTERRUPTED_BY_NEW_FRAME",
            "ERR_ISOTP_FRAME_TOO_LONG"
        ]
    );
    assert!(drain(&mut ep, 0).is_empty());
}

#[test]
fn observed_flow_control_is_ignored_outside_listen_mode() {
    let mut ep = endpoint(params(|p| p.rx_consecutive_frame_timeout_ns = 100 * MS));
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    one(&mut ep, 0);
    ep.handle_frame(50 * MS, &Frame::classic(TXID, false, &[0x30, 0, 0]));
    assert_eq!(ep.poll_timeout(), Some(100 * MS));
    assert_eq!(events(&mut ep), vec![]);
}

#[test]
fn stop_sending_fails_the_active_and_queued_transfers() {
    let mut ep = endpoint(params(|_| {}));
    let a = ep.send(0, payload(50), None).unwrap();
    let b = ep.send(0, payload(3), None).unwrap();
    one(&mut ep, 0);
    ep.stop_sending();
    let evs = events(&mut ep);
    let ids: Vec<_> = evs
        .iter()
        .map(|e| match e {
            IsoTpEvent::TransmitFailed { id, error } => (*id, error.code.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        ids,
        [(a, "ERR_ISOTP_SEND_STOPPED"), (b, "ERR_ISOTP_SEND_STOPPED")]
    );
    assert!(!ep.transmitting());
    assert_eq!(ep.poll_timeout(), None);
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_UNEXPECTED_FC"]);
}

#[test]
fn fail_sending_fails_the_active_transfer_with_the_code_given_and_queued_ones_still_go() {
    let mut ep = endpoint(params(|_| {}));
    let a = ep.send(0, payload(50), None).unwrap();
    let b = ep.send(0, payload(3), None).unwrap();
    one(&mut ep, 0);
    ep.fail_sending(IsoTpErrorCode::NBsTimeout, "no echo within N_As");
    match events(&mut ep).as_slice() {
        [IsoTpEvent::TransmitFailed { id, error }] => {
            assert_eq!((*id, error.code.as_str()), (a, "ERR_ISOTP_N_BS_TIMEOUT"));
            assert_eq!(error.message, "no echo within N_As");
        }
        other => panic!("{other:?}"),
    }
    assert!(ep.transmitting());
    let sf = one(&mut ep, 0);
    assert_eq!(&sf.data()[..4], &[0x03, 0, 1, 2]);
    assert_eq!(
        events(&mut ep),
        vec![IsoTpEvent::TransmitComplete { id: b }]
    );
}

#[test]
fn stop_receiving_drops_the_reception_and_its_pending_flow_control() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    ep.stop_receiving();
    assert!(drain(&mut ep, 0).is_empty());
    assert!(!ep.receiving());
    ep.handle_frame(0, &rx(&[0x21, 6, 7, 8, 9, 10, 11, 12]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_UNEXPECTED_CF"]);
}

#[test]
fn set_address_aborts_the_active_transfer_and_moves_queued_ones() {
    let mut ep = endpoint(params(|_| {}));
    let a = ep.send(0, payload(20), None).unwrap();
    let b = ep.send(0, payload(7), None).unwrap();
    one(&mut ep, 0);
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    let ext = IsoTpAddress::new(AddressConfig::extended(false, 0x100, 0x200, 0x01, 0x02)).unwrap();
    ep.set_address(ext);
    assert_eq!(ep.address(), &ext);
    let evs = events(&mut ep);
    assert!(
        matches!(&evs[..], [IsoTpEvent::TransmitFailed { id, .. }] if *id == a),
        "{evs:?}"
    );
    // 7 bytes no longer fit a single frame with the address byte: an FF now.
    assert_eq!(one(&mut ep, 0).data(), [0x01, 0x10, 7, 0, 1, 2, 3, 4]);
    ep.handle_frame(0, &Frame::classic(0x200, false, &[0x02, 0x30, 0, 0]));
    assert_eq!(one(&mut ep, 0).data(), [0x01, 0x21, 5, 6]);
    assert_eq!(events(&mut ep), [IsoTpEvent::TransmitComplete { id: b }]);
    assert!(!ep.receiving());
}

#[test]
fn set_address_fails_queued_transfers_the_new_address_cannot_send() {
    let mut ep = endpoint(params(|_| {}));
    let a = ep.send(0, payload(3), None).unwrap();
    let rx_only = IsoTpAddress::rx_only(AddressConfig::normal(false, 1, 2)).unwrap();
    ep.set_address(rx_only);
    let evs = events(&mut ep);
    assert!(matches!(&evs[..], [IsoTpEvent::TransmitFailed { id, .. }] if *id == a));
    assert!(ep.poll_transmit(0).is_none());
}

#[test]
fn sending_and_receiving_at_once() {
    let mut ep = endpoint(params(|p| p.blocksize = 0));
    let id = ep.send(0, payload(13), None).unwrap();
    assert_eq!(one(&mut ep, 0).data(), [0x10, 13, 0, 1, 2, 3, 4, 5]);
    ep.handle_frame(0, &rx(&[0x10, 9, 9, 9, 9, 9, 9, 9]));
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    let frames = drain(&mut ep, 0);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].data(), [0x30, 0, 0], "flow control goes first");
    assert_eq!(frames[1].data(), [0x21, 6, 7, 8, 9, 10, 11, 12]);
    ep.handle_frame(0, &rx(&[0x21, 9, 9, 9]));
    let evs = events(&mut ep);
    assert_eq!(evs[0], IsoTpEvent::TransmitComplete { id });
    assert_eq!(received_with_target(&evs[1]).0, [9; 9]);
}

#[test]
fn poll_timeout_is_the_earliest_of_both_halves() {
    let mut ep = endpoint(params(|p| {
        p.rx_flowcontrol_timeout_ns = 300 * MS;
        p.rx_consecutive_frame_timeout_ns = 100 * MS;
    }));
    assert_eq!(ep.poll_timeout(), None);
    ep.send(0, payload(20), None).unwrap();
    assert_eq!(ep.poll_timeout(), Some(0), "the first frame is due now");
    one(&mut ep, 0);
    assert_eq!(ep.poll_timeout(), Some(300 * MS));
    ep.handle_frame(10 * MS, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    one(&mut ep, 10 * MS);
    assert_eq!(ep.poll_timeout(), Some(110 * MS));
    ep.handle_timeout(110 * MS);
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_N_CR_TIMEOUT"]);
    assert_eq!(ep.poll_timeout(), Some(300 * MS));
    ep.handle_timeout(300 * MS);
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_N_BS_TIMEOUT"]);
    assert_eq!(ep.poll_timeout(), None);
}
