//! CAN FD: TX_DL 12..64, SF_DL escape, FF_DL escape, FD padding, BRS, and
//! reception of FD frames whatever our own TX_DL.

use super::support::*;
use crate::isotp::IsoTpParams;

fn fd(tx_dl: u8) -> IsoTpParams {
    params(|p| {
        p.can_fd = true;
        p.tx_data_length = tx_dl;
    })
}

const FD_DLS: [u8; 7] = [12, 16, 20, 24, 32, 48, 64];

#[test]
fn short_single_frames_keep_the_classic_format_in_fd_frames() {
    for tx_dl in FD_DLS {
        let mut ep = endpoint(fd(tx_dl));
        ep.send(0, payload(5), None).unwrap();
        assert_fd(&one(&mut ep, 0), TXID, false, false, &[0x05, 0, 1, 2, 3, 4]);
    }
}

#[test]
fn single_frame_escape_for_8_or_more_bytes_pads_to_the_fd_length() {
    let mut ep = endpoint(fd(64));
    ep.send(0, payload(8), None).unwrap();
    assert_fd(
        &one(&mut ep, 0),
        TXID,
        false,
        false,
        &cat(&[&[0x00, 8], &payload(8), &[0xCC, 0xCC]]),
    );
    ep.send(0, payload(20), None).unwrap();
    assert_fd(
        &one(&mut ep, 0),
        TXID,
        false,
        false,
        &cat(&[&[0x00, 20], &payload(20), &[0xCC, 0xCC]]),
    );
    ep.send(0, payload(62), None).unwrap();
    assert_fd(
        &one(&mut ep, 0),
        TXID,
        false,
        false,
        &cat(&[&[0x00, 62], &payload(62)]),
    );
}

#[test]
fn largest_single_frame_per_tx_dl_and_first_frame_above_it() {
    for tx_dl in FD_DLS {
        let max = tx_dl as usize - 2;
        let mut ep = endpoint(fd(tx_dl));
        ep.send(0, payload(max), None).unwrap();
        assert_fd(
            &one(&mut ep, 0),
            TXID,
            false,
            false,
            &cat(&[&[0x00, max as u8], &payload(max)]),
        );
        ep.send(0, payload(max + 1), None).unwrap();
        let ff = one(&mut ep, 0);
        assert_fd(
            &ff,
            TXID,
            false,
            false,
            &cat(&[&[0x10, max as u8 + 1], &payload(tx_dl as usize - 2)]),
        );
    }
}

#[test]
fn segmented_transfer_for_every_tx_dl_has_exact_frames() {
    for tx_dl in FD_DLS {
        let dl = tx_dl as usize;
        let data = payload(200);
        let mut ep = endpoint(fd(tx_dl));
        ep.send(0, data.clone(), None).unwrap();
        assert_fd(
            &one(&mut ep, 0),
            TXID,
            false,
            false,
            &cat(&[&[0x10, 200], &data[..dl - 2]]),
        );
        ep.handle_frame(0, &rx(&[0x30, 0, 0]));
        let cfs = drain(&mut ep, 0);
        let chunks: Vec<&[u8]> = data[dl - 2..].chunks(dl - 1).collect();
        assert_eq!(cfs.len(), chunks.len(), "TX_DL {tx_dl}");
        for (i, (frame, chunk)) in cfs.iter().zip(&chunks).enumerate() {
            let mut expected = cat(&[&[0x20 | ((i + 1) & 0x0F) as u8], chunk]);
            let padded = crate::dlc::fd_padded_len(expected.len() as u8).unwrap() as usize;
            expected.resize(padded.max(expected.len()), 0xCC);
            assert_fd(frame, TXID, false, false, &expected);
        }
    }
}

#[test]
fn last_cf_of_up_to_8_bytes_is_padded_only_with_tx_padding() {
    let mut ep = endpoint(fd(16));
    ep.send(0, payload(14 + 3), None).unwrap();
    one(&mut ep, 0);
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    assert_fd(&one(&mut ep, 0), TXID, false, false, &[0x21, 14, 15, 16]);
    let mut ep = endpoint(params(|p| {
        *p = fd(16);
        p.tx_padding = Some(0x00);
    }));
    ep.send(0, payload(14 + 3), None).unwrap();
    one(&mut ep, 0);
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    assert_fd(
        &one(&mut ep, 0),
        TXID,
        false,
        false,
        &[0x21, 14, 15, 16, 0, 0, 0, 0],
    );
}

