//! Sending under flow control: block size, STmin (ms, µs, reserved, override),
//! WAIT and wftmax, OVERFLOW, N_Bs, unexpected and invalid flow control.

use super::support::*;
use crate::isotp::{IsoTpEndpoint, IsoTpEvent};

/// An endpoint that has sent the FF of an `n`-byte payload at time 0.
fn after_first_frame(
    n: usize,
    change: impl FnOnce(&mut crate::isotp::IsoTpParams),
) -> IsoTpEndpoint {
    let mut ep = endpoint(params(change));
    ep.send(0, payload(n), None).unwrap();
    one(&mut ep, 0);
    ep
}

#[test]
fn block_size_stops_after_each_block_until_the_next_flow_control() {
    let mut ep = after_first_frame(6 + 7 * 5, |_| {});
    ep.handle_frame(0, &rx(&[0x30, 2, 0]));
    let block: Vec<u8> = drain(&mut ep, 0).iter().map(|f| f.data[0]).collect();
    assert_eq!(block, [0x21, 0x22]);
    assert_eq!(
        ep.poll_timeout(),
        Some(1000 * MS),
        "waiting for FC: N_Bs deadline"
    );
    ep.handle_frame(5 * MS, &rx(&[0x30, 2, 0]));
    let block: Vec<u8> = drain(&mut ep, 5 * MS).iter().map(|f| f.data[0]).collect();
    assert_eq!(block, [0x23, 0x24]);
    assert_eq!(ep.poll_timeout(), Some(1005 * MS));
    ep.handle_frame(6 * MS, &rx(&[0x30, 2, 0]));
    assert_classic(
        &one(&mut ep, 6 * MS),
        TXID,
        &[0x25, 34, 35, 36, 37, 38, 39, 40],
    );
    assert!(matches!(
        events(&mut ep)[..],
        [IsoTpEvent::TransmitComplete { .. }]
    ));
}

#[test]
fn stmin_in_milliseconds_is_never_undercut_and_poll_timeout_names_the_instant() {
    let mut ep = after_first_frame(6 + 7 * 3, |_| {});
    ep.handle_frame(MS, &rx(&[0x30, 0, 5]));
    assert_eq!(
        one(&mut ep, MS).data[0],
        0x21,
        "first CF right after the FC"
    );
    assert_eq!(ep.poll_timeout(), Some(6 * MS));
    assert!(ep.poll_transmit(6 * MS - 1).is_none());
    assert_eq!(one(&mut ep, 6 * MS).data[0], 0x22);
    assert_eq!(ep.poll_timeout(), Some(11 * MS));
    // Polling late sends one frame, and the next is STmin after that one.
    assert_eq!(one(&mut ep, 20 * MS).data[0], 0x23);
}

#[test]
fn stmin_counts_from_when_the_driver_says_the_frame_left() {
    let mut ep = after_first_frame(6 + 7 * 3, |_| {});
    ep.handle_frame(MS, &rx(&[0x30, 0, 2]));
    assert_eq!(one(&mut ep, MS).data[0], 0x21);
    // the send returned 300 µs after the release: the next CF is due 2 ms after that
    ep.transmitted_at(MS + 300_000);
    assert_eq!(ep.poll_timeout(), Some(3 * MS + 300_000));
    assert!(
        ep.poll_transmit(3 * MS).is_none(),
        "an early wake-up releases nothing"
    );
    assert_eq!(one(&mut ep, 3 * MS + 300_000).data[0], 0x22);
    // an instant before the release changes nothing
    ep.transmitted_at(0);
    assert_eq!(ep.poll_timeout(), Some(5 * MS + 300_000));
}

