//! Every addressing mode: transmitted ids, flags and address bytes (data and
//! flow control), receive acceptance, functional targets, asymmetric and
//! one-directional addresses, configuration errors.

use super::support::*;
use crate::error::ErrorCode;
use crate::frame::Frame;
use crate::isotp::{AddressConfig, AddressingMode, IsoTpAddress, IsoTpEndpoint, TargetAddressType};

const FUNC: Option<TargetAddressType> = Some(TargetAddressType::Functional);

fn ep(address: IsoTpAddress) -> IsoTpEndpoint {
    IsoTpEndpoint::new(address, params(|_| {})).unwrap()
}

/// Sends a 1-byte functional SF, a 2-byte physical SF and the FF of a 20-byte
/// payload; returns (id, extended, data) of each.
fn sent(ep: &mut IsoTpEndpoint) -> Vec<(u32, bool, Vec<u8>)> {
    ep.send(0, vec![0x3E], FUNC).unwrap();
    ep.send(0, vec![0x10, 0x03], None).unwrap();
    ep.send(0, payload(20), None).unwrap();
    let frames = drain(ep, 0)
        .iter()
        .map(|f| (f.id, f.is_extended(), f.data().to_vec()))
        .collect();
    events(ep);
    frames
}

/// Feeds `frame`; returns the payload and target it delivered, if any.
fn accepts(ep: &mut IsoTpEndpoint, frame: Frame) -> Option<(Vec<u8>, TargetAddressType)> {
    ep.handle_frame(0, &frame);
    let evs = events(ep);
    evs.first().map(|e| {
        let (p, t) = received_with_target(e);
        (p.to_vec(), t)
    })
}

#[test]
fn normal_11_bits() {
    let mut e = ep(IsoTpAddress::new(AddressConfig::normal(false, 0x123, 0x456)).unwrap());
    assert_eq!(
        sent(&mut e),
        [
            (0x123, false, vec![0x01, 0x3E]),
            (0x123, false, vec![0x02, 0x10, 0x03]),
            (0x123, false, vec![0x10, 20, 0, 1, 2, 3, 4, 5])
        ]
    );
    assert_eq!(
        accepts(&mut e, Frame::classic(0x456, false, &[0x01, 0x55])),
        Some((vec![0x55], TargetAddressType::Physical))
    );
    assert_eq!(
        accepts(&mut e, Frame::classic(0x456, true, &[0x01, 0x55])),
        None
    );
    assert_eq!(
        accepts(&mut e, Frame::classic(0x123, false, &[0x01, 0x55])),
        None
    );
}

#[test]
fn normal_29_bits() {
    let mut e =
        ep(IsoTpAddress::new(AddressConfig::normal(true, 0x1234_5678, 0x1ABC_DEF0)).unwrap());
    assert_eq!(sent(&mut e)[1], (0x1234_5678, true, vec![0x02, 0x10, 0x03]));
    assert_eq!(
        accepts(&mut e, Frame::classic(0x1ABC_DEF0, true, &[0x01, 0x55])),
        Some((vec![0x55], TargetAddressType::Physical))
    );
    assert_eq!(
        accepts(&mut e, Frame::classic(0x6F0, false, &[0x01, 0x55])),
        None
    );
}

