//! The sliding-window rate limiter, alone and inside the endpoint.

use super::support::*;
use crate::isotp::IsoTpEvent;
use crate::isotp::rate_limiter::RateLimiter;

#[test]
fn window_slides_and_ready_at_names_the_instant() {
    let mut rl = RateLimiter::new(true, 100, 10);
    assert!(rl.allows(0, 64));
    rl.record(0, 64);
    assert!(!rl.allows(3, 64));
    rl.record(3, 30);
    assert_eq!(rl.bits_in_window(9), 94);
    assert_eq!(rl.ready_at(64), 10, "the first entry leaves at 0 + 10");
    assert_eq!(rl.ready_at(100), 13, "both must leave");
    assert!(!rl.allows(9, 64));
    assert!(rl.allows(10, 64));
    assert_eq!(rl.bits_in_window(10), 30);
    assert_eq!(rl.bits_in_window(13), 0);
}

#[test]
fn a_frame_larger_than_the_budget_goes_when_the_window_is_empty() {
    let mut rl = RateLimiter::new(true, 8, 10);
    assert!(rl.allows(0, 64));
    rl.record(0, 64);
    assert!(!rl.allows(9, 64));
    assert_eq!(rl.ready_at(64), 10);
    assert!(rl.allows(10, 64));
}

#[test]
fn a_disabled_limiter_allows_everything() {
    let mut rl = RateLimiter::new(false, 0, 0);
    rl.record(0, 1 << 40);
    assert!(rl.allows(0, 1 << 40));
    assert_eq!(rl.ready_at(1 << 40), 0);
}

#[test]
fn endpoint_holds_frames_back_until_the_window_allows_them() {
    // 640 bit/s over 200 ms = 128 bits = two padded classic frames per window.
    let mut ep = endpoint(params(|p| {
        p.rate_limit_enable = true;
        p.rate_limit_max_bitrate = 640;
        p.rate_limit_window_size_ns = 200 * MS;
        p.tx_padding = Some(0xCC);
    }));
    let id = ep.send(0, payload(6 + 7 * 3), None).unwrap();
    assert_eq!(one(&mut ep, 0).data[0], 0x10);
    ep.handle_frame(MS, &rx(&[0x30, 0, 0]));
    assert_eq!(one(&mut ep, MS).data[0], 0x21);
    assert_eq!(
        ep.poll_timeout(),
        Some(200 * MS),
        "the FF leaves the window at 200 ms"
    );
    assert!(ep.poll_transmit(200 * MS - 1).is_none());
    assert_eq!(one(&mut ep, 200 * MS).data[0], 0x22);
    assert_eq!(ep.poll_timeout(), Some(201 * MS));
    assert_eq!(one(&mut ep, 201 * MS).data[0], 0x23);
    assert_eq!(events(&mut ep), vec![IsoTpEvent::TransmitComplete { id }]);
}

#[test]
fn rate_limiter_counts_unpadded_lengths_and_spares_flow_control() {
    // 280 bits per window: SF of 5 bytes (40 bits) x 7 fit, the 8th waits.
    let mut ep = endpoint(params(|p| {
        p.rate_limit_enable = true;
        p.rate_limit_max_bitrate = 2800;
        p.rate_limit_window_size_ns = 100 * MS;
    }));
    for _ in 0..8 {
        ep.send(0, payload(4), None).unwrap();
    }
    assert_eq!(drain(&mut ep, 0).len(), 7);
    // Our flow control still goes out.
    ep.handle_frame(0, &rx(&[0x10, 20, 0, 1, 2, 3, 4, 5]));
    assert_eq!(one(&mut ep, 0).data(), [0x30, 8, 0]);
    assert!(ep.poll_transmit(0).is_none());
    assert_eq!(ep.poll_timeout(), Some(100 * MS));
    assert_eq!(one(&mut ep, 100 * MS).data(), [0x04, 0, 1, 2, 3]);
}
