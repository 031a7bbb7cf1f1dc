//! The multi-task planner on a virtual clock: exact serving instants, the
//! batching grid under dense load, stalls, and what a context can do.

use super::spin_budget::{BATCH_GRID_NS, WINDOW_NS};
use super::*;
use crate::frame::Frame;

const MS: u64 = 1_000_000;
const US: u64 = 1_000;

fn frame(id: u32) -> Frame {
    Frame::classic(id, false, &[])
}

fn task(frames: Vec<Frame>, timing: CyclicTiming, start: u64) -> CyclicSchedule {
    let mut s = CyclicSchedule::new(frames, timing).unwrap();
    s.start(start);
    s
}

fn counted(n: u64, period: u64) -> CyclicTiming {
    CyclicTiming {
        limit: CyclicLimit::Count(n),
        ..CyclicTiming::every(period)
    }
}

/// Runs the planner as the scheduler thread does, from `now` until the next
/// wake would pass `until`, on a virtual clock whose timed waits end
/// `timer_late` ns late and whose sends take no time. Returns every wake
/// that sent: its instant and the frames.
fn drive<T: TaskContext>(
    planner: &mut CyclicPlanner<T>,
    mut now: u64,
    until: u64,
    timer_late: u64,
) -> Vec<(u64, Vec<DueFrame>)> {
    let mut wakes = Vec::new();
    loop {
        let mut due = Vec::new();
        let earliest = planner.take_due(now, &mut due, |_, d| d);
        if !due.is_empty() {
            wakes.push((now, due));
            continue;
        }
        match planner.wake(now, earliest) {
            Wake::Idle => return wakes,
            Wake::Now => {}
            Wake::Wait { until: end, .. } => {
                if end > until {
                    return wakes;
                }
                planner.timer_woke(timer_late);
                now = end + timer_late;
            }
            Wake::Spin { until: end, .. } => {
                if end > until {
                    return wakes;
                }
                planner.spun(now, end);
                now = end;
            }
        }
    }
}

fn ids(frames: &[DueFrame]) -> Vec<u32> {
    frames.iter().map(|d| d.frame.id).collect()
}

#[test]
fn sparse_tasks_are_served_at_their_exact_deadlines_despite_a_late_timer() {
    let mut p = CyclicPlanner::default();
    p.insert(1, task(vec![frame(1)], CyclicTiming::every(MS), 0), ());
    p.insert(
        2,
        task(vec![frame(2)], CyclicTiming::every(1_500 * US), 0),
        (),
    );
    // The timer wakes 50 µs late: the spin before each deadline hides it.
    let wakes = drive(&mut p, 0, 4 * MS, 50 * US);
    let got: Vec<(u64, Vec<u32>)> = wakes.iter().map(|(t, d)| (*t, ids(d))).collect();
    assert_eq!(
        got,
        [
            (0, vec![1, 2]),
            (MS, vec![1]),
            (1_500 * US, vec![2]),
            (2 * MS, vec![1]),
            (3 * MS, vec![1, 2]),
            (4 * MS, vec![1]),
        ]
    );
    for (now, due) in &wakes {
        assert!(due.iter().all(|d| d.deadline == *now), "served at {now}");
    }
}

#[test]
fn dense_deadlines_batch_on_the_grid_after_one_window() {
    // 500 tasks at 10 ms, one every 20 µs, off the grid by 7 ns.
    let mut p = CyclicPlanner::default();
    for i in 0..500u64 {
        let start = i * 20 * US + 7;
        p.insert(
            i,
            task(vec![frame(i as u32)], CyclicTiming::every(10 * MS), start),
            (),
        );
    }
    let wakes = drive(&mut p, 0, 30 * MS, 0);
    assert_eq!(wakes.iter().map(|(_, d)| d.len()).sum::<usize>(), 1_500);
    for (now, due) in &wakes {
        if *now < WINDOW_NS + 7 {
            // The first window: one frame per wake, at its deadline.
            assert_eq!(due.len(), 1);
            assert_eq!(due[0].deadline, *now);
        } else if *now > WINDOW_NS + 7 {
            // Dense: a wake per grid point, each serving the 5 frames due since the last.
            assert_eq!(*now % BATCH_GRID_NS, 0, "{now}");
            // (The first grid point has 4: the frame due at the switch went at once.)
            let expected = if *now == WINDOW_NS + BATCH_GRID_NS {
                4
            } else {
                5
            };
            assert_eq!(due.len(), expected, "at {now}");
            assert!(
                due.iter()
                    .all(|d| d.deadline <= *now && *now - d.deadline < BATCH_GRID_NS)
            );
            assert!(
                due.windows(2).all(|w| w[0].deadline <= w[1].deadline),
                "deadline order"
            );
        }
    }
}

