//! Virtual-clock tests: exact send instants, order, limits, modification and
//! the missed-deadline policy.

use super::*;
use crate::error::ErrorCode;
use crate::frame::Frame;

const MS: u64 = 1_000_000;

fn frame(id: u32, byte: u8) -> Frame {
    Frame::classic(id, false, &[byte])
}

/// Runs a schedule as a perfect driver would, until it ends or `until` ns pass;
/// returns (instant, id, first data byte) of every frame.
fn run(schedule: &mut CyclicSchedule, until: u64) -> Vec<(u64, u32, u8)> {
    let mut out = Vec::new();
    while let Some(due) = schedule.poll_timeout() {
        if due > until {
            break;
        }
        if let Some(f) = schedule.poll_transmit(due) {
            out.push((due, f.id, f.data[0]));
        }
        assert_eq!(schedule.poll_transmit(due), None, "one frame per slot");
    }
    out
}

#[test]
fn single_frame_at_exact_period_multiples() {
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], CyclicTiming::every(10 * MS)).unwrap();
    assert_eq!(s.poll_timeout(), None, "created stopped");
    s.start(5 * MS);
    let got = run(&mut s, 45 * MS);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [5, 15, 25, 35, 45].map(|t| t * MS)
    );
    assert_eq!(s.sent(), 5);
    assert_eq!(s.missed(), 0);
}

#[test]
fn several_frames_go_round_robin() {
    let frames = vec![frame(0xA, 0), frame(0xB, 0), frame(0xC, 0)];
    let mut s = CyclicSchedule::new(frames, CyclicTiming::every(MS)).unwrap();
    s.start(0);
    let ids: Vec<u32> = run(&mut s, 6 * MS).iter().map(|g| g.1).collect();
    assert_eq!(ids, [0xA, 0xB, 0xC, 0xA, 0xB, 0xC, 0xA]);
}

#[test]
fn fractional_periods_do_not_accumulate_drift() {
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], CyclicTiming::every(500_000)).unwrap();
    s.start(0);
    assert_eq!(
        run(&mut s, 2 * MS).iter().map(|g| g.0).collect::<Vec<_>>(),
        [0, 500_000, 1_000_000, 1_500_000, 2_000_000]
    );
    let mut third = CyclicSchedule::new(vec![frame(1, 0)], CyclicTiming::every(333_333)).unwrap();
    third.start(0);
    let times = run(&mut third, 1_000 * MS);
    assert_eq!(times.len(), 3001);
    assert_eq!(
        times[3000].0,
        3000 * 333_333,
        "slot n is at exactly n periods"
    );
}

#[test]
fn a_count_limit_ends_the_task() {
    let timing = CyclicTiming {
        limit: CyclicLimit::Count(4),
        ..CyclicTiming::every(10 * MS)
    };
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], timing).unwrap();
    s.start(0);
    assert_eq!(run(&mut s, u64::MAX).len(), 4);
    assert!(!s.is_running());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn a_duration_ends_the_task_before_its_end_instant() {
    let timing = CyclicTiming {
        limit: CyclicLimit::Duration(20 * MS),
        ..CyclicTiming::every(5 * MS)
    };
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], timing).unwrap();
    s.start(MS);
    let times: Vec<u64> = run(&mut s, u64::MAX).iter().map(|g| g.0).collect();
    assert_eq!(times, [1, 6, 11, 16].map(|t| t * MS));
}

#[test]
fn multi_rate_sends_count_frames_at_the_initial_interval_then_the_period() {
    let timing = CyclicTiming {
        period_ns: 100 * MS,
        initial: Some((3, 10 * MS)),
        limit: CyclicLimit::Forever,
    };
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], timing).unwrap();
    s.start(0);
    let times: Vec<u64> = run(&mut s, 320 * MS).iter().map(|g| g.0).collect();
    assert_eq!(times, [0, 10, 20, 120, 220, 320].map(|t| t * MS));
    let only_initial = CyclicTiming {
        limit: CyclicLimit::Count(3),
        ..timing
    };
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], only_initial).unwrap();
    s.start(0);
    assert_eq!(run(&mut s, u64::MAX).len(), 3, "BCM's count without ival2");
}

