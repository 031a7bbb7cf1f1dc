//! Receiving: single frames, first frames and our flow control (content,
//! padding, block size, STmin), reassembly, escapes and `max_frame_size`.

use super::support::*;
use crate::isotp::{IsoTpEvent, TargetAddressType};

#[test]
fn single_frame_is_delivered_and_padding_is_dropped() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x03, 0x11, 0x22, 0x33]));
    assert!(ep.available());
    ep.handle_frame(0, &rx(&[0x02, 0x44, 0x55, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC]));
    let evs = events(&mut ep);
    assert_eq!(
        received_with_target(&evs[0]),
        (&[0x11, 0x22, 0x33][..], TargetAddressType::Physical)
    );
    assert_eq!(received_with_target(&evs[1]).0, [0x44, 0x55]);
    assert!(!ep.available());
    assert!(
        drain(&mut ep, 0).is_empty(),
        "a single frame needs no flow control"
    );
}

#[test]
fn first_frame_is_answered_with_our_flow_control() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    assert!(ep.receiving());
    assert_classic(&one(&mut ep, 0), TXID, &[0x30, 0x08, 0x00]);
    assert_eq!(events(&mut ep), vec![]);
}

#[test]
fn flow_control_carries_blocksize_and_stmin_and_is_padded() {
    let mut ep = endpoint(params(|p| {
        p.blocksize = 3;
        p.stmin = 0xF5;
        p.tx_padding = Some(0x77);
    }));
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    assert_classic(
        &one(&mut ep, 0),
        TXID,
        &[0x30, 0x03, 0xF5, 0x77, 0x77, 0x77, 0x77, 0x77],
    );
    let mut ep = endpoint(params(|p| {
        p.stmin = 0x7F;
        p.tx_data_min_length = Some(5);
    }));
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    assert_classic(&one(&mut ep, 0), TXID, &[0x30, 0x08, 0x7F, 0xCC, 0xCC]);
}

#[test]
fn multi_frame_reception_with_a_flow_control_after_every_block() {
    let mut ep = endpoint(params(|p| p.blocksize = 2));
    let data = payload(6 + 7 * 4 + 3);
    ep.handle_frame(0, &rx(&cat(&[&[0x10, data.len() as u8], &data[..6]])));
    assert_classic(&one(&mut ep, 0), TXID, &[0x30, 2, 0]);
    let mut offset = 6;
    for seq in 1..=5u8 {
        let end = (offset + 7).min(data.len());
        ep.handle_frame(
            seq as u64 * MS,
            &rx(&cat(&[&[0x20 | seq], &data[offset..end]])),
        );
        offset = end;
        let fcs = drain(&mut ep, seq as u64 * MS);
        if seq == 2 || seq == 4 {
            assert_eq!(fcs.len(), 1, "FC after CF {seq}");
            assert_classic(&fcs[0], TXID, &[0x30, 2, 0]);
        } else {
            assert!(fcs.is_empty(), "no FC after CF {seq}");
        }
    }
    assert_eq!(received(&mut ep), vec![data]);
    assert!(!ep.receiving());
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn blocksize_0_sends_a_single_flow_control() {
    let mut ep = endpoint(params(|p| p.blocksize = 0));
    let data = payload(200);
    ep.handle_frame(0, &rx(&cat(&[&[0x10, 200], &data[..6]])));
    assert_classic(&one(&mut ep, 0), TXID, &[0x30, 0, 0]);
    for (i, chunk) in data[6..].chunks(7).enumerate() {
        let seq = ((i + 1) & 0x0F) as u8;
        ep.handle_frame(0, &rx(&cat(&[&[0x20 | seq], chunk])));
        assert!(ep.poll_transmit(0).is_none());
    }
    assert_eq!(received(&mut ep), vec![data]);
}

#[test]
fn padded_last_consecutive_frame_keeps_only_the_announced_bytes() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x10, 0x08, 1, 2, 3, 4, 5, 6]));
    one(&mut ep, 0);
    ep.handle_frame(0, &rx(&[0x21, 7, 8, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC]));
    assert_eq!(received(&mut ep), vec![vec![1, 2, 3, 4, 5, 6, 7, 8]]);
}