#[test]
fn stmin_microsecond_values_f1_to_f9() {
    for raw in 0xF1..=0xF9u8 {
        let mut ep = after_first_frame(6 + 7 * 3, |_| {});
        ep.handle_frame(0, &rx(&[0x30, 0, raw]));
        one(&mut ep, 0);
        let gap = (raw - 0xF0) as u64 * 100_000;
        assert_eq!(ep.poll_timeout(), Some(gap), "STmin {raw:#x}");
        assert!(ep.poll_transmit(gap - 1).is_none());
        assert_eq!(one(&mut ep, gap).data[0], 0x22);
    }
}

#[test]
fn reserved_stmin_values_mean_127_ms() {
    for raw in [0x80u8, 0xA0, 0xF0, 0xFA, 0xFF] {
        let mut ep = after_first_frame(6 + 7 * 2, |_| {});
        ep.handle_frame(0, &rx(&[0x30, 0, raw]));
        one(&mut ep, 0);
        assert_eq!(ep.poll_timeout(), Some(127 * MS), "STmin {raw:#x}");
        assert!(ep.poll_transmit(127 * MS - 1).is_none());
        assert_eq!(one(&mut ep, 127 * MS).data[0], 0x22);
    }
}

#[test]
fn override_receiver_stmin_replaces_the_receivers_value() {
    // Longer than the receiver asks.
    let mut ep = after_first_frame(6 + 7 * 2, |p| p.override_receiver_stmin_ns = Some(3 * MS));
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    one(&mut ep, 0);
    assert_eq!(ep.poll_timeout(), Some(3 * MS));
    assert!(ep.poll_transmit(3 * MS - 1).is_none());
    one(&mut ep, 3 * MS);
    // Shorter than the receiver asks (0 = back to back).
    let mut ep = after_first_frame(6 + 7 * 2, |p| p.override_receiver_stmin_ns = Some(0));
    ep.handle_frame(0, &rx(&[0x30, 0, 100]));
    assert_eq!(drain(&mut ep, 0).len(), 2);
}

#[test]
fn stmin_also_separates_the_last_cf_of_a_block_from_the_first_of_the_next() {
    let mut ep = after_first_frame(6 + 7 * 3, |_| {});
    ep.handle_frame(0, &rx(&[0x30, 1, 10]));
    one(&mut ep, 0);
    ep.handle_frame(MS, &rx(&[0x30, 1, 10]));
    assert!(ep.poll_transmit(MS).is_none());
    assert_eq!(ep.poll_timeout(), Some(10 * MS));
    assert_eq!(one(&mut ep, 10 * MS).data[0], 0x22);
}

