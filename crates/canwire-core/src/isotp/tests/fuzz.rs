//! Fuzz-style robustness: thousands of pseudo-random frames, sends, timeouts
//! and control calls from a fixed-seed xorshift generator. Nothing may panic,
//! and everything the endpoint transmits must be a valid frame on its own id.

use super::support::*;
use crate::frame::{Frame, FrameFlags};
use crate::isotp::{AddressConfig, IsoTpAddress, IsoTpEndpoint, IsoTpParams, TargetAddressType};
use crate::test_rng::XorShift;

/// A frame biased towards things the endpoint will look at closely.
fn random_frame(r: &mut XorShift, ids: &[(u32, bool)], prefix: Option<u8>, next_seq: u8) -> Frame {
    let (id, extended) = if r.chance(85) {
        ids[r.below(ids.len() as u64) as usize]
    } else {
        (r.below(0x800) as u32, false)
    };
    let mut frame = Frame {
        id,
        ..Frame::default()
    };
    frame.flags.set(FrameFlags::EXTENDED, extended);
    let fd = r.chance(30);
    frame.flags.set(FrameFlags::FD, fd);
    if r.chance(2) {
        frame.flags.set(FrameFlags::REMOTE, true);
    }
    let lens: &[u8] = if fd {
        &[0, 1, 2, 3, 5, 8, 12, 16, 20, 24, 32, 48, 64]
    } else {
        &[0, 1, 2, 3, 4, 5, 6, 7, 8]
    };
    frame.len = if r.chance(3) {
        r.below(256) as u8
    } else {
        lens[r.below(lens.len() as u64) as usize]
    };
    for b in frame.data.iter_mut() {
        *b = r.next() as u8;
    }
    let mut at = 0;
    if let Some(p) = prefix
        && r.chance(90)
    {
        frame.data[0] = p;
        at = 1;
    }
    let pci = match r.below(10) {
        0..=1 => r.below(8) as u8,     // single frame, any SF_DL nibble
        2 => 0x00,                     // escape
        3 => 0x10 | r.below(2) as u8,  // first frame, short lengths
        4 => 0x10,                     // first frame, maybe escaped
        5..=6 => 0x20 | next_seq,      // the CF the receiver wants
        7 => 0x20 | r.below(16) as u8, // any CF
        8 => 0x30 | r.below(4) as u8,  // flow control, sometimes reserved
        _ => r.next() as u8,           // anything
    };
    frame.data[at] = pci;
    if pci == 0x10 && r.chance(50) {
        frame.data[at + 1..at + 6].copy_from_slice(&[0, 0, 0, r.below(2) as u8, r.next() as u8]);
    }
    if pci >> 4 == 3 && r.chance(70) {
        frame.data[at + 2] = [0, 1, 0xF3, 0x80][r.below(4) as usize];
    }
    frame
}

fn check_tx(frame: &Frame, ep: &IsoTpEndpoint) {
    assert_eq!(frame.validate(), Ok(()), "{frame:?}");
    let tx = ep
        .address()
        .tx()
        .expect("only endpoints with a tx side transmit");
    assert!(frame.id == tx.physical_id || frame.id == tx.functional_id);
    assert_eq!(frame.is_extended(), tx.extended);
    if let Some(p) = tx.prefix {
        assert_eq!(frame.data[0], p);
    }
}