#[test]
fn first_frame_escape_in_fd() {
    let mut ep = endpoint(fd(64));
    ep.send(0, payload(5000), None).unwrap();
    assert_fd(
        &one(&mut ep, 0),
        TXID,
        false,
        false,
        &cat(&[&[0x10, 0, 0, 0, 0x13, 0x88], &payload(58)]),
    );
    ep.send(0, payload(70000), None).unwrap();
    ep.stop_sending();
    ep.send(0, payload(4095), None).unwrap();
    assert_fd(
        &one(&mut ep, 0),
        TXID,
        false,
        false,
        &cat(&[&[0x1F, 0xFF], &payload(62)]),
    );
}

#[test]
fn bitrate_switch_and_extended_ids_set_their_flags() {
    let address = crate::isotp::IsoTpAddress::new(crate::isotp::AddressConfig::normal(
        true,
        0x18DA_F110,
        0x18DA_10F1,
    ))
    .unwrap();
    let mut ep = crate::isotp::IsoTpEndpoint::new(
        address,
        params(|p| {
            *p = fd(12);
            p.bitrate_switch = true;
        }),
    )
    .unwrap();
    ep.send(0, payload(3), None).unwrap();
    assert_fd(&one(&mut ep, 0), 0x18DA_F110, true, true, &[0x03, 0, 1, 2]);
}

#[test]
fn tx_data_min_length_above_8_forces_the_escape_and_rounds_up() {
    let mut ep = endpoint(params(|p| {
        *p = fd(64);
        p.tx_data_min_length = Some(16);
    }));
    ep.send(0, vec![0xAB], None).unwrap();
    let expected = cat(&[&[0x00, 0x01, 0xAB], &[0xCC; 13]]);
    assert_fd(&one(&mut ep, 0), TXID, false, false, &expected);
    let mut ep = endpoint(params(|p| {
        *p = fd(64);
        p.tx_data_min_length = Some(12);
        p.tx_padding = Some(0x11);
    }));
    ep.send(0, payload(15), None).unwrap();
    let expected = cat(&[&[0x00, 15], &payload(15), &[0x11; 3]]);
    assert_fd(&one(&mut ep, 0), TXID, false, false, &expected);
}

#[test]
fn our_flow_control_is_an_fd_frame_when_can_fd_is_set() {
    let mut ep = endpoint(fd(64));
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    assert_fd(&one(&mut ep, 0), TXID, false, false, &[0x30, 8, 0]);
}

#[test]
fn fd_frames_are_received_whatever_our_tx_dl() {
    let mut ep = endpoint(params(|p| p.blocksize = 0));
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x00, 10], &payload(10)])));
    assert_eq!(received(&mut ep), vec![payload(10)]);
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x00, 9], &payload(9), &[0xCC]])));
    assert_eq!(received(&mut ep), vec![payload(9)]);
    let data = payload(300);
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x11, 0x2C], &data[..62]])));
    assert_classic(&one(&mut ep, 0), TXID, &[0x30, 0, 0]);
    let rest = &data[62..];
    for (i, chunk) in rest.chunks(63).enumerate() {
        let mut frame = cat(&[&[0x20 | ((i + 1) & 0x0F) as u8], chunk]);
        let len = crate::dlc::fd_padded_len(frame.len() as u8).unwrap() as usize;
        frame.resize(len, 0xCC);
        ep.handle_frame(0, &rx_fd(&frame));
    }
    assert_eq!(received(&mut ep), vec![data]);
}

#[test]
fn received_escaped_first_frame_in_fd() {
    let mut ep = endpoint(params(|p| {
        p.blocksize = 0;
        p.max_frame_size = 100_000;
    }));
    let data = payload(70000);
    ep.handle_frame(
        0,
        &rx_fd(&cat(&[&[0x10, 0, 0, 1, 0x11, 0x70], &data[..58]])),
    );
    one(&mut ep, 0);
    for (i, chunk) in data[58..].chunks(63).enumerate() {
        let mut frame = cat(&[&[0x20 | ((i + 1) & 0x0F) as u8], chunk]);
        frame.resize(
            crate::dlc::fd_padded_len(frame.len() as u8).unwrap() as usize,
            0xCC,
        );
        ep.handle_frame(0, &rx_fd(&frame));
    }
    assert_eq!(received(&mut ep), vec![data]);
}