#[test]
fn modify_takes_effect_at_the_next_slot_and_keeps_the_phase() {
    let mut s = CyclicSchedule::new(
        vec![frame(1, 0xAA), frame(2, 0xAA)],
        CyclicTiming::every(10 * MS),
    )
    .unwrap();
    s.start(0);
    assert_eq!(s.poll_transmit(0).unwrap().data[0], 0xAA);
    s.modify_frames(vec![frame(1, 0xBB), frame(2, 0xBB)])
        .unwrap();
    assert_eq!(s.poll_timeout(), Some(10 * MS), "phase kept");
    let f = s.poll_transmit(10 * MS).unwrap();
    assert_eq!(
        (f.id, f.data[0]),
        (2, 0xBB),
        "round-robin position kept, new data"
    );
    let err = s.modify_frames(vec![frame(1, 0)]).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
}

#[test]
fn a_late_driver_skips_missed_slots_without_a_burst() {
    let frames = vec![frame(0, 0), frame(1, 0), frame(2, 0), frame(3, 0)];
    let mut s = CyclicSchedule::new(frames, CyclicTiming::every(10 * MS)).unwrap();
    s.start(0);
    assert_eq!(s.poll_transmit(0).unwrap().id, 0);
    // The driver wakes 27 ms late: slots 1 and 2 (10, 20 ms) passed, slot 3 (30 ms) has come.
    let f = s.poll_transmit(37 * MS).unwrap();
    assert_eq!(f.id, 3, "the frame of the current slot");
    assert_eq!(s.missed(), 2);
    assert_eq!(s.poll_transmit(37 * MS), None, "no burst");
    assert_eq!(s.poll_timeout(), Some(40 * MS), "phase kept");
    // Slightly late (less than a period) is not a miss.
    assert_eq!(s.poll_transmit(49 * MS).unwrap().id, 0);
    assert_eq!(s.missed(), 2);
    assert_eq!(s.sent(), 3);
}

#[test]
fn a_late_driver_never_sends_past_the_limit() {
    let timing = CyclicTiming {
        limit: CyclicLimit::Duration(3 * MS),
        ..CyclicTiming::every(MS)
    };
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], timing).unwrap();
    s.start(0);
    s.poll_transmit(0).unwrap();
    s.poll_transmit(100 * MS).unwrap();
    assert_eq!(
        s.missed(),
        1,
        "slot 1 passed unsent; slot 2, the last allowed, is sent"
    );
    assert_eq!(s.sent(), 2);
    assert_eq!(s.poll_transmit(200 * MS), None);
    assert!(!s.is_running());
}

#[test]
fn a_counted_task_sends_every_frame_of_its_count_after_a_stall() {
    let frames = vec![frame(0xA, 0), frame(0xB, 0), frame(0xC, 0)];
    let timing = CyclicTiming {
        limit: CyclicLimit::Count(5),
        ..CyclicTiming::every(10 * MS)
    };
    let mut s = CyclicSchedule::new(frames, timing).unwrap();
    s.start(0);
    assert_eq!(
        s.poll_transmit_slot(0).map(|(n, f)| (n, f.id)),
        Some((0, 0xA))
    );
    // A stall of 37 ms: slot 1 (due at 10 ms) goes at 47 ms, late by 37 ms;
    // the grid resumes at its first instant after that, 50 ms.
    assert_eq!(
        s.poll_transmit_slot(47 * MS).map(|(n, f)| (n, f.id)),
        Some((1, 0xB))
    );
    assert_eq!(s.poll_transmit(47 * MS), None, "no burst");
    assert_eq!(s.poll_timeout(), Some(50 * MS), "the grid resumes");
    assert_eq!(
        s.late(),
        Lateness {
            frames: 1,
            total_ns: 37 * MS,
            max_ns: 37 * MS
        }
    );
    // Less than a period late is jitter, not a late frame.
    assert_eq!(s.poll_transmit(59 * MS).map(|f| f.id), Some(0xC));
    assert_eq!(
        run(&mut s, u64::MAX),
        [(60 * MS, 0xA, 0), (70 * MS, 0xB, 0)]
    );
    assert_eq!((s.sent(), s.missed(), s.late().frames), (5, 0, 1));
    assert!(!s.is_running());
}

