//! Two endpoints back to back on a virtual clock: every size from 1 to 4095
//! bytes plus 5000 and 70000, several block sizes and STmin values. Checks
//! each payload and that every CF left exactly when STmin allowed, never early.

use super::support::*;
use crate::frame::Frame;
use crate::isotp::{
    AddressConfig, IsoTpAddress, IsoTpEndpoint, IsoTpEvent, IsoTpParams, stmin_to_ns,
};

struct Wire {
    a: IsoTpEndpoint,
    b: IsoTpEndpoint,
    now: u64,
    cfs_checked: usize,
}

fn pair(a_params: IsoTpParams, b_params: IsoTpParams) -> Wire {
    let a_addr = IsoTpAddress::new(AddressConfig::normal(false, 0x7E0, 0x7E8)).unwrap();
    let b_addr = IsoTpAddress::new(AddressConfig::normal(false, 0x7E8, 0x7E0)).unwrap();
    Wire {
        a: IsoTpEndpoint::new(a_addr, a_params).unwrap(),
        b: IsoTpEndpoint::new(b_addr, b_params).unwrap(),
        now: 0,
        cfs_checked: 0,
    }
}

impl Wire {
    /// Sends `data` from a to b and runs the clock until b has it.
    fn transfer(&mut self, data: &[u8]) {
        let id = self.a.send(self.now, data.to_vec(), None).unwrap();
        let stmin_ns = self
            .a
            .params()
            .override_receiver_stmin_ns
            .unwrap_or(stmin_to_ns(self.b.params().stmin));
        let mut last_cf: Option<u64> = None;
        let mut last_fc: u64 = self.now;
        let (mut sent, mut got) = (false, None);
        loop {
            loop {
                let mut progressed = false;
                while let Some(frame) = self.a.poll_transmit(self.now) {
                    if frame.data[0] >> 4 == 2 {
                        let due = last_cf.map_or(last_fc, |t| (t + stmin_ns).max(last_fc));
                        assert_eq!(
                            self.now,
                            due,
                            "CF {:#x} of {} bytes left at the wrong time",
                            frame.data[0],
                            data.len()
                        );
                        last_cf = Some(self.now);
                        self.cfs_checked += 1;
                    }
                    assert_eq!(frame.validate(), Ok(()));
                    self.b.handle_frame(self.now, &frame);
                    progressed = true;
                }
                while let Some(frame) = self.b.poll_transmit(self.now) {
                    last_fc = self.now;
                    self.a.handle_frame(self.now, &frame);
                    progressed = true;
                }
                if !progressed {
                    break;
                }
            }
            while let Some(e) = self.a.poll_event() {
                assert_eq!(e, IsoTpEvent::TransmitComplete { id }, "sender event");
                sent = true;
            }
            while let Some(e) = self.b.poll_event() {
                match e {
                    IsoTpEvent::Received { payload, .. } => got = Some(payload),
                    other => panic!("receiver event {other:?} for {} bytes", data.len()),
                }
            }
            if sent && got.is_some() {
                break;
            }
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let next = next.unwrap_or_else(|| panic!("stalled with {} bytes", data.len()));
            assert!(
                next > self.now,
                "a deadline at {next} that is not in the future ({})",
                self.now
            );
            self.now = next;
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
        }
        assert_eq!(
            got.as_deref(),
            Some(data),
            "payload of {} bytes",
            data.len()
        );
        assert!(!self.a.transmitting() && !self.b.receiving());
        assert_eq!(self.b.poll_timeout(), None);
    }
}

fn receiver(blocksize: u8, stmin: u8) -> IsoTpParams {
    params(|p| {
        p.blocksize = blocksize;
        p.stmin = stmin;
        p.max_frame_size = 100_000;
    })
}

fn data(n: usize, seed: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(31) ^ seed) as u8).collect()
}

#[test]
fn every_size_up_to_4095_and_two_escaped_sizes_at_blocksize_0_and_8() {
    for (bs, stmin) in [(0u8, 0u8), (8, 0xF5)] {
        let mut w = pair(params(|p| p.tx_padding = Some(0xAA)), receiver(bs, stmin));
        for n in (1..=4095).chain([5000, 70000]) {
            w.transfer(&data(n, bs as usize));
        }
        assert!(w.cfs_checked > 1_000_000);
    }
}

#[test]
fn several_stmin_values_and_block_sizes() {
    let sizes: Vec<usize> = (1..=64)
        .chain((65..=4095).step_by(97))
        .chain([4095, 5000, 70000])
        .collect();
    for bs in [0u8, 1, 8, 15] {
        for stmin in [0u8, 0xF1, 0xF9, 1, 10, 0x7F] {
            let mut w = pair(params(|_| {}), receiver(bs, stmin));
            for &n in &sizes {
                w.transfer(&data(n, n));
            }
        }
    }
}

#[test]
fn fd_pairs_transfer_every_tx_dl() {
    for tx_dl in [8u8, 12, 16, 20, 24, 32, 48, 64] {
        let a = params(|p| {
            p.can_fd = tx_dl > 8;
            p.tx_data_length = tx_dl;
        });
        let mut w = pair(a, receiver(8, 0xF3));
        for n in (1..=300).chain([4095, 4096, 5000, 70000]) {
            w.transfer(&data(n, tx_dl as usize));
        }
    }
}

#[test]
fn override_receiver_stmin_drives_the_gaps() {
    let a = params(|p| p.override_receiver_stmin_ns = Some(2 * MS));
    let mut w = pair(a, receiver(4, 0));
    w.transfer(&data(100, 0));
    // 100 bytes = FF + 14 CFs; 13 gaps of 2 ms after the first CF at 0.
    assert_eq!(w.now, 26 * MS);
}

#[test]
fn wire_frames_can_be_replayed_into_a_sniffer() {
    let mut w = pair(params(|_| {}), receiver(2, 1));
    let mut sniffer = IsoTpEndpoint::new(
        IsoTpAddress::new(AddressConfig::normal(false, 0x7E8, 0x7E0)).unwrap(),
        params(|p| p.listen_mode = true),
    )
    .unwrap();
    let payload = data(500, 7);
    w.a.send(0, payload.clone(), None).unwrap();
    let mut log: Vec<(u64, Frame)> = Vec::new();
    for _ in 0..10_000 {
        while let Some(f) = w.a.poll_transmit(w.now) {
            log.push((w.now, f));
            w.b.handle_frame(w.now, &f);
        }
        while let Some(f) = w.b.poll_transmit(w.now) {
            log.push((w.now, f));
            w.a.handle_frame(w.now, &f);
        }
        match [w.a.poll_timeout(), w.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
        {
            Some(t) => w.now = w.now.max(t),
            None => break,
        }
    }
    for (t, f) in &log {
        sniffer.handle_frame(*t, f);
        assert!(
            sniffer.poll_transmit(*t).is_none(),
            "a sniffer never transmits"
        );
    }
    assert_eq!(received(&mut sniffer), vec![payload.clone()]);
    assert_eq!(received(&mut w.b), vec![payload]);
    assert!(log.len() > 70, "FF, 71 CFs and the FCs");
}