fn run(seed: u64, address: IsoTpAddress, params: IsoTpParams, steps: usize) {
    let mut r = XorShift(seed);
    let rx = *address.rx().unwrap();
    let tx = *address.tx().unwrap();
    let ids = [
        (rx.physical_id, rx.extended),
        (rx.functional_id, rx.extended),
        (tx.physical_id, tx.extended),
    ];
    let mut ep = IsoTpEndpoint::new(address, params).unwrap();
    let mut now = 0u64;
    let mut seq = 1u8;
    for _ in 0..steps {
        match r.below(100) {
            0..=69 => {
                let f = random_frame(&mut r, &ids, rx.prefix, seq);
                if f.data[rx.prefix_len()] >> 4 == 2 {
                    seq = (seq + 1) & 0x0F;
                }
                if f.data[rx.prefix_len()] >> 4 == 1 {
                    seq = 1;
                }
                ep.handle_frame(now, &f);
            }
            70..=77 => {
                let len = [0, 1, 7, 8, 62, 63, 100, 4095, 5000][r.below(9) as usize];
                let target = if r.chance(20) {
                    TargetAddressType::Functional
                } else {
                    TargetAddressType::Physical
                };
                let _ = ep.send(now, vec![0x5A; len], Some(target));
            }
            78..=89 => {
                now += [0, 1, 100_000, MS, 50 * MS, 1500 * MS][r.below(6) as usize];
                ep.handle_timeout(now);
            }
            90..=94 => {
                if let Some(t) = ep.poll_timeout() {
                    now = now.max(t);
                    ep.handle_timeout(now);
                }
            }
            95 => ep.stop_sending(),
            96 => ep.stop_receiving(),
            _ => {
                let _ = (ep.available(), ep.transmitting(), ep.receiving());
            }
        }
        for _ in 0..8 {
            let Some(frame) = ep.poll_transmit(now) else {
                break;
            };
            check_tx(&frame, &ep);
        }
        while ep.poll_event().is_some() {}
    }
}

#[test]
fn random_frames_never_panic_in_any_addressing_mode() {
    let addresses = [
        AddressConfig::normal(false, TXID, RXID),
        AddressConfig::normal(true, 0x18DA_F110, 0x18DA_10F1),
        AddressConfig::normal_fixed(0x10, 0xF1),
        AddressConfig::extended(false, 0x700, 0x701, 0x55, 0xAA),
        AddressConfig::extended(true, 0x1000, 0x1001, 0x55, 0xAA),
        AddressConfig::mixed_11(0x600, 0x601, 0x42),
        AddressConfig::mixed_29(0x10, 0xF1, 0x42),
    ];
    for (i, config) in addresses.into_iter().enumerate() {
        let address = IsoTpAddress::new(config).unwrap();
        run(
            0x9E37_79B9_7F4A_7C15 ^ i as u64,
            address,
            params(|p| p.wftmax = 2),
            20_000,
        );
    }
}

#[test]
fn random_frames_never_panic_with_fd_padding_listen_and_rate_limits() {
    let variants: [fn(&mut IsoTpParams); 5] = [
        |p| {
            p.can_fd = true;
            p.tx_data_length = 64;
            p.blocksize = 1;
        },
        |p| {
            p.can_fd = true;
            p.bitrate_switch = true;
            p.tx_data_length = 12;
            p.tx_data_min_length = Some(12);
            p.tx_padding = Some(0);
        },
        |p| {
            p.listen_mode = true;
            p.max_frame_size = u32::MAX;
        },
        |p| {
            p.rate_limit_enable = true;
            p.rate_limit_max_bitrate = 10_000;
            p.stmin = 0xF9;
            p.max_frame_size = 10;
        },
        |p| {
            p.override_receiver_stmin_ns = Some(0);
            p.tx_data_min_length = Some(1);
            p.wftmax = 1;
        },
    ];
    for (i, change) in variants.into_iter().enumerate() {
        let address = IsoTpAddress::new(AddressConfig::extended(false, TXID, RXID, 1, 2)).unwrap();
        run(0xDEAD_BEEF_0000 + i as u64, address, params(change), 20_000);
        run(
            0xFEED_0000 + i as u64,
            normal_address(),
            params(change),
            20_000,
        );
    }
}

#[test]
fn huge_announced_lengths_do_not_allocate_up_front() {
    let mut ep = endpoint(params(|p| p.max_frame_size = u32::MAX));
    ep.handle_frame(0, &rx(&[0x10, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2]));
    assert!(ep.receiving());
    assert_eq!(one(&mut ep, 0).data(), [0x30, 8, 0]);
}
