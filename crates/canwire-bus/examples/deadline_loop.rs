//! The reference loop of `bench/cyclic-jitter`: the best a minimal native
//! absolute-deadline loop achieves on this machine, measured the way the
//! bench measures canwire.
//!
//! One thread runs `--tasks` tasks (ids `0x100 + task`), task t sending a
//! frame at `start + phase(t) + n * period`: the schedule of tasks created
//! one after another on canwire, whose phases spread over the period and
//! which canwire starts on its 100 µs grid ([`start_instant`]): phase(t) is
//! `t * period / tasks` rounded up to the grid. It sleeps with
//! `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)` to each deadline (timer
//! slack 1 ns, SCHED_FIFO where permitted, no spin) and sends every frame
//! then due in one batch `send`, as a competent C loop would.
//!
//! With `--phases spread` the phases are `t * period / tasks` exactly (the
//! schedule of earlier sessions): at 500 tasks x 1 ms the deadlines are then
//! 2 µs apart, the loop sleeps 500 000 times a second, keeps a core about
//! 96 % busy and the kernel's real-time throttling (95 % of each second)
//! stops it for about 50 ms every second: slots missed by the loop's own
//! design, not the machine's.
//! A slot missed by more than a period is skipped, as canwire's scheduler
//! does. A second bus on the same channel receives the frames; their receive
//! timestamps (stamped at send on the virtual bus, by the kernel on
//! SocketCAN) go to `--out`, one 16-byte record per frame: timestamp ns
//! (u64 LE), id (u32 LE), data bytes 0..4 (u32 LE: the slot number).
//! Prints one JSON line with the counts.
//!
//! With `--scheduler native` the same tasks run on canwire's native
//! scheduler instead (each sending 64 frames round robin, data bytes 0..4 the
//! round-robin index, started `period / tasks` apart): the scheduler measured
//! without Node around it, to tell its own stalls from those of the process
//! it runs in.
//!
//! ```text
//! cargo run --release -p canwire-bus --example deadline_loop -- \
//!     --interface virtual --channel bench --period-us 1000 --tasks 50 \
//!     --duration-ms 5000 --out /tmp/deadline.bin
//! ```

