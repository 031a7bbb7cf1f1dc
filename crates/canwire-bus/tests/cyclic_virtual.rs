//! Cyclic tasks on the native scheduler, received on the virtual bus.

use std::sync::Arc;
use std::time::{Duration, Instant};

use canwire_bus::cyclic::{CyclicTask, SchedulerKind, TaskHooks};
use canwire_bus::sync_util::lock;
use canwire_bus::virtual_bus::VirtualConfig;
use canwire_bus::{Bus, BusConfig, FrameQueue};
use canwire_core::cyclic::{CyclicLimit, CyclicTiming};
use canwire_core::{ErrorCode, Frame};

const MS: u64 = 1_000_000;

/// The tests share the process-wide scheduler thread: they take turns, so one
/// test's hundreds of tasks cannot make another's first slot late.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn bus(channel: &str, fd: bool) -> Arc<Bus> {
    Arc::new(
        Bus::open(BusConfig::Virtual(VirtualConfig {
            channel: channel.into(),
            fd,
            ..VirtualConfig::default()
        }))
        .expect("a virtual bus opens"),
    )
}

fn collect(queue: &FrameQueue, n: usize) -> Vec<Frame> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        queue.wait_blocking(Duration::from_millis(50));
        queue.pop_into(n - out.len(), &mut out);
    }
    out
}

#[test]
fn a_counted_task_sends_exactly_its_frames_round_robin() {
    let _turn = serial();
    let tx = bus("cyc-count", false);
    let rx = bus("cyc-count", false);
    let q = rx.add_reader(1000).unwrap();
    let frames = vec![
        Frame::classic(0x100, false, &[1]),
        Frame::classic(0x101, false, &[2]),
    ];
    let timing = CyclicTiming {
        limit: CyclicLimit::Count(7),
        ..CyclicTiming::every(2 * MS)
    };
    let task = CyclicTask::create(
        tx,
        frames,
        timing,
        true,
        SchedulerKind::Native,
        TaskHooks::default(),
    )
    .unwrap();
    let got = collect(&q, 7);
    assert_eq!(
        got.iter().map(|f| f.id).collect::<Vec<_>>(),
        [0x100, 0x101, 0x100, 0x101, 0x100, 0x101, 0x100]
    );
    std::thread::sleep(Duration::from_millis(20));
    assert!(q.is_empty(), "no frame after the count");
    let stats = task.stats().unwrap();
    assert_eq!((stats.sent, stats.running), (7, false));
}

