//! Two userspace ISO-TP stacks talking over the virtual bus, with a third bus
//! sniffing the frames to check the consecutive-frame gaps.

use std::sync::Arc;
use std::time::Duration;

use canwire_bus::isotp::{IsoTpDriverOptions, IsoTpStack, TransferStatus};
use canwire_bus::virtual_bus::VirtualConfig;
use canwire_bus::{Bus, BusConfig};
use canwire_core::Frame;
use canwire_core::isotp::TransferId;
use canwire_core::isotp::{AddressConfig, IsoTpAddress, IsoTpErrorCode, IsoTpParams};

fn bus(channel: &str) -> Arc<Bus> {
    Arc::new(
        Bus::open(BusConfig::Virtual(VirtualConfig {
            channel: channel.into(),
            fd: true,
            ..VirtualConfig::default()
        }))
        .expect("a virtual bus opens"),
    )
}

fn stack(channel: &str, txid: u32, rxid: u32, params: IsoTpParams) -> IsoTpStack {
    let address = IsoTpAddress::new(AddressConfig::normal(false, txid, rxid))
        .expect("the tests' ids are valid 11-bit ids");
    IsoTpStack::start_userspace(bus(channel), address, params, IsoTpDriverOptions::default())
        .expect("a userspace stack starts on a virtual bus")
}

fn recv(stack: &IsoTpStack) -> Vec<u8> {
    let errors = stack.take_errors();
    assert!(errors.is_empty(), "protocol errors: {errors:?}");
    stack
        .recv_blocking(Duration::from_secs(10))
        .expect("payload within 10 s")
        .data
}

/// The status of transfer `id` once it is no longer pending (within 10 s). A
/// transfer completes when its sender's driver has handed its last frame to
/// the bus, which may be a moment after the receiver has the payload.
fn status_when_done(stack: &IsoTpStack, id: TransferId) -> Option<TransferStatus> {
    let (done, ended) = std::sync::mpsc::channel();
    let hook = Box::new(move || {
        let _ = done.send(());
    });
    if stack.inbox().notify_when_done(id, 1, hook) {
        ended
            .recv_timeout(Duration::from_secs(10))
            .expect("the transfer ends within 10 s");
    }
    stack.take_status(id)
}

#[test]
fn payloads_of_every_escape_size_arrive_intact() {
    let big = IsoTpParams {
        max_frame_size: 100_000,
        ..IsoTpParams::default()
    };
    let tester = stack("isotp-sizes", 0x7E0, 0x7E8, IsoTpParams::default());
    let ecu = stack("isotp-sizes", 0x7E8, 0x7E0, big);
    for size in [1usize, 7, 8, 62, 63, 4095, 4096, 10_000] {
        let payload: Vec<u8> = (0..size).map(|i| (i * 31 + size) as u8).collect();
        let id = tester.send(payload.clone(), None, true).unwrap();
        assert_eq!(recv(&ecu), payload, "size {size}");
        assert_eq!(
            status_when_done(&tester, id),
            Some(TransferStatus::Complete)
        );
    }
    let reply = vec![0x62, 0xF1, 0x90];
    ecu.send(reply.clone(), None, false).unwrap();
    assert_eq!(recv(&tester), reply);
    assert_eq!(ecu.stats().rx_payloads, 8);
}

#[test]
fn fd_transfers_use_the_configured_tx_dl() {
    let params = IsoTpParams {
        can_fd: true,
        tx_data_length: 64,
        ..IsoTpParams::default()
    };
    let sniffer = bus("isotp-fd");
    let sniff = sniffer.add_reader(10_000).unwrap();
    let a = stack("isotp-fd", 0x700, 0x701, params.clone());
    let b = stack("isotp-fd", 0x701, 0x700, params);
    let payload = vec![0xAB; 1000];
    a.send(payload.clone(), None, false).unwrap();
    assert_eq!(recv(&b), payload);
    let mut frames = Vec::new();
    sniff.pop_into(10_000, &mut frames);
    let first = frames.iter().find(|f| f.id == 0x700).unwrap();
    assert!(first.is_fd());
    assert_eq!(first.len, 64);
    assert_eq!(&first.data()[..2], &[0x13, 0xE8], "FF with FF_DL = 1000");
}

#[test]
fn consecutive_frames_are_never_early() {
    // STmin 2 ms requested by the receiver; 20 CFs must be >= 2 ms apart on the wire.
    let sniffer = bus("isotp-stmin");
    let sniff = sniffer.add_reader(10_000).unwrap();
    let sender = stack("isotp-stmin", 0x600, 0x601, IsoTpParams::default());
    let receiver = stack(
        "isotp-stmin",
        0x601,
        0x600,
        IsoTpParams {
            stmin: 2,
            blocksize: 0,
            ..IsoTpParams::default()
        },
    );
    let payload = vec![0x55; 6 + 7 * 20];
    sender.send(payload.clone(), None, false).unwrap();
    assert_eq!(recv(&receiver), payload);
    let mut frames: Vec<Frame> = Vec::new();
    sniff.pop_into(10_000, &mut frames);
    let cfs: Vec<&Frame> = frames
        .iter()
        .filter(|f| f.id == 0x600 && f.data()[0] >> 4 == 2)
        .collect();
    assert_eq!(cfs.len(), 20);
    for pair in cfs.windows(2) {
        let gap = pair[1].timestamp_ns - pair[0].timestamp_ns;
        assert!(gap >= 2_000_000, "CF gap {gap} ns is below STmin");
    }
}

#[test]
fn a_missing_receiver_fails_a_tracked_transfer_with_n_bs() {
    let params = IsoTpParams {
        rx_flowcontrol_timeout_ns: 50_000_000,
        ..IsoTpParams::default()
    };
    let lonely = stack("isotp-lonely", 0x123, 0x124, params);
    let id = lonely.send(vec![0; 100], None, true).unwrap();
    let status = status_when_done(&lonely, id);
    match status {
        Some(TransferStatus::Failed(error)) => assert_eq!(error.code, IsoTpErrorCode::NBsTimeout),
        other => panic!("expected an N_Bs failure, got {other:?}"),
    }
    assert_eq!(lonely.stats().tx_failed, 1);
}

#[test]
fn close_is_idempotent_and_ends_sends() {
    let s = stack("isotp-close", 0x1, 0x2, IsoTpParams::default());
    s.close();
    s.close();
    assert_eq!(
        s.send(vec![1], None, false).unwrap_err().code,
        canwire_core::ErrorCode::Closed
    );
}