#[test]
fn normal_fixed_29_bits() {
    let mut e = ep(IsoTpAddress::new(AddressConfig::normal_fixed(0x55, 0xAA)).unwrap());
    assert_eq!(
        sent(&mut e),
        [
            (0x18DB_55AA, true, vec![0x01, 0x3E]),
            (0x18DA_55AA, true, vec![0x02, 0x10, 0x03]),
            (0x18DA_55AA, true, vec![0x10, 20, 0, 1, 2, 3, 4, 5])
        ]
    );
    let phys = Frame::classic(0x18DA_AA55, true, &[0x01, 0x55]);
    assert_eq!(
        accepts(&mut e, phys),
        Some((vec![0x55], TargetAddressType::Physical))
    );
    let func = Frame::classic(0x18DB_AA55, true, &[0x01, 0x55]);
    assert_eq!(
        accepts(&mut e, func),
        Some((vec![0x55], TargetAddressType::Functional))
    );
    assert_eq!(
        accepts(&mut e, Frame::classic(0x18DA_55AA, true, &[0x01, 0x55])),
        None,
        "own tx id"
    );
    assert_eq!(
        accepts(&mut e, Frame::classic(0x18DA_AA56, true, &[0x01, 0x55])),
        None,
        "other sender"
    );
    // The FC of our 20-byte transfer comes back physically.
    e.handle_frame(0, &Frame::classic(0x18DA_AA55, true, &[0x30, 0, 0]));
    assert_eq!(drain(&mut e, 0).len(), 2);
}

#[test]
fn normal_fixed_with_custom_physical_and_functional_bits() {
    let config = AddressConfig {
        physical_id: Some(0x1CDA_1234),
        functional_id: Some(0x1CDB_0000),
        ..AddressConfig::normal_fixed(0x01, 0x02)
    };
    let mut e = ep(IsoTpAddress::new(config).unwrap());
    let frames = sent(&mut e);
    assert_eq!(frames[0].0, 0x1CDB_0102);
    assert_eq!(frames[1].0, 0x1CDA_0102);
    assert_eq!(
        accepts(&mut e, Frame::classic(0x1CDA_0201, true, &[0x01, 9])),
        Some((vec![9], TargetAddressType::Physical))
    );
    assert_eq!(
        accepts(&mut e, Frame::classic(0x18DA_0201, true, &[0x01, 9])),
        None
    );
}

