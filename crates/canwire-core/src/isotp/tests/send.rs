//! Sending: single frames, segmentation, padding, minimum length, FF_DL escape.

use super::support::*;
use crate::error::ErrorCode;
use crate::isotp::{IsoTpEvent, TargetAddressType, TransferId};

#[test]
fn single_frames_of_every_classic_size_are_as_short_as_possible() {
    for n in 1..=7usize {
        let mut ep = endpoint(params(|_| {}));
        let id = ep.send(0, payload(n), None).unwrap();
        let mut expected = vec![n as u8];
        expected.extend(payload(n));
        assert_classic(&one(&mut ep, 0), TXID, &expected);
        assert_eq!(events(&mut ep), vec![IsoTpEvent::TransmitComplete { id }]);
        assert!(ep.poll_transmit(0).is_none());
        assert!(!ep.transmitting());
    }
}

#[test]
fn single_frame_with_tx_padding_is_padded_to_8() {
    let mut ep = endpoint(params(|p| p.tx_padding = Some(0xAA)));
    ep.send(0, vec![0x11, 0x22], None).unwrap();
    assert_classic(
        &one(&mut ep, 0),
        TXID,
        &[0x02, 0x11, 0x22, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA],
    );
}

#[test]
fn tx_data_min_length_pads_with_0xcc_without_tx_padding() {
    let mut ep = endpoint(params(|p| p.tx_data_min_length = Some(6)));
    ep.send(0, vec![0x11], None).unwrap();
    assert_classic(
        &one(&mut ep, 0),
        TXID,
        &[0x01, 0x11, 0xCC, 0xCC, 0xCC, 0xCC],
    );
    // Longer frames are not cut or padded further.
    ep.send(0, payload(7), None).unwrap();
    assert_classic(&one(&mut ep, 0), TXID, &[0x07, 0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn tx_data_min_length_uses_tx_padding_byte_and_padding_still_fills_8() {
    let mut ep = endpoint(params(|p| {
        p.tx_data_min_length = Some(4);
        p.tx_padding = Some(0x55);
    }));
    ep.send(0, vec![0x11], None).unwrap();
    assert_classic(
        &one(&mut ep, 0),
        TXID,
        &[0x01, 0x11, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55],
    );
}

#[test]
fn first_frame_waits_for_flow_control_then_consecutive_frames_follow() {
    let mut ep = endpoint(params(|_| {}));
    let id = ep.send(0, payload(17), None).unwrap();
    assert_classic(&one(&mut ep, 0), TXID, &[0x10, 17, 0, 1, 2, 3, 4, 5]);
    assert!(ep.poll_transmit(0).is_none(), "no CF before the FC");
    assert!(ep.transmitting());
    assert_eq!(events(&mut ep), vec![]);
    ep.handle_frame(MS, &rx(&[0x30, 0, 0]));
    let frames = drain(&mut ep, MS);
    assert_eq!(frames.len(), 2);
    assert_classic(&frames[0], TXID, &[0x21, 6, 7, 8, 9, 10, 11, 12]);
    assert_classic(&frames[1], TXID, &[0x22, 13, 14, 15, 16]);
    assert_eq!(events(&mut ep), vec![IsoTpEvent::TransmitComplete { id }]);
    assert!(!ep.transmitting());
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn last_consecutive_frame_is_padded_when_padding_is_set() {
    let mut ep = endpoint(params(|p| p.tx_padding = Some(0x00)));
    ep.send(0, payload(10), None).unwrap();
    assert_classic(&one(&mut ep, 0), TXID, &[0x10, 10, 0, 1, 2, 3, 4, 5]);
    ep.handle_frame(0, &rx(&[0x30, 0, 0, 0, 0, 0, 0, 0]));
    assert_classic(&one(&mut ep, 0), TXID, &[0x21, 6, 7, 8, 9, 0, 0, 0]);
}

#[test]
fn sequence_number_wraps_from_15_to_0() {
    let mut ep = endpoint(params(|_| {}));
    ep.send(0, payload(6 + 7 * 18), None).unwrap();
    one(&mut ep, 0);
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    let pcis: Vec<u8> = drain(&mut ep, 0).iter().map(|f| f.data[0]).collect();
    let expected: Vec<u8> = (1..=18u8).map(|i| 0x20 | (i & 0x0F)).collect();
    assert_eq!(pcis, expected);
    assert_eq!(pcis[14..17], [0x2F, 0x20, 0x21]);
}

#[test]
fn first_frame_length_encoding_at_4095_4096_and_10000() {
    let mut ep = endpoint(params(|_| {}));
    ep.send(0, payload(4095), None).unwrap();
    assert_classic(&one(&mut ep, 0), TXID, &[0x1F, 0xFF, 0, 1, 2, 3, 4, 5]);
    ep.stop_sending();
    ep.send(0, payload(4096), None).unwrap();
    assert_classic(
        &one(&mut ep, 0),
        TXID,
        &[0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0, 1],
    );
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    assert_classic(&drain(&mut ep, 0)[0], TXID, &[0x21, 2, 3, 4, 5, 6, 7, 8]);
    ep.send(0, payload(10000), None).unwrap();
    assert_classic(
        &one(&mut ep, 0),
        TXID,
        &[0x10, 0x00, 0x00, 0x00, 0x27, 0x10, 0, 1],
    );
}

#[test]
fn escaped_transfer_of_10000_bytes_sends_every_byte_in_order() {
    let mut ep = endpoint(params(|_| {}));
    let data = payload(10000);
    ep.send(0, data.clone(), None).unwrap();
    let ff = one(&mut ep, 0);
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    let mut got = ff.data()[6..].to_vec();
    let cfs = drain(&mut ep, 0);
    assert_eq!(cfs.len(), (10000 - 2usize).div_ceil(7));
    for f in &cfs {
        got.extend_from_slice(&f.data()[1..]);
    }
    assert_eq!(got, data);
}

#[test]
fn empty_payload_is_rejected() {
    let mut ep = endpoint(params(|_| {}));
    let err = ep.send(0, Vec::new(), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains("at least 1 byte"), "{}", err.message);
}

#[test]
fn functional_addressing_allows_single_frames_only() {
    let mut ep = endpoint(params(|_| {}));
    let err = ep
        .send(0, payload(8), Some(TargetAddressType::Functional))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains("at most 7 bytes"), "{}", err.message);
    ep.send(0, payload(7), Some(TargetAddressType::Functional))
        .unwrap();
    assert_classic(&one(&mut ep, 0), TXID, &[0x07, 0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn default_target_address_type_applies_when_none_is_given() {
    let mut ep = endpoint(params(|p| {
        p.default_target_address_type = TargetAddressType::Functional
    }));
    assert!(ep.send(0, payload(8), None).is_err());
    assert!(
        ep.send(0, payload(8), Some(TargetAddressType::Physical))
            .is_ok()
    );
}

#[test]
fn queued_transfers_go_one_after_another_with_increasing_ids() {
    let mut ep = endpoint(params(|_| {}));
    let a = ep.send(0, payload(9), None).unwrap();
    let b = ep.send(0, vec![0xEE], None).unwrap();
    assert_eq!((a, b), (TransferId(1), TransferId(2)));
    assert_classic(&one(&mut ep, 0), TXID, &[0x10, 9, 0, 1, 2, 3, 4, 5]);
    assert!(
        ep.poll_transmit(0).is_none(),
        "the second waits for the first"
    );
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    let frames = drain(&mut ep, 0);
    assert_eq!(frames.len(), 2);
    assert_classic(&frames[0], TXID, &[0x21, 6, 7, 8]);
    assert_classic(&frames[1], TXID, &[0x01, 0xEE]);
    assert_eq!(
        events(&mut ep),
        vec![
            IsoTpEvent::TransmitComplete { id: a },
            IsoTpEvent::TransmitComplete { id: b }
        ]
    );
}