#[test]
fn the_initial_count_is_a_frame_count_through_a_stall() {
    let timing = CyclicTiming {
        period_ns: 100 * MS,
        initial: Some((3, 10 * MS)),
        limit: CyclicLimit::Count(5),
    };
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], timing).unwrap();
    s.start(0);
    s.poll_transmit(0).unwrap();
    // Slot 1 (10 ms) served at 35 ms: it goes, the initial grid resumes at 40 ms.
    s.poll_transmit(35 * MS).unwrap();
    let times: Vec<u64> = run(&mut s, u64::MAX).iter().map(|g| g.0).collect();
    assert_eq!(times, [40, 140, 240].map(|t| t * MS));
    assert_eq!((s.sent(), s.missed(), s.late().frames), (5, 0, 1));
}

#[test]
fn the_first_slot_is_never_skipped() {
    // An endless task first served 3.5 periods after its start: its first
    // message goes (not the fourth), late, and the grid resumes after it.
    let frames = vec![frame(0xA, 0), frame(0xB, 0), frame(0xC, 0), frame(0xD, 0)];
    let mut s = CyclicSchedule::new(frames, CyclicTiming::every(10 * MS)).unwrap();
    s.start(5 * MS);
    assert_eq!(
        s.poll_transmit_slot(40 * MS).map(|(n, f)| (n, f.id)),
        Some((0, 0xA))
    );
    assert_eq!(
        (s.missed(), s.late().frames, s.late().total_ns),
        (0, 1, 35 * MS)
    );
    assert_eq!(
        s.poll_timeout(),
        Some(45 * MS),
        "the start's phase, moved by whole periods"
    );
    assert_eq!(s.poll_transmit(45 * MS).map(|f| f.id), Some(0xB));
    // Later stalls of an endless task still skip.
    assert_eq!(s.poll_transmit(67 * MS).map(|f| f.id), Some(0xD));
    assert_eq!(s.missed(), 1);
    // A time-bounded task keeps its end where its start put it.
    let timing = CyclicTiming {
        limit: CyclicLimit::Duration(30 * MS),
        ..CyclicTiming::every(10 * MS)
    };
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], timing).unwrap();
    s.start(0);
    assert!(s.poll_transmit(15 * MS).is_some(), "the first slot goes");
    assert_eq!(
        run(&mut s, u64::MAX)
            .iter()
            .map(|g| g.0)
            .collect::<Vec<_>>(),
        [20 * MS]
    );
    assert_eq!((s.sent(), s.missed()), (2, 0));
}

#[test]
fn stop_and_restart_begin_a_new_phase() {
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], CyclicTiming::every(10 * MS)).unwrap();
    s.start(0);
    s.poll_transmit(0).unwrap();
    s.stop();
    assert_eq!(s.poll_transmit(10 * MS), None);
    assert_eq!(s.poll_timeout(), None);
    s.start(13 * MS);
    assert_eq!(s.poll_timeout(), Some(13 * MS));
    assert_eq!(
        run(&mut s, 33 * MS).iter().map(|g| g.0).collect::<Vec<_>>(),
        [13, 23, 33].map(|t| t * MS)
    );
    assert_eq!(s.sent(), 4);
}

#[test]
fn bad_tasks_are_refused() {
    assert!(CyclicSchedule::new(vec![], CyclicTiming::every(MS)).is_err());
    assert!(CyclicSchedule::new(vec![frame(1, 0)], CyclicTiming::every(0)).is_err());
    let zero_interval = CyclicTiming {
        initial: Some((2, 0)),
        ..CyclicTiming::every(MS)
    };
    assert!(CyclicSchedule::new(vec![frame(1, 0)], zero_interval).is_err());
    let no_initial = CyclicTiming {
        initial: Some((0, 0)),
        ..CyclicTiming::every(MS)
    };
    let mut s = CyclicSchedule::new(vec![frame(1, 0)], no_initial).unwrap();
    s.start(0);
    assert_eq!(run(&mut s, 2 * MS).len(), 3);
}