#[test]
fn wait_frame_with_wftmax_0_is_unsupported_and_n_bs_keeps_running() {
    let mut ep = after_first_frame(20, |_| {});
    ep.handle_frame(500 * MS, &rx(&[0x31, 0, 0]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_UNSUPPORTED_WAIT_FRAME"]);
    assert_eq!(ep.poll_timeout(), Some(1000 * MS));
    ep.handle_timeout(1000 * MS);
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_N_BS_TIMEOUT"]);
}

#[test]
fn wait_frames_restart_n_bs_up_to_wftmax_then_fail() {
    let mut ep = after_first_frame(20, |p| p.wftmax = 2);
    ep.handle_frame(400 * MS, &rx(&[0x31, 0, 0]));
    assert_eq!(ep.poll_timeout(), Some(1400 * MS));
    ep.handle_frame(800 * MS, &rx(&[0x31, 0, 0]));
    assert_eq!(ep.poll_timeout(), Some(1800 * MS));
    assert!(ep.poll_transmit(800 * MS).is_none());
    assert_eq!(codes(&mut ep), Vec::<&str>::new());
    ep.handle_frame(900 * MS, &rx(&[0x31, 0, 0]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_WAIT_FRAME_LIMIT"]);
    assert!(!ep.transmitting());
}

#[test]
fn continue_to_send_resets_the_wait_frame_count() {
    let mut ep = after_first_frame(6 + 7 * 3, |p| p.wftmax = 1);
    ep.handle_frame(0, &rx(&[0x31, 0, 0]));
    ep.handle_frame(0, &rx(&[0x30, 1, 0]));
    assert_eq!(one(&mut ep, 0).data[0], 0x21);
    ep.handle_frame(0, &rx(&[0x31, 0, 0]));
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    assert_eq!(drain(&mut ep, 0).len(), 2);
    assert!(matches!(
        events(&mut ep)[..],
        [IsoTpEvent::TransmitComplete { .. }]
    ));
}

#[test]
fn overflow_flow_control_fails_the_transfer_and_the_next_one_starts() {
    let mut ep = after_first_frame(100, |_| {});
    let next = ep.send(0, vec![0x42], None).unwrap();
    ep.handle_frame(0, &rx(&[0x32, 0, 0]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_OVERFLOW_FC"]);
    assert_classic(&one(&mut ep, 0), TXID, &[0x01, 0x42]);
    assert_eq!(events(&mut ep), [IsoTpEvent::TransmitComplete { id: next }]);
}

#[test]
fn n_bs_timeout_after_first_frame_fires_exactly_at_the_deadline() {
    let mut ep = after_first_frame(20, |p| p.rx_flowcontrol_timeout_ns = 50 * MS);
    assert_eq!(ep.poll_timeout(), Some(50 * MS));
    ep.handle_timeout(50 * MS - 1);
    assert_eq!(codes(&mut ep), Vec::<&str>::new());
    ep.handle_timeout(50 * MS);
    let evs = events(&mut ep);
    assert!(matches!(evs[..], [IsoTpEvent::TransmitFailed { id, .. }] if id.0 == 1));
    assert_eq!(
        evs[0].error_code().unwrap().as_str(),
        "ERR_ISOTP_N_BS_TIMEOUT"
    );
    assert_eq!(ep.poll_timeout(), None);
    // A late flow control is now unexpected.
    ep.handle_frame(60 * MS, &rx(&[0x30, 0, 0]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_UNEXPECTED_FC"]);
}

#[test]
fn n_bs_timeout_after_a_block() {
    let mut ep = after_first_frame(6 + 7 * 3, |_| {});
    ep.handle_frame(10 * MS, &rx(&[0x30, 1, 0]));
    one(&mut ep, 10 * MS);
    assert_eq!(ep.poll_timeout(), Some(1010 * MS));
    ep.handle_timeout(1010 * MS);
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_N_BS_TIMEOUT"]);
}

#[test]
fn flow_control_while_idle_or_sending_cfs_is_unexpected_and_ignored() {
    let mut ep = endpoint(params(|_| {}));
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_UNEXPECTED_FC"]);
    let mut ep = after_first_frame(6 + 7 * 2, |_| {});
    ep.handle_frame(0, &rx(&[0x30, 0, 20]));
    one(&mut ep, 0);
    ep.handle_frame(0, &rx(&[0x30, 0, 0]));
    assert_eq!(codes(&mut ep), ["ERR_ISOTP_UNEXPECTED_FC"]);
    assert!(
        ep.poll_transmit(0).is_none(),
        "the second FC did not change STmin"
    );
    one(&mut ep, 20 * MS);
}

#[test]
fn reserved_flow_status_and_short_flow_control_are_reported_and_ignored() {
    let mut ep = after_first_frame(20, |_| {});
    ep.handle_frame(0, &rx(&[0x33, 0, 0]));
    ep.handle_frame(0, &rx(&[0x3F, 0, 0]));
    ep.handle_frame(0, &rx(&[0x30, 0]));
    assert_eq!(
        codes(&mut ep),
        [
            "ERR_ISOTP_INVALID_FC",
            "ERR_ISOTP_INVALID_FC",
            "ERR_ISOTP_INVALID_FRAME"
        ]
    );
    assert!(ep.poll_transmit(0).is_none());
    ep.handle_frame(0, &rx(&[0x30, 0, 0, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC]));
    assert_eq!(drain(&mut ep, 0).len(), 2, "a padded FC is fine");
}
