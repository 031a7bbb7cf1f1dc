//! Virtual-clock tests: exact events, instants and frames.

use super::*;
use crate::error::ErrorCode;
use crate::frame::Frame;

const MS: u64 = 1_000_000;

fn frame(data: &[u8]) -> Frame {
    Frame::classic(0x123, false, data)
}

fn drain(w: &mut Watcher) -> Vec<(WatchEventKind, Option<Vec<u8>>, u64)> {
    std::iter::from_fn(|| w.poll_event())
        .map(|e| (e.kind, e.frame.map(|f| f.data().to_vec()), e.at_ns))
        .collect()
}

/// Feeds `frames` at their instants, running timers up to each, then up to `until`.
fn run(
    w: &mut Watcher,
    frames: &[(u64, Frame)],
    until: u64,
) -> Vec<(WatchEventKind, Option<Vec<u8>>, u64)> {
    for (at, f) in frames {
        w.handle_timeout(*at);
        w.handle_frame(*at, f);
    }
    w.handle_timeout(until);
    drain(w)
}

use WatchEventKind::{Changed, Received, Timeout};

#[test]
fn without_a_mask_every_frame_of_the_id_is_received() {
    let config = WatchConfig {
        id: 0x123,
        ..WatchConfig::default()
    };
    let mut w = Watcher::new(config, 0).unwrap();
    let other = Frame::classic(0x124, false, &[1]);
    let extended = Frame::classic(0x123, true, &[1]);
    let remote = Frame::remote(0x123, false, 1);
    let fd = Frame::fd(0x123, false, &[1], false);
    for f in [other, extended, remote, fd] {
        w.handle_frame(5, &f);
    }
    w.handle_frame(10, &frame(&[1]));
    w.handle_frame(20, &frame(&[1]));
    assert_eq!(
        drain(&mut w),
        [(Received, Some(vec![1]), 10), (Received, Some(vec![1]), 20)]
    );
    assert_eq!(w.poll_timeout(), None, "no timeout configured");
}

#[test]
fn a_mask_reports_the_first_frame_and_changes_of_masked_bits_only() {
    let config = WatchConfig {
        id: 0x123,
        change_mask: Some(vec![0xFF, 0x0F]),
        ..WatchConfig::default()
    };
    let mut w = Watcher::new(config, 0).unwrap();
    let got = run(
        &mut w,
        &[
            (1, frame(&[1, 0x10, 9])),    // first: changed
            (2, frame(&[1, 0x20, 7])),    // unmasked bits only: nothing
            (3, frame(&[1, 0x21, 7])),    // bit 0 of byte 1: changed
            (4, frame(&[2, 0x21])),       // byte 0: changed (shorter, no check_dlc)
            (5, frame(&[2, 0x21, 0, 0])), // length only: nothing
        ],
        10,
    );
    assert_eq!(
        got,
        [
            (Changed, Some(vec![1, 0x10, 9]), 1),
            (Changed, Some(vec![1, 0x21, 7]), 3),
            (Changed, Some(vec![2, 0x21]), 4),
        ]
    );
}

#[test]
fn check_dlc_makes_a_length_change_a_change() {
    let config = WatchConfig {
        id: 0x123,
        change_mask: Some(vec![]),
        check_dlc: true,
        ..WatchConfig::default()
    };
    let mut w = Watcher::new(config, 0).unwrap();
    let got = run(
        &mut w,
        &[
            (1, frame(&[1])),
            (2, frame(&[2])),
            (3, frame(&[2, 0])),
            (4, frame(&[3, 3])),
        ],
        10,
    );
    assert_eq!(
        got,
        [(Changed, Some(vec![1]), 1), (Changed, Some(vec![2, 0]), 3)]
    );
}

#[test]
fn fd_masks_compare_up_to_the_new_length_in_words() {
    let mut long = [0u8; 16];
    long[12] = 5;
    let config = WatchConfig {
        id: 0x123,
        fd: true,
        change_mask: Some(vec![0xFF; 16]),
        ..WatchConfig::default()
    };
    let mut w = Watcher::new(config, 0).unwrap();
    let f = |d: &[u8]| Frame::fd(0x123, false, d, false);
    let got = run(
        &mut w,
        &[(1, f(&long)), (2, f(&[0; 8])), (3, f(&[0; 12]))],
        10,
    );
    // 8 bytes compare only the first word: unchanged; 12 bytes reach byte 12 again: 0 != 5.
    assert_eq!(got.iter().map(|g| g.2).collect::<Vec<_>>(), [1, 3]);
}