#[test]
fn modify_stop_start_and_bus_close() {
    let _turn = serial();
    let tx = bus("cyc-modify", false);
    let rx = bus("cyc-modify", false);
    let q = rx.add_reader(10_000).unwrap();
    let task = CyclicTask::create(
        tx.clone(),
        vec![Frame::classic(0x200, false, &[0xAA])],
        CyclicTiming::every(MS),
        false,
        SchedulerKind::Native,
        TaskHooks::default(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(10));
    assert!(q.is_empty(), "not started without autostart");
    task.start().unwrap();
    assert_eq!(
        collect(&q, 3).iter().map(|f| f.data[0]).collect::<Vec<_>>(),
        [0xAA; 3]
    );
    task.modify(vec![Frame::classic(0x200, false, &[0xBB])])
        .unwrap();
    let mut later = collect(&q, 50);
    later.retain(|f| f.data[0] == 0xBB);
    assert!(!later.is_empty(), "modified data goes out");
    task.stop().unwrap();
    std::thread::sleep(Duration::from_millis(10));
    let mut rest = Vec::new();
    q.pop_into(100_000, &mut rest);
    std::thread::sleep(Duration::from_millis(10));
    assert!(q.is_empty(), "nothing after stop");
    assert_eq!(
        task.modify(vec![
            Frame::classic(0x200, false, &[1]),
            Frame::classic(0x200, false, &[2])
        ])
        .unwrap_err()
        .code,
        ErrorCode::InvalidArgument
    );
    task.start().unwrap();
    collect(&q, 2);
    tx.close();
    std::thread::sleep(Duration::from_millis(10));
    assert!(!task.stats().unwrap().running, "a task stops with its bus");
    assert_eq!(task.start().unwrap_err().code, ErrorCode::Closed);
}

#[test]
fn invalid_frames_are_refused_before_the_task_exists() {
    let _turn = serial();
    let tx = bus("cyc-invalid", false);
    let fd = Frame::fd(1, false, &[0; 12], false);
    assert_eq!(
        CyclicTask::create(
            tx.clone(),
            vec![fd],
            CyclicTiming::every(MS),
            true,
            SchedulerKind::Native,
            TaskHooks::default()
        )
        .err()
        .unwrap()
        .code,
        ErrorCode::FdNotEnabled
    );
    assert_eq!(
        CyclicTask::create(
            tx,
            vec![Frame::classic(0x800, false, &[])],
            CyclicTiming::every(MS),
            true,
            SchedulerKind::Native,
            TaskHooks::default()
        )
        .err()
        .unwrap()
        .code,
        ErrorCode::IdOutOfRange
    );
}

#[test]
fn hundreds_of_tasks_share_one_thread() {
    let _turn = serial();
    let tx = bus("cyc-many", false);
    let rx = bus("cyc-many", false);
    let q = rx.add_reader(100_000).unwrap();
    let timing = CyclicTiming {
        limit: CyclicLimit::Count(5),
        ..CyclicTiming::every(10 * MS)
    };
    let tasks: Vec<CyclicTask> = (0..300)
        .map(|i| {
            CyclicTask::create(
                tx.clone(),
                vec![Frame::classic(i, false, &[])],
                timing,
                true,
                SchedulerKind::Native,
                TaskHooks::default(),
            )
            .unwrap()
        })
        .collect();
    let got = collect(&q, 1500);
    assert_eq!(got.len(), 1500);
    for i in 0..300 {
        assert_eq!(got.iter().filter(|f| f.id == i).count(), 5, "task {i}");
    }
    drop(tasks);
}

#[test]
fn the_kernel_scheduler_needs_socketcan() {
    let _turn = serial();
    let tx = bus("cyc-kernel", false);
    let e = match CyclicTask::create(
        tx,
        vec![Frame::classic(1, false, &[])],
        CyclicTiming::every(MS),
        true,
        SchedulerKind::Kernel,
        TaskHooks::default(),
    ) {
        Err(e) => e,
        Ok(_) => panic!("a kernel task on the virtual bus"),
    };
    assert_eq!(e.code, ErrorCode::Unsupported);
    assert!(e.message.contains("SocketCAN"), "{}", e.message);
}

/// Answers at once with the first data byte plus one.
struct Increment;

impl canwire_bus::cyclic::FrameModifier for Increment {
    fn request(&self, frame: &Frame, _slot: u64, reply: canwire_bus::cyclic::ModifierReply) {
        let mut next = *frame;
        next.data[0] = next.data[0].wrapping_add(1);
        reply.answer(Some(next));
    }
}

/// Keeps the replies and never answers.
#[derive(Default)]
struct Silent(std::sync::Mutex<Vec<canwire_bus::cyclic::ModifierReply>>);

impl canwire_bus::cyclic::FrameModifier for Silent {
    fn request(&self, _frame: &Frame, _slot: u64, reply: canwire_bus::cyclic::ModifierReply) {
        lock(&self.0).push(reply);
    }
}

#[test]
fn a_modifier_sets_each_next_frame_and_a_silent_one_is_late_without_delaying_frames() {
    let _turn = serial();
    let tx = bus("cyc-mod", false);
    let rx = bus("cyc-mod", false);
    let q = rx.add_reader(1000).unwrap();
    let timing = CyclicTiming {
        limit: CyclicLimit::Count(5),
        ..CyclicTiming::every(10 * MS)
    };
    let hooks = TaskHooks {
        modifier: Some(Arc::new(Increment)),
        ..TaskHooks::default()
    };
    let task = CyclicTask::create(
        tx.clone(),
        vec![Frame::classic(0x10, false, &[7])],
        timing,
        true,
        SchedulerKind::Native,
        hooks,
    )
    .unwrap();
    let got = collect(&q, 5);
    assert_eq!(
        got.iter().map(|f| f.data[0]).collect::<Vec<_>>(),
        [7, 8, 9, 10, 11]
    );
    assert_eq!(task.stats().unwrap().late_modifier, 0);

    let silent = Arc::new(Silent::default());
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink_errors = errors.clone();
    let hooks = TaskHooks {
        modifier: Some(silent.clone()),
        on_error: Some(Arc::new(move |e: &canwire_core::CanwireError| {
            sink_errors.lock().unwrap().push(e.code)
        })),
    };
    let task = CyclicTask::create(
        tx,
        vec![Frame::classic(0x11, false, &[1])],
        timing,
        true,
        SchedulerKind::Native,
        hooks,
    )
    .unwrap();
    let got = collect(&q, 5);
    assert_eq!(got.iter().map(|f| f.data[0]).collect::<Vec<_>>(), [1; 5]);
    let stats = task.stats().unwrap();
    assert_eq!(
        (stats.sent, stats.late_modifier),
        (5, 4),
        "asked once, late on every later turn"
    );
    let replies = std::mem::take(&mut *silent.0.lock().unwrap());
    assert_eq!(replies.len(), 1, "one open question at a time");
    // A late answer that cannot be sent (9 bytes) is reported, not used.
    let mut bad = Frame::classic(0x11, false, &[0; 8]);
    bad.len = 9;
    replies.into_iter().next().unwrap().answer(Some(bad));
    assert_eq!(*errors.lock().unwrap(), [ErrorCode::DataTooLong]);
    assert_eq!(task.stats().unwrap().modifier_errors, 1);
}

/// A backend that records what the front end asks of it: how a new
/// scheduler (a remote bus's) plugs in.
#[derive(Default, Clone)]
struct RecordingBackend(Arc<std::sync::Mutex<Vec<String>>>);

impl RecordingBackend {
    fn log(&self, call: &str) {
        lock(&self.0).push(call.into());
    }
}

impl canwire_bus::cyclic::CyclicBackend for RecordingBackend {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Native
    }
    fn start(&self) -> canwire_core::error::Result<()> {
        self.log("start");
        Ok(())
    }
    fn stop(&self) -> canwire_core::error::Result<()> {
        self.log("stop");
        Ok(())
    }
    fn modify(&self, frames: Vec<Frame>) -> canwire_core::error::Result<()> {
        self.log(&format!("modify {:X}", frames[0].id));
        Ok(())
    }
    fn frames(&self) -> canwire_core::error::Result<Vec<Frame>> {
        Ok(vec![Frame::classic(0x42, false, &[])])
    }
    fn stats(&self) -> canwire_core::error::Result<canwire_bus::cyclic::CyclicTaskStats> {
        Ok(canwire_bus::cyclic::CyclicTaskStats {
            sent: 3,
            running: true,
            ..Default::default()
        })
    }
    fn remove(&self) {
        self.log("remove");
    }
}