#[test]
fn extended_11_and_29_bits() {
    for extended in [false, true] {
        let (txid, rxid) = if extended {
            (0x1800_0001, 0x1800_0002)
        } else {
            (0x701, 0x702)
        };
        let mut e = ep(IsoTpAddress::new(AddressConfig::extended(
            extended, txid, rxid, 0xF1, 0x10,
        ))
        .unwrap());
        assert_eq!(
            sent(&mut e),
            [
                (txid, extended, vec![0xF1, 0x01, 0x3E]),
                (txid, extended, vec![0xF1, 0x02, 0x10, 0x03]),
                (txid, extended, vec![0xF1, 0x10, 20, 0, 1, 2, 3, 4])
            ]
        );
        assert_eq!(
            accepts(&mut e, Frame::classic(rxid, extended, &[0x10, 0x01, 0x55])),
            Some((vec![0x55], TargetAddressType::Physical))
        );
        assert_eq!(
            accepts(&mut e, Frame::classic(rxid, extended, &[0x11, 0x01, 0x55])),
            None,
            "other target"
        );
        assert_eq!(accepts(&mut e, Frame::classic(rxid, extended, &[])), None);
        e.handle_frame(0, &Frame::classic(rxid, extended, &[0x10, 0x30, 0, 0]));
        let cfs = drain(&mut e, 0);
        assert_eq!(cfs[0].data(), [0xF1, 0x21, 5, 6, 7, 8, 9, 10]);
        assert_eq!(cfs.len(), 3);
        assert_eq!(cfs[2].data(), [0xF1, 0x23, 17, 18, 19]);
        events(&mut e);
        // Receiving: our FC carries the target address too.
        e.handle_frame(
            0,
            &Frame::classic(rxid, extended, &[0x10, 0x10, 9, 1, 2, 3, 4, 5]),
        );
        assert_eq!(one(&mut e, 0).data(), [0xF1, 0x30, 8, 0]);
        e.handle_frame(
            0,
            &Frame::classic(rxid, extended, &[0x10, 0x21, 6, 7, 8, 9]),
        );
        assert_eq!(received(&mut e), vec![vec![1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    }
}

#[test]
fn extended_addressing_single_frame_holds_6_bytes() {
    let mut e =
        ep(IsoTpAddress::new(AddressConfig::extended(false, 0x701, 0x702, 0xF1, 0x10)).unwrap());
    e.send(0, payload(6), None).unwrap();
    assert_eq!(one(&mut e, 0).data(), [0xF1, 0x06, 0, 1, 2, 3, 4, 5]);
    e.send(0, payload(7), None).unwrap();
    assert_eq!(one(&mut e, 0).data(), [0xF1, 0x10, 7, 0, 1, 2, 3, 4]);
    assert!(e.send(0, payload(7), FUNC).is_err());
    events(&mut e);
    // FF_DL 7 is the minimum with an address byte.
    e.handle_frame(
        0,
        &Frame::classic(0x702, false, &[0x10, 0x10, 6, 1, 2, 3, 4, 5]),
    );
    assert_eq!(codes(&mut e), ["ERR_ISOTP_INVALID_FRAME"]);
}

#[test]
fn mixed_11_bits() {
    let mut e = ep(IsoTpAddress::new(AddressConfig::mixed_11(0x7E0, 0x7E8, 0x99)).unwrap());
    assert_eq!(
        sent(&mut e),
        [
            (0x7E0, false, vec![0x99, 0x01, 0x3E]),
            (0x7E0, false, vec![0x99, 0x02, 0x10, 0x03]),
            (0x7E0, false, vec![0x99, 0x10, 20, 0, 1, 2, 3, 4])
        ]
    );
    assert_eq!(
        accepts(&mut e, Frame::classic(0x7E8, false, &[0x99, 0x01, 0x55])),
        Some((vec![0x55], TargetAddressType::Physical))
    );
    assert_eq!(
        accepts(&mut e, Frame::classic(0x7E8, false, &[0x98, 0x01, 0x55])),
        None
    );
    e.handle_frame(0, &Frame::classic(0x7E8, false, &[0x99, 0x30, 0, 0]));
    assert_eq!(drain(&mut e, 0)[0].data(), [0x99, 0x21, 5, 6, 7, 8, 9, 10]);
}

#[test]
fn mixed_29_bits() {
    let mut e = ep(IsoTpAddress::new(AddressConfig::mixed_29(0x55, 0xAA, 0x99)).unwrap());
    assert_eq!(
        sent(&mut e),
        [
            (0x18CD_55AA, true, vec![0x99, 0x01, 0x3E]),
            (0x18CE_55AA, true, vec![0x99, 0x02, 0x10, 0x03]),
            (0x18CE_55AA, true, vec![0x99, 0x10, 20, 0, 1, 2, 3, 4])
        ]
    );
    let phys = Frame::classic(0x18CE_AA55, true, &[0x99, 0x01, 0x55]);
    assert_eq!(
        accepts(&mut e, phys),
        Some((vec![0x55], TargetAddressType::Physical))
    );
    let func = Frame::classic(0x18CD_AA55, true, &[0x99, 0x01, 0x55]);
    assert_eq!(
        accepts(&mut e, func),
        Some((vec![0x55], TargetAddressType::Functional))
    );
    assert_eq!(
        accepts(
            &mut e,
            Frame::classic(0x18CE_AA55, true, &[0x98, 0x01, 0x55])
        ),
        None
    );
    // Multi-frame PCIs on the functional address are refused.
    e.handle_frame(
        0,
        &Frame::classic(0x18CD_AA55, true, &[0x99, 0x10, 20, 1, 2, 3, 4, 5]),
    );
    assert_eq!(codes(&mut e), ["ERR_ISOTP_INVALID_FRAME"]);
    assert!(!e.receiving());
}

#[test]
fn asymmetric_address_uses_each_side_for_its_direction() {
    let tx = AddressConfig::extended(false, 0x600, 0, 0xAB, 0);
    let rx_cfg = AddressConfig {
        rxid: Some(0x650),
        ..AddressConfig::new(AddressingMode::Normal11Bits)
    };
    let mut e = ep(IsoTpAddress::asymmetric(tx, rx_cfg).unwrap());
    e.send(0, payload(11), None).unwrap();
    assert_eq!(one(&mut e, 0).data(), [0xAB, 0x10, 11, 0, 1, 2, 3, 4]);
    e.handle_frame(0, &Frame::classic(0x650, false, &[0x30, 0, 0]));
    let cf = one(&mut e, 0);
    assert_eq!(
        (cf.id, cf.data()),
        (0x600, &[0xAB, 0x21, 5, 6, 7, 8, 9, 10][..])
    );
    e.handle_frame(
        0,
        &Frame::classic(0x650, false, &[0x10, 9, 1, 2, 3, 4, 5, 6]),
    );
    assert_eq!(one(&mut e, 0).data(), [0xAB, 0x30, 8, 0]);
    e.handle_frame(0, &Frame::classic(0x650, false, &[0x21, 7, 8, 9]));
    let evs = events(&mut e);
    assert_eq!(
        received_with_target(evs.last().unwrap()).0,
        [1, 2, 3, 4, 5, 6, 7, 8, 9]
    );
}

#[test]
fn receive_only_and_transmit_only_addresses() {
    let mut r = ep(IsoTpAddress::rx_only(AddressConfig {
        rxid: Some(0x10),
        ..AddressConfig::new(AddressingMode::Normal11Bits)
    })
    .unwrap());
    let err = r.send(0, vec![1], None).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert_eq!(
        accepts(&mut r, Frame::classic(0x10, false, &[0x01, 7])),
        Some((vec![7], TargetAddressType::Physical))
    );
    r.handle_frame(
        0,
        &Frame::classic(0x10, false, &[0x10, 9, 1, 2, 3, 4, 5, 6]),
    );
    assert!(
        drain(&mut r, 0).is_empty(),
        "no transmit address: no flow control"
    );
    let mut t = ep(IsoTpAddress::tx_only(AddressConfig {
        txid: Some(0x20),
        ..AddressConfig::new(AddressingMode::Normal11Bits)
    })
    .unwrap());
    assert_eq!(
        accepts(&mut t, Frame::classic(0x20, false, &[0x01, 7])),
        None
    );
    t.send(0, vec![1], None).unwrap();
    assert_eq!(one(&mut t, 0).id, 0x20);
}

#[test]
fn configuration_errors_name_the_missing_or_bad_field() {
    let cases: [(AddressConfig, &str); 7] = [
        (
            AddressConfig::normal(false, 0x800, 1),
            "txid 0x800 does not fit an 11-bit identifier",
        ),
        (AddressConfig::normal(false, 1, 0x800), "rxid 0x800"),
        (AddressConfig::normal(true, 0x2000_0000, 1), "29-bit"),
        (
            AddressConfig::new(AddressingMode::Normal11Bits),
            "needs txid",
        ),
        (
            AddressConfig {
                target_address: None,
                ..AddressConfig::extended(false, 1, 2, 3, 4)
            },
            "needs target_address",
        ),
        (
            AddressConfig {
                address_extension: None,
                ..AddressConfig::mixed_29(1, 2, 3)
            },
            "needs address_extension",
        ),
        (
            AddressConfig {
                physical_id: Some(0x2000_0000),
                ..AddressConfig::normal_fixed(1, 2)
            },
            "physical_id",
        ),
    ];
    for (config, text) in cases {
        let err = IsoTpAddress::new(config).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains(text), "{:?}: {}", config, err.message);
    }
    let rx_missing = AddressConfig {
        rxid: None,
        ..AddressConfig::extended(false, 1, 2, 3, 4)
    };
    assert!(IsoTpAddress::tx_only(rx_missing).is_ok());
    assert!(
        IsoTpAddress::rx_only(rx_missing)
            .unwrap_err()
            .message
            .contains("needs rxid for receiving")
    );
}