#[test]
fn a_stall_costs_a_counted_task_one_late_frame_and_an_endless_one_its_missed_slots() {
    let mut p = CyclicPlanner::default();
    p.insert(1, task(vec![frame(1)], counted(10, MS), 0), ());
    p.insert(2, task(vec![frame(2)], CyclicTiming::every(MS), 0), ());
    let before = drive(&mut p, 0, 3 * MS, 0);
    assert_eq!(before.len(), 4);
    // The driver stalls from 3 ms to 7.5 ms.
    let after = drive(&mut p, 7_500 * US, 14 * MS, 0);
    let first: Vec<(u64, u32, u64)> = after[0]
        .1
        .iter()
        .map(|d| (d.deadline, d.frame.id, d.slot))
        .collect();
    assert_eq!(after[0].0, 7_500 * US);
    assert_eq!(
        first,
        [(4 * MS, 1, 4), (4 * MS, 2, 7)],
        "one frame each, no burst"
    );
    let counted_times: Vec<u64> = after
        .iter()
        .filter(|(_, d)| d.iter().any(|d| d.task == 1))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(
        counted_times,
        [7_500 * US, 8 * MS, 9 * MS, 10 * MS, 11 * MS, 12 * MS],
        "the grid resumes"
    );
    let (s, ()) = p.get(1).unwrap();
    assert_eq!((s.sent(), s.missed(), s.is_running()), (10, 0, false));
    assert_eq!(
        s.late(),
        Lateness {
            frames: 1,
            total_ns: 3_500 * US,
            max_ns: 3_500 * US
        }
    );
    let (s, ()) = p.get(2).unwrap();
    assert_eq!((s.missed(), s.late().frames), (3, 0));
}

#[test]
fn a_task_first_served_late_starts_with_its_first_frame() {
    let mut p = CyclicPlanner::default();
    p.insert(
        1,
        task(
            vec![frame(0xA), frame(0xB), frame(0xC)],
            CyclicTiming::every(MS),
            0,
        ),
        (),
    );
    let wakes = drive(&mut p, 3_500 * US, 5 * MS, 0);
    let got: Vec<(u64, u32, u64)> = wakes
        .iter()
        .map(|(t, d)| (*t, d[0].frame.id, d[0].slot))
        .collect();
    assert_eq!(
        got,
        [(3_500 * US, 0xA, 0), (4 * MS, 0xB, 1), (5 * MS, 0xC, 2)]
    );
    let (s, ()) = p.get(1).unwrap();
    assert_eq!(
        (s.missed(), s.late().frames, s.late().total_ns),
        (0, 1, 3_500 * US)
    );
}

/// A context whose destination may close and which may hold an answer for position 0.
#[derive(Default)]
struct Destination {
    closed: bool,
    answer: Option<Frame>,
}

impl TaskContext for Destination {
    fn is_live(&self) -> bool {
        !self.closed
    }
    fn replacement(&mut self, position: usize) -> Option<Frame> {
        if position == 0 {
            self.answer.take()
        } else {
            None
        }
    }
}

#[test]
fn restarts_removals_replacements_and_closed_destinations() {
    let mut p = CyclicPlanner::default();
    for id in 0..3 {
        p.insert(
            id,
            task(vec![frame(id as u32)], CyclicTiming::every(MS), id * US),
            Destination::default(),
        );
    }
    let mut due = Vec::new();
    assert_eq!(p.take_due(2 * US, &mut due, |_, d| d.frame.id), Some(MS));
    assert_eq!(due, [0, 1, 2]);
    // Task 0 restarts at 500 µs, task 1 goes: no send from their old deadlines.
    p.get_mut(0).unwrap().0.start(500 * US);
    p.remove(1);
    due.clear();
    assert_eq!(
        p.take_due(500 * US, &mut due, |_, d| d.frame.id),
        Some(MS + 2 * US)
    );
    assert_eq!(due, [0]);
    // An answer replaces the frame from its turn on.
    p.context_mut(0).unwrap().answer = Some(frame(0x70));
    due.clear();
    p.take_due(2_500 * US, &mut due, |_, d| d.frame.id);
    assert_eq!(
        due,
        [2, 0x70],
        "deadline order; task 0 once, its 1.5 ms slot skipped"
    );
    assert_eq!(p.get(0).unwrap().0.frames()[0].id, 0x70);
    // A task whose destination closed stops without sending.
    p.context_mut(2).unwrap().closed = true;
    due.clear();
    assert_eq!(
        p.take_due(10 * MS, &mut due, |_, d| d.frame.id),
        Some(10 * MS + 500 * US)
    );
    assert_eq!(due, [0x70]);
    assert!(!p.get(2).unwrap().0.is_running());
}

#[test]
fn batching_ends_with_a_sparse_window_and_deadlines_are_exact_again() {
    let mut p = CyclicPlanner::default();
    for i in 0..500u64 {
        let start = i * 20 * US + 7;
        p.insert(
            i,
            task(vec![frame(i as u32)], CyclicTiming::every(10 * MS), start),
            (),
        );
    }
    let dense = drive(&mut p, 0, 20 * MS, 0);
    assert!(
        dense
            .iter()
            .any(|(now, d)| d.len() == 5 && now % BATCH_GRID_NS == 0),
        "batching"
    );
    for i in 10..500 {
        p.remove(i);
    }
    // Ten tasks left: the next full window is sparse, and after it each
    // frame goes at its own deadline again.
    let later = drive(&mut p, 20 * MS, 60 * MS, 0);
    let exact: Vec<&(u64, Vec<DueFrame>)> =
        later.iter().filter(|(now, _)| *now >= 40 * MS).collect();
    assert_eq!(exact.len(), 20, "10 tasks, 2 periods");
    for (now, due) in exact {
        assert_eq!(due.len(), 1);
        assert_eq!(
            due[0].deadline, *now,
            "served at its deadline, off the grid"
        );
    }
}