#[test]
fn frame_limit_counts_the_slots_a_limit_lets_through() {
    let every = |limit| CyclicTiming {
        limit,
        ..CyclicTiming::every(10 * MS)
    };
    assert_eq!(every(CyclicLimit::Forever).frame_limit(), None);
    assert_eq!(every(CyclicLimit::Count(7)).frame_limit(), Some(7));
    // slots at 0, 10, 20, 30, 40 are before 45 ms; the one at 50 is not
    assert_eq!(every(CyclicLimit::Duration(45 * MS)).frame_limit(), Some(5));
    // a slot due exactly at the end is not sent
    assert_eq!(every(CyclicLimit::Duration(40 * MS)).frame_limit(), Some(4));
    assert_eq!(every(CyclicLimit::Duration(1)).frame_limit(), Some(1));
    let multi = CyclicTiming {
        period_ns: 100 * MS,
        initial: Some((3, 10 * MS)),
        limit: CyclicLimit::Duration(150 * MS),
    };
    // slots at 0, 10, 20, then 120, 220: four before 150 ms
    assert_eq!(multi.frame_limit(), Some(4));
}

#[test]
fn slots_due_by_follows_the_ideal_instants() {
    let multi = CyclicTiming {
        period_ns: 100 * MS,
        initial: Some((3, 10 * MS)),
        limit: CyclicLimit::Count(5),
    };
    assert_eq!(multi.slots_due_by(0), 1);
    assert_eq!(multi.slots_due_by(10 * MS - 1), 1);
    assert_eq!(multi.slots_due_by(10 * MS), 2);
    assert_eq!(multi.slots_due_by(20 * MS), 3);
    assert_eq!(multi.slots_due_by(119 * MS), 3);
    assert_eq!(multi.slots_due_by(120 * MS), 4);
    assert_eq!(multi.slots_due_by(10_000 * MS), 5, "capped by the count");
    assert_eq!(
        CyclicTiming::every(MS).slots_due_by(1_000 * MS),
        1_001,
        "no limit"
    );
}

#[test]
fn slots_are_numbered_and_set_frame_changes_one_position() {
    let frames = vec![frame(0xA, 0), frame(0xB, 0)];
    let mut s = CyclicSchedule::new(frames, CyclicTiming::every(MS)).unwrap();
    s.start(0);
    assert_eq!(
        s.poll_transmit_slot(0).map(|(n, f)| (n, f.id)),
        Some((0, 0xA))
    );
    s.set_frame(0, frame(0xC, 1));
    s.set_frame(7, frame(0xD, 1)); // past the end: ignored
    assert_eq!(
        s.poll_transmit_slot(MS).map(|(n, f)| (n, f.id)),
        Some((1, 0xB))
    );
    // 2 ms missed: slot 3 goes (position 1), slot 2 is skipped
    assert_eq!(
        s.poll_transmit_slot(3 * MS).map(|(n, f)| (n, f.id)),
        Some((3, 0xB))
    );
    assert_eq!(
        s.poll_transmit_slot(4 * MS).map(|(n, f)| (n, f.id)),
        Some((4, 0xC))
    );
    assert_eq!(s.frames().len(), 2);
}

#[test]
fn next_frame_is_the_one_an_on_time_poll_hands_out() {
    let frames = vec![frame(1, 10), frame(2, 20), frame(3, 30)];
    let mut s = CyclicSchedule::new(frames, CyclicTiming::every(MS)).unwrap();
    s.start(0);
    for slot in 0..7u64 {
        let expected = *s.next_frame();
        assert_eq!(expected.id as u64, slot % 3 + 1);
        assert_eq!(s.poll_transmit(slot * MS), Some(expected));
    }
    // Two slots skipped: next_frame names the frame of the slot that is next
    // in turn; a late poll sends the current slot's frame instead.
    assert_eq!(s.next_frame().id, 2);
    assert_eq!(s.poll_transmit(9 * MS).map(|f| f.id), Some(1));
    assert_eq!(s.next_frame().id, 2);
}