#[test]
fn escaped_first_frame_of_4096_bytes_is_received() {
    let mut ep = endpoint(params(|p| {
        p.max_frame_size = 5000;
        p.blocksize = 0;
    }));
    let data = payload(4096);
    ep.handle_frame(0, &rx(&cat(&[&[0x10, 0, 0, 0, 0x10, 0x00], &data[..2]])));
    assert_classic(&one(&mut ep, 0), TXID, &[0x30, 0, 0]);
    for (i, chunk) in data[2..].chunks(7).enumerate() {
        ep.handle_frame(0, &rx(&cat(&[&[0x20 | ((i + 1) & 0x0F) as u8], chunk])));
    }
    assert_eq!(received(&mut ep), vec![data]);
}

#[test]
fn max_frame_size_answers_overflow_and_reports_frame_too_long() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x1F, 0xFF, 0, 1, 2, 3, 4, 5]));
    assert_classic(&one(&mut ep, 0), TXID, &[0x30, 8, 0]);
    ep.stop_receiving();
    ep.handle_frame(0, &rx(&[0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0, 1]));
    assert_classic(&one(&mut ep, 0), TXID, &[0x32, 0, 0]);
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_FRAME_TOO_LONG"]);
    assert!(!ep.receiving());
    let mut ep = endpoint(params(|p| {
        p.max_frame_size = 10;
        p.tx_padding = Some(0xAA);
    }));
    ep.handle_frame(0, &rx(&[0x10, 11, 0, 1, 2, 3, 4, 5]));
    assert_classic(
        &one(&mut ep, 0),
        TXID,
        &[0x32, 0, 0, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA],
    );
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_FRAME_TOO_LONG"]);
    ep.handle_frame(0, &rx(&[0x21, 6, 7, 8, 9, 10]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_UNEXPECTED_CF"]);
}

#[test]
fn shortest_legal_first_frame_is_accepted() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x10, 8, 1, 2, 3, 4, 5, 6]));
    one(&mut ep, 0);
    ep.handle_frame(0, &rx(&[0x21, 7, 8]));
    assert_eq!(received(&mut ep), vec![vec![1, 2, 3, 4, 5, 6, 7, 8]]);
}

#[test]
fn n_cr_runs_from_our_flow_control_and_restarts_with_each_cf() {
    let mut ep = endpoint(params(|p| p.rx_consecutive_frame_timeout_ns = 100 * MS));
    ep.handle_frame(0, &rx(&[0x10, 30, 0, 1, 2, 3, 4, 5]));
    assert_eq!(ep.poll_timeout(), Some(0), "our FC is due now");
    one(&mut ep, 3 * MS);
    assert_eq!(ep.poll_timeout(), Some(103 * MS));
    ep.handle_frame(50 * MS, &rx(&[0x21, 6, 7, 8, 9, 10, 11, 12]));
    assert_eq!(ep.poll_timeout(), Some(150 * MS));
    ep.handle_timeout(150 * MS - 1);
    assert!(ep.receiving());
    ep.handle_timeout(150 * MS);
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_N_CR_TIMEOUT"]);
    assert!(!ep.receiving());
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn received_event_reports_the_functional_target() {
    let address =
        crate::isotp::IsoTpAddress::new(crate::isotp::AddressConfig::normal_fixed(0x33, 0x44))
            .unwrap();
    let mut ep = crate::isotp::IsoTpEndpoint::new(address, params(|_| {})).unwrap();
    ep.handle_frame(
        0,
        &crate::frame::Frame::classic(0x18DB_4433, true, &[0x01, 0x3E]),
    );
    let evs = events(&mut ep);
    assert_eq!(
        evs,
        vec![IsoTpEvent::Received {
            payload: vec![0x3E],
            target_address_type: TargetAddressType::Functional
        }]
    );
}