#[test]
fn one_timeout_after_the_last_frame_then_silence_until_a_frame_rearms_it() {
    let config = WatchConfig {
        id: 0x123,
        timeout_ns: Some(100 * MS),
        change_mask: Some(vec![0xFF]),
        ..WatchConfig::default()
    };
    let mut w = Watcher::new(config, 0).unwrap();
    assert_eq!(w.poll_timeout(), Some(100 * MS), "armed at the start");
    let cyclic: Vec<(u64, Frame)> = (0..5).map(|i| ((10 + i * 50) * MS, frame(&[7]))).collect();
    let got = run(&mut w, &cyclic, 1000 * MS);
    assert_eq!(
        got,
        [(Changed, Some(vec![7]), 10 * MS), (Timeout, None, 310 * MS)],
        "the last frame at 210 ms times out at 310 ms, once"
    );
    assert_eq!(w.poll_timeout(), None);
    // Without announce_resume, the same data coming back is no change.
    let got = run(&mut w, &[(1100 * MS, frame(&[7]))], 1150 * MS);
    assert_eq!(got, []);
    assert_eq!(w.poll_timeout(), Some(1200 * MS), "re-armed by the frame");
}

#[test]
fn a_timeout_before_any_frame_counts_from_the_start() {
    let config = WatchConfig {
        id: 0x123,
        timeout_ns: Some(30 * MS),
        ..WatchConfig::default()
    };
    let mut w = Watcher::new(config, 5 * MS).unwrap();
    w.handle_timeout(34 * MS);
    assert_eq!(drain(&mut w), []);
    w.handle_timeout(35 * MS);
    assert_eq!(drain(&mut w), [(Timeout, None, 35 * MS)]);
}

#[test]
fn announce_resume_reports_the_first_frame_after_a_timeout() {
    let config = WatchConfig {
        id: 0x123,
        timeout_ns: Some(100 * MS),
        change_mask: Some(vec![0xFF]),
        announce_resume: true,
        ..WatchConfig::default()
    };
    let mut w = Watcher::new(config, 0).unwrap();
    let got = run(
        &mut w,
        &[
            (0, frame(&[7])),
            (50 * MS, frame(&[7])),
            (400 * MS, frame(&[7])),
            (420 * MS, frame(&[7])),
        ],
        450 * MS,
    );
    assert_eq!(
        got,
        [
            (Changed, Some(vec![7]), 0),
            (Timeout, None, 150 * MS),
            (Changed, Some(vec![7]), 400 * MS),
        ]
    );
}

#[test]
fn throttling_holds_back_and_releases_the_latest_at_the_throttle_pace() {
    let config = WatchConfig {
        id: 0x123,
        throttle_ns: Some(100 * MS),
        ..WatchConfig::default()
    };
    let mut w = Watcher::new(config, 0).unwrap();
    let got = run(
        &mut w,
        &[
            (0, frame(&[1])),        // goes at once
            (10 * MS, frame(&[2])),  // held
            (20 * MS, frame(&[3])),  // replaces the held one
            (150 * MS, frame(&[4])), // held (the timer runs until 200)
            (250 * MS, frame(&[5])), // held until 300
        ],
        1000 * MS,
    );
    assert_eq!(
        got,
        [
            (Received, Some(vec![1]), 0),
            (Received, Some(vec![3]), 100 * MS),
            (Received, Some(vec![4]), 200 * MS),
            (Received, Some(vec![5]), 300 * MS),
        ]
    );
    // A quiet throttle period disarmed it: the next event goes at once.
    let got = run(&mut w, &[(1000 * MS, frame(&[6]))], 1000 * MS);
    assert_eq!(got, [(Received, Some(vec![6]), 1000 * MS)]);
    assert_eq!(w.poll_timeout(), None);
}

#[test]
fn a_late_driver_releases_the_held_frame_at_its_instant_then_disarms() {
    let config = WatchConfig {
        id: 0x123,
        throttle_ns: Some(100 * MS),
        ..WatchConfig::default()
    };
    let mut w = Watcher::new(config, 0).unwrap();
    w.handle_frame(0, &frame(&[1]));
    w.handle_frame(10 * MS, &frame(&[2]));
    w.handle_timeout(350 * MS);
    assert_eq!(
        drain(&mut w),
        [
            (Received, Some(vec![1]), 0),
            (Received, Some(vec![2]), 100 * MS)
        ]
    );
    assert_eq!(
        w.poll_timeout(),
        None,
        "the period after the release passed without a frame"
    );
}

#[test]
fn config_errors_name_the_rule() {
    let bad_id = WatchConfig {
        id: 0x800,
        ..WatchConfig::default()
    };
    assert_eq!(bad_id.validate().unwrap_err().code, ErrorCode::IdOutOfRange);
    let ok_extended = WatchConfig {
        id: 0x1FFF_FFFF,
        extended: true,
        ..WatchConfig::default()
    };
    assert!(ok_extended.validate().is_ok());
    let long_mask = WatchConfig {
        change_mask: Some(vec![0; 9]),
        ..WatchConfig::default()
    };
    let e = long_mask.validate().unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains("at most 8 bytes"), "{}", e.message);
    let zero = WatchConfig {
        timeout_ns: Some(0),
        ..WatchConfig::default()
    };
    assert!(zero.validate().unwrap_err().message.contains("timeoutMs"));
}