#[test]
fn the_front_end_owns_the_checks_every_backend_shares() {
    let tx = bus("cyc-front-end", false);
    let backend = RecordingBackend::default();
    let task = CyclicTask::with_backend(tx.clone(), Box::new(backend.clone()), 1, true).unwrap();
    let refused = |r: canwire_core::error::Result<()>| r.unwrap_err().code;
    // Wrong count, unsendable frames: refused before the backend sees them.
    assert_eq!(refused(task.modify(vec![])), ErrorCode::InvalidArgument);
    assert_eq!(
        refused(task.modify(vec![Frame::classic(0x800, false, &[])])),
        ErrorCode::IdOutOfRange
    );
    task.modify(vec![Frame::classic(0x7FF, false, &[])])
        .unwrap();
    task.stop().unwrap();
    assert_eq!(task.stats().unwrap().sent, 3);
    tx.close();
    assert!(
        !task.stats().unwrap().running,
        "a task whose bus closed does not run"
    );
    assert_eq!(refused(task.start()), ErrorCode::Closed);
    task.remove();
    task.remove();
    assert_eq!(task.frames().unwrap_err().code, ErrorCode::Closed);
    drop(task);
    assert_eq!(
        *backend.0.lock().unwrap(),
        ["start", "modify 7FF", "stop", "remove"],
        "started once, removed once"
    );
}

#[test]
fn a_task_on_a_closed_bus_is_refused() {
    let _turn = serial();
    let tx = bus("cyc-closed", false);
    tx.close();
    let e = CyclicTask::create(
        tx,
        vec![Frame::classic(1, false, &[])],
        CyclicTiming::every(MS),
        true,
        SchedulerKind::Native,
        TaskHooks::default(),
    )
    .err()
    .unwrap();
    assert_eq!(
        (e.code, e.message.as_str()),
        (ErrorCode::Closed, "the bus of this task is closed")
    );
}