#[test]
fn fd_single_frame_rules() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x05], &payload(11)]))); // no escape in a 12-byte frame
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x00, 0], &payload(10)]))); // SF_DL 0
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x00, 11], &payload(10)]))); // SF_DL beyond the frame
    ep.handle_frame(0, &rx_fd(&[0x00, 3, 1, 2, 3])); // escape in a frame of 8 bytes or less
    assert_eq!(
        codes(&mut ep),
        [
            "ERR_ISOTP_MISSING_ESCAPE_SEQUENCE",
            "ERR_ISOTP_INVALID_FRAME",
            "ERR_ISOTP_INVALID_FRAME",
            "ERR_ISOTP_INVALID_FRAME"
        ]
    );
}

#[test]
fn fd_first_frame_below_ff_dl_min_is_ignored() {
    let mut ep = endpoint(params(|_| {}));
    // RX_DL 64: FF_DL must be at least 63, anything shorter fits a single frame.
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x10, 62], &payload(62)])));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_INVALID_FRAME"]);
    ep.handle_frame(0, &rx_fd(&cat(&[&[0x10, 63], &payload(62)])));
    assert_eq!(codes(&mut ep), Vec::<&str>::new());
    assert!(ep.receiving());
}

#[test]
fn fd_with_an_address_byte_shifts_every_limit_by_one() {
    use crate::frame::Frame;
    use crate::isotp::{AddressConfig, IsoTpAddress, IsoTpEndpoint};
    let address =
        IsoTpAddress::new(AddressConfig::extended(false, 0x700, 0x701, 0xEE, 0x11)).unwrap();
    let mut ep = IsoTpEndpoint::new(address, fd(64)).unwrap();
    ep.send(0, payload(6), None).unwrap();
    assert_fd(
        &one(&mut ep, 0),
        0x700,
        false,
        false,
        &cat(&[&[0xEE, 0x06], &payload(6)]),
    );
    ep.send(0, payload(7), None).unwrap();
    assert_fd(
        &one(&mut ep, 0),
        0x700,
        false,
        false,
        &cat(&[&[0xEE, 0x00, 7], &payload(7), &[0xCC, 0xCC]]),
    );
    ep.send(0, payload(61), None).unwrap();
    assert_fd(
        &one(&mut ep, 0),
        0x700,
        false,
        false,
        &cat(&[&[0xEE, 0x00, 61], &payload(61)]),
    );
    ep.send(0, payload(62), None).unwrap();
    assert_fd(
        &one(&mut ep, 0),
        0x700,
        false,
        false,
        &cat(&[&[0xEE, 0x10, 62], &payload(61)]),
    );
    ep.handle_frame(0, &Frame::classic(0x701, false, &[0x11, 0x30, 0, 0]));
    assert_fd(&one(&mut ep, 0), 0x700, false, false, &[0xEE, 0x21, 61]);
    events(&mut ep);
    // Receiving: SF escape and FF_DL minimum (RX_DL 64 - 2) with the address byte.
    ep.handle_frame(
        0,
        &Frame::fd(0x701, false, &cat(&[&[0x11, 0x00, 9], &payload(9)]), false),
    );
    assert_eq!(received(&mut ep), vec![payload(9)]);
    ep.handle_frame(
        0,
        &Frame::fd(
            0x701,
            false,
            &cat(&[&[0x11, 0x10, 61], &payload(61)]),
            false,
        ),
    );
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_INVALID_FRAME"]);
    ep.handle_frame(
        0,
        &Frame::fd(
            0x701,
            false,
            &cat(&[&[0x11, 0x10, 62], &payload(61)]),
            false,
        ),
    );
    assert_fd(&one(&mut ep, 0), 0x700, false, false, &[0xEE, 0x30, 8, 0]);
    ep.handle_frame(0, &Frame::fd(0x701, false, &[0x11, 0x21, 61], false));
    assert_eq!(received(&mut ep), vec![payload(62)]);
}