#[cfg(target_os = "linux")]
fn main() {
    if let Err(message) = linux::main() {
        eprintln!("deadline_loop: {message}");
        std::process::exit(2);
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("deadline_loop: needs Linux (clock_nanosleep)");
    std::process::exit(2);
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io::Write;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use canwire_bus::cyclic::{CyclicTask, SchedulerKind, TaskHooks};
    use canwire_bus::time::{minimize_timer_slack, try_realtime_priority};
    use canwire_bus::virtual_bus::VirtualConfig;
    use canwire_bus::{Bus, BusConfig, SocketCanConfig};
    use canwire_core::Frame;
    use canwire_core::cyclic::{CyclicLimit, CyclicTiming, start_instant};

    /// Frames of task `t` go out with this id plus `t`.
    const BASE_ID: u32 = 0x100;
    /// SocketCAN: the receiving socket's kernel buffer, as the bench's receiver has.
    const RECEIVE_BUFFER: u32 = 16 << 20;
    /// Frames per task on the native scheduler.
    const NATIVE_RING: u64 = 64;
    /// Time between opening the buses and the first slot.
    const LEAD_IN_NS: u64 = 20_000_000;

    struct Options {
        interface: String,
        channel: String,
        period_ns: u64,
        tasks: u32,
        duration_ns: u64,
        out: String,
        native: bool,
        /// Phases rounded up to canwire's grid (the default) or exactly spread.
        grid_phases: bool,
    }

    fn parse() -> Result<Options, String> {
        let mut o = Options {
            interface: "virtual".into(),
            channel: "deadline-loop".into(),
            period_ns: 1_000_000,
            tasks: 1,
            duration_ns: 5_000_000_000,
            out: String::new(),
            native: false,
            grid_phases: true,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or(format!("{flag} needs a value"))?;
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("{flag} takes a whole number, got '{value}'"))
            };
            match flag.as_str() {
                "--interface" => o.interface = value.clone(),
                "--channel" => o.channel = value.clone(),
                "--period-us" => o.period_ns = number()? * 1_000,
                "--tasks" => o.tasks = number()?.clamp(1, 0x600) as u32,
                "--duration-ms" => o.duration_ns = number()? * 1_000_000,
                "--out" => o.out = value.clone(),
                "--phases" => {
                    o.grid_phases = match value.as_str() {
                        "grid" => true,
                        "spread" => false,
                        other => {
                            return Err(format!("--phases is grid or spread, got '{other}'"));
                        }
                    }
                }
                "--scheduler" => {
                    o.native = match value.as_str() {
                        "native" => true,
                        "reference" => false,
                        other => {
                            return Err(format!(
                                "--scheduler is native or reference, got '{other}'"
                            ));
                        }
                    }
                }
                _ => return Err(format!("unknown flag {flag}")),
            }
        }
        if o.out.is_empty() || o.period_ns == 0 {
            return Err("--out FILE and a --period-us above 0 are required".into());
        }
        Ok(o)
    }

    fn open(o: &Options) -> Result<Bus, String> {
        let config = match o.interface.as_str() {
            "virtual" => BusConfig::Virtual(VirtualConfig {
                channel: o.channel.clone(),
                ..VirtualConfig::default()
            }),
            "socketcan" => BusConfig::SocketCan(SocketCanConfig {
                receive_buffer_size: Some(RECEIVE_BUFFER),
                ..SocketCanConfig::new(o.channel.clone())
            }),
            other => {
                return Err(format!(
                    "--interface is virtual or socketcan, got '{other}'"
                ));
            }
        };
        Bus::open(config).map_err(|e| e.to_string())
    }

    fn now_ns() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: ts is a valid, writable timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    fn sleep_until(deadline_ns: u64) {
        let ts = libc::timespec {
            tv_sec: (deadline_ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (deadline_ns % 1_000_000_000) as libc::c_long,
        };
        // SAFETY: ts is a valid timespec; the remainder pointer may be null with TIMER_ABSTIME.
        while unsafe {
            libc::clock_nanosleep(
                libc::CLOCK_MONOTONIC,
                libc::TIMER_ABSTIME,
                &ts,
                std::ptr::null_mut(),
            )
        } == libc::EINTR
        {}
    }

    fn frame(task: u32, slot: u64) -> Frame {
        let mut data = [0u8; 8];
        data[..4].copy_from_slice(&(slot as u32).to_le_bytes());
        Frame::classic(BASE_ID + task, false, &data)
    }

    /// How long after task 0 task `t` of `tasks` runs: `t * period / tasks`,
    /// rounded up to canwire's grid with `grid` (at most a period, so that
    /// the phases never decrease with `t`).
    pub(crate) fn phase(t: u64, tasks: u64, period_ns: u64, grid: bool) -> u64 {
        let spread = t * period_ns / tasks;
        if grid {
            start_instant(spread).min(period_ns)
        } else {
            spread
        }
    }

    /// Sends every slot in `[0, duration)` of every task; returns (frames
    /// sent, slots missed, send errors). Task `t` runs [`phase`] after task
    /// 0, so the deadlines are spread over the period as those of tasks
    /// started one after another are.
    fn send_loop(bus: &Bus, o: &Options) -> (u64, u64, u64) {
        minimize_timer_slack();
        try_realtime_priority();
        let tasks = o.tasks as u64;
        let start = now_ns() + LEAD_IN_NS;
        // Deadline k, in time order: task k % tasks, slot k / tasks.
        let instant = |k: u64| {
            start + phase(k % tasks, tasks, o.period_ns, o.grid_phases) + (k / tasks) * o.period_ns
        };
        let total = o.duration_ns.div_ceil(o.period_ns) * tasks;
        let (mut sent, mut missed, mut errors) = (0, 0, 0);
        // The frames due at one wake-up, sent in one batch (one channel lock,
        // one fan-out, one syscall on SocketCAN), as a competent C loop
        // would: one send per frame fell behind at 500 tasks x 1 ms.
        let mut batch: Vec<Frame> = Vec::with_capacity(tasks as usize);
        let mut k = 0;
        while k < total {
            sleep_until(instant(k));
            let now = now_ns();
            batch.clear();
            while k < total && instant(k) <= now {
                // A frame a whole period late is skipped: the task's next slot is due too.
                if now - instant(k) >= o.period_ns {
                    missed += 1;
                } else {
                    batch.push(frame((k % tasks) as u32, k / tasks));
                }
                k += 1;
            }
            if batch.is_empty() {
                continue;
            }
            match bus.send(&batch) {
                Ok(n) => {
                    sent += n as u64;
                    errors += (batch.len() - n) as u64;
                }
                Err(_) => errors += batch.len() as u64,
            }
        }
        (sent, missed, errors)
    }

    /// Runs the tasks on canwire's native scheduler for the duration; returns
    /// (frames sent, slots missed, send errors) from the tasks' counters.
    fn native_tasks(bus: Arc<Bus>, o: &Options) -> Result<(u64, u64, u64), String> {
        let timing = CyclicTiming {
            limit: CyclicLimit::Duration(o.duration_ns),
            ..CyclicTiming::every(o.period_ns)
        };
        let mut tasks = Vec::new();
        for t in 0..o.tasks {
            let frames = (0..NATIVE_RING).map(|i| frame(t, i)).collect();
            let task = CyclicTask::create(
                bus.clone(),
                frames,
                timing,
                true,
                SchedulerKind::Native,
                TaskHooks::default(),
            )
            .map_err(|e| e.to_string())?;
            tasks.push(task);
            std::thread::sleep(Duration::from_nanos(o.period_ns / o.tasks as u64));
        }
        std::thread::sleep(Duration::from_nanos(o.duration_ns) + Duration::from_millis(100));
        let (mut sent, mut missed, mut errors) = (0, 0, 0);
        for task in &tasks {
            let stats = task.stats().map_err(|e| e.to_string())?;
            sent += stats.sent;
            missed += stats.missed;
            errors += stats.send_errors;
        }
        Ok((sent, missed, errors))
    }

    pub fn main() -> Result<(), String> {
        let o = parse()?;
        let tx = Arc::new(open(&o)?);
        let rx = open(&o)?;
        let queue = rx.add_reader(1 << 20).map_err(|e| e.to_string())?;
        let done = Arc::new(AtomicBool::new(false));
        let receiver = {
            let done = done.clone();
            let queue = queue.clone();
            std::thread::spawn(move || {
                let mut frames = Vec::new();
                loop {
                    let finished = done.load(Ordering::Acquire);
                    std::thread::sleep(Duration::from_millis(10));
                    queue.pop_into(usize::MAX, &mut frames);
                    if finished {
                        return frames;
                    }
                }
            })
        };
        let (sent, missed, errors) = if o.native {
            native_tasks(tx.clone(), &o)?
        } else {
            send_loop(&tx, &o)
        };
        std::thread::sleep(Duration::from_millis(50));
        done.store(true, Ordering::Release);
        let frames = receiver.join().map_err(|_| "the receiver failed")?;
        let mut out = Vec::with_capacity(frames.len() * 16);
        for f in &frames {
            out.extend_from_slice(&f.timestamp_ns.to_le_bytes());
            out.extend_from_slice(&f.id.to_le_bytes());
            out.extend_from_slice(&f.data()[..4]);
        }
        std::fs::write(&o.out, out).map_err(|e| format!("writing {}: {e}", o.out))?;
        let dropped = queue.stats().overflow;
        let mut stdout = std::io::stdout();
        writeln!(
            stdout,
            "{{\"sent\":{sent},\"missed\":{missed},\"sendErrors\":{errors},\"received\":{},\"rxDropped\":{dropped}}}",
            frames.len()
        )
        .map_err(|e| e.to_string())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::linux::phase;

    #[test]
    fn grid_phases_round_up_to_canwire_grid_and_never_pass_a_period() {
        // 500 tasks x 1 ms: 2 µs apart, rounded up to the 100 µs grid.
        let phases: Vec<u64> = (0..500).map(|t| phase(t, 500, 1_000_000, true)).collect();
        assert_eq!(phases[0], 0);
        assert_eq!(phases[1], 100_000);
        assert_eq!(phases[50], 100_000);
        assert_eq!(phases[51], 200_000);
        assert_eq!(phases[499], 1_000_000);
        assert!(phases.windows(2).all(|w| w[0] <= w[1]));
        let groups: std::collections::BTreeSet<u64> = phases.iter().copied().collect();
        assert_eq!(groups.len(), 11);
        // 50 tasks x 10 ms: 200 µs apart, already on the grid.
        assert_eq!(phase(7, 50, 10_000_000, true), 1_400_000);
        // Spread phases are exact.
        assert_eq!(phase(1, 500, 1_000_000, false), 2_000);
        // A period off the grid: never past it.
        assert_eq!(phase(5, 6, 150_000, true), 150_000);
    }
}
