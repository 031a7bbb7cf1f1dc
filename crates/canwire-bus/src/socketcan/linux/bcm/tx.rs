//! [`BcmTx`]: the cyclic TX jobs of one bus, run by the kernel's broadcast manager.
//!
//! One BCM socket per bus carries every kernel task of that bus. The kernel
//! keys TX jobs by the head's `can_id` (with the interface and the FD flag)
//! and, without `TX_CP_CAN_ID`, sends the frames with their own ids: so each
//! run of a task gets a fresh key of its own, whatever ids its frames carry,
//! and any number of tasks may send the same CAN id. A fresh key per run also
//! keeps a stale `TX_EXPIRED` of a stopped run from touching the next one.
//!
//! A thread per socket reads the kernel's `TX_EXPIRED` events (a count ran
//! out: load the next [`Program`] or mark the task ended) and socket errors
//! (the interface went down), until the bus closes; closing the socket makes
//! the kernel drop every job.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;

use canwire_core::cyclic::CyclicTiming;
use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, Frame};

use super::msg::{self, CAN_FD_FRAME, HEAD_SIZE, Head, SETTIMER, STARTTIMER, TX_COUNTEVT};
use super::proc_stats::read_tx_sent;
use super::program::{self, AfterCount, Program, next_program};
use super::socket::BcmSocket;
use crate::cyclic::{CyclicBackend, CyclicTaskStats, ErrorSink, SchedulerKind, SentCounting};
use crate::socketcan::codec::encode;
use crate::socketcan::sys::{CANFD_MTU, CanFdFrame, eventfd, os_error, poll, signal_eventfd};
use crate::sync_util;
use crate::time::MonotonicClock;

/// Most frames one BCM job takes (`MAX_NFRAMES` in the kernel).
pub const MAX_FRAMES: usize = 256;

/// One run of a task: a job in the kernel.
struct Run {
    key: u32,
    program: Program,
    /// Frames of the task sent before `program` began.
    done: u64,
    started_ns: u64,
}

struct Job {
    frames: Vec<Frame>,
    timing: CyclicTiming,
    fd: bool,
    /// The interface of a bus opened on all of them.
    target: Option<u32>,
    run: Option<Run>,
    sent_before: u64,
    send_errors: u64,
    last_error: Option<String>,
    on_error: Option<ErrorSink>,
}

/// The kernel-scheduled cyclic tasks of one bus.
pub struct BcmTx {
    socket: RwLock<Option<BcmSocket>>,
    raw_fd: RawFd,
    inode: Option<u64>,
    wake: OwnedFd,
    jobs: Mutex<HashMap<u64, Job>>,
    next_task: AtomicU64,
    next_key: AtomicU32,
    thread: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
    clock: MonotonicClock,
    label: String,
}

impl BcmTx {
    /// Connects a BCM socket to `ifindex` (0: every interface) and starts its event thread.
    pub fn open(ifindex: u32, label: String) -> Result<Arc<Self>> {
        let socket = BcmSocket::connect(ifindex)?;
        let tx = Arc::new(Self {
            raw_fd: socket.fd().as_raw_fd(),
            inode: socket.inode(),
            socket: RwLock::new(Some(socket)),
            wake: eventfd()?,
            jobs: Mutex::default(),
            next_task: AtomicU64::new(1),
            next_key: AtomicU32::new(1),
            thread: Mutex::new(None),
            closed: AtomicBool::new(false),
            clock: MonotonicClock::default(),
            label,
        });
        let events = tx.clone();
        let handle = std::thread::Builder::new()
            .name("canwire-bcm".into())
            .spawn(move || events.run_events())
            .map_err(|e| {
                os_error(
                    "starting the BCM event thread",
                    e.raw_os_error().unwrap_or(0),
                )
            })?;
        *sync_util::lock(&tx.thread) = Some(handle);
        Ok(tx)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Job>> {
        sync_util::lock(&self.jobs)
    }

    fn closed_error(&self) -> CanwireError {
        CanwireError::new(ErrorCode::Closed, "the bus of this task is closed")
    }

    /// Checks frames for one kernel job: 1 to 256, all classic or all FD, and on
    /// a bus opened on every interface all naming the same one. Returns (fd, target).
    fn check_frames(&self, frames: &[Frame]) -> Result<(bool, Option<u32>)> {
        if frames.is_empty() || frames.len() > MAX_FRAMES {
            return Err(CanwireError::invalid_argument(format!(
                "the kernel scheduler (BCM) takes 1 to {MAX_FRAMES} messages per task, got {}",
                frames.len()
            )));
        }
        let fd = frames[0].is_fd();
        if frames.iter().any(|f| f.is_fd() != fd) {
            return Err(CanwireError::invalid_argument(
                "the kernel scheduler (BCM) sends the messages of a task all as classic or all as FD frames; split them into two tasks",
            ));
        }
        let all_interfaces = sync_util::read(&self.socket)
            .as_ref()
            .is_some_and(|s| s.ifindex() == 0);
        let target = if all_interfaces {
            let channel = frames[0].channel;
            if channel == 0 || frames.iter().any(|f| f.channel != channel) {
                return Err(CanwireError::invalid_argument(
                    "on a bus opened on all interfaces (channel \"\"), the messages of a kernel task name one interface: set the same channel on each, e.g. 'vcan0'",
                ));
            }
            Some(channel)
        } else {
            None
        };
        Ok((fd, target))
    }

    /// Adds a stopped task; returns its id.
    pub fn add(
        &self,
        frames: Vec<Frame>,
        timing: CyclicTiming,
        on_error: Option<ErrorSink>,
    ) -> Result<u64> {
        program::check(&timing)?;
        let (fd, target) = self.check_frames(&frames)?;
        if self.closed.load(Ordering::Acquire) {
            return Err(self.closed_error());
        }
        let id = self.next_task.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(
            id,
            Job {
                frames,
                timing,
                fd,
                target,
                run: None,
                sent_before: 0,
                send_errors: 0,
                last_error: None,
                on_error,
            },
        );
        Ok(id)
    }

    fn request(&self, head: &Head, frames: &[Frame], target: Option<u32>) -> Result<()> {
        let raw: Vec<CanFdFrame> = frames
            .iter()
            .map(|f| {
                let mut r = CanFdFrame::default();
                encode(f, &mut r);
                r
            })
            .collect();
        let message = msg::encode(head, &raw);
        let socket = sync_util::read(&self.socket);
        let socket = socket.as_ref().ok_or_else(|| self.closed_error())?;
        socket.send(&message, target).map_err(|errno| {
            os_error(
                &format!(
                    "the broadcast manager request {} on {}",
                    head.opcode, self.label
                ),
                errno,
            )
        })
    }

    fn program_head(job: &Job, key: u32, p: &Program, extra: u32) -> Head {
        let mut flags = extra;
        if p.count > 0 {
            flags |= TX_COUNTEVT;
        }
        if job.fd {
            flags |= CAN_FD_FRAME;
        }
        Head {
            opcode: msg::TX_SETUP,
            flags,
            count: p.count,
            ival1_us: p.ival1_us,
            ival2_us: p.ival2_us,
            can_id: key,
        }
    }

    /// Frames the kernel sent for this run so far (procfs), or as many as were
    /// due since its start where procfs does not tell.
    fn run_sent(&self, job: &Job, run: &Run) -> u64 {
        self.inode
            .and_then(read_tx_sent)
            .and_then(|m| m.get(&run.key).copied())
            .unwrap_or_else(|| {
                job.timing
                    .slots_due_by(self.clock.now().saturating_sub(run.started_ns))
            })
    }

    /// Deletes the job's kernel run, adding what it sent to the total. The
    /// timer is stopped first (TX_SETUP with both intervals 0 cancels it, and
    /// waits for a handler that is running), so no frame can go between
    /// reading the kernel's counter and deleting the job.
    fn end_run(&self, job: &mut Job) {
        let Some(run) = job.run.take() else { return };
        let fd_flag = if job.fd { CAN_FD_FRAME } else { 0 };
        let freeze = Head {
            opcode: msg::TX_SETUP,
            flags: SETTIMER | fd_flag,
            can_id: run.key,
            ..Head::default()
        };
        // These fail only when the job is gone already (closed socket): nothing left to stop.
        let _ = self.request(&freeze, &job.frames, job.target);
        job.sent_before += self.run_sent(job, &run);
        let delete = Head {
            opcode: msg::TX_DELETE,
            flags: fd_flag,
            can_id: run.key,
            ..Head::default()
        };
        let _ = self.request(&delete, &[], job.target);
    }

    fn with_job<T>(&self, id: u64, f: impl FnOnce(&mut Job) -> Result<T>) -> Result<T> {
        let mut jobs = self.lock();
        let job = jobs
            .get_mut(&id)
            .ok_or_else(|| CanwireError::closed("the cyclic task"))?;
        f(job)
    }

    /// (Re)starts a task: a new kernel job whose first frame goes now.
    pub fn start(&self, id: u64) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(self.closed_error());
        }
        self.with_job(id, |job| {
            self.end_run(job);
            let Some(program) = next_program(&job.timing, 0)? else {
                return Ok(());
            };
            let key = self.next_key.fetch_add(1, Ordering::Relaxed);
            let head = Self::program_head(job, key, &program, SETTIMER | STARTTIMER);
            self.request(&head, &job.frames, job.target)?;
            job.run = Some(Run {
                key,
                program,
                done: 0,
                started_ns: self.clock.now(),
            });
            Ok(())
        })
    }

    /// Stops a task (`TX_DELETE`).
    pub fn stop(&self, id: u64) -> Result<()> {
        self.with_job(id, |job| {
            self.end_run(job);
            Ok(())
        })
    }

    /// Replaces the frames of a running job in place: the kernel keeps its
    /// timer, count and round-robin position, and the next frame due carries
    /// the new data.
    pub fn modify(&self, id: u64, frames: Vec<Frame>) -> Result<()> {
        let (fd, target) = self.check_frames(&frames)?;
        self.with_job(id, |job| {
            if frames.len() != job.frames.len() {
                return Err(CanwireError::invalid_argument(format!(
                    "modifyData takes as many messages as the task has ({}), got {}",
                    job.frames.len(),
                    frames.len()
                )));
            }
            if fd != job.fd || target != job.target {
                return Err(CanwireError::invalid_argument(
                    "modifyData on a kernel task keeps its frame type (classic or FD) and interface",
                ));
            }
            if let Some(run) = &job.run {
                // No SETTIMER/STARTTIMER: timer, count and position stay; the
                // flags are rewritten, so TX_COUNTEVT and CAN_FD_FRAME go again.
                let head = Self::program_head(job, run.key, &run.program, 0);
                self.request(
                    &Head {
                        count: 0,
                        ival1_us: 0,
                        ival2_us: 0,
                        ..head
                    },
                    &frames,
                    job.target,
                )?;
            }
            job.frames = frames;
            Ok(())
        })
    }

    /// The task's frames.
    pub fn frames(&self, id: u64) -> Result<Vec<Frame>> {
        self.with_job(id, |job| Ok(job.frames.clone()))
    }

    /// The task's counters.
    pub fn stats(&self, id: u64) -> Result<CyclicTaskStats> {
        self.with_job(id, |job| {
            let running = job.run.as_ref().map(|run| self.run_sent(job, run));
            Ok(CyclicTaskStats {
                sent: job.sent_before + running.unwrap_or(0),
                missed: 0,
                late: Default::default(),
                send_errors: job.send_errors,
                last_error: job.last_error.clone(),
                running: running.is_some(),
                late_modifier: 0,
                modifier_errors: 0,
                sent_counted: SentCounting::Frames,
            })
        })
    }

    /// Stops a task and forgets it. Idempotent.
    pub fn remove(&self, id: u64) {
        let mut jobs = self.lock();
        if let Some(mut job) = jobs.remove(&id) {
            self.end_run(&mut job);
        }
    }

    /// Closes the socket: the kernel drops every job. Idempotent.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        signal_eventfd(&self.wake);
        crate::sync_util::join_unless_current(&self.thread);
        let mut jobs = self.lock();
        for job in jobs.values_mut() {
            self.end_run(job);
        }
        drop(jobs);
        sync_util::write(&self.socket).take();
    }

    /// A job's count ran out: load its next program, or end it.
    fn on_count_done(&self, key: u32) {
        let mut jobs = self.lock();
        let Some(job) = jobs
            .values_mut()
            .find(|j| j.run.as_ref().is_some_and(|r| r.key == key))
        else {
            return; // a run stopped since
        };
        let run = job.run.as_ref().expect("found by its run");
        match run.program.after {
            AfterCount::Continue => {}
            AfterCount::End => self.end_run(job),
            AfterCount::Update => {
                // A late switch lets frames go at ival2 meanwhile: count them as done.
                let done = (run.done + u64::from(run.program.count)).max(self.run_sent(job, run));
                let key = run.key;
                match next_program(&job.timing, done) {
                    Ok(Some(program)) => {
                        let head = Self::program_head(job, key, &program, SETTIMER);
                        match self.request(&head, &job.frames, job.target) {
                            Ok(()) => {
                                let run = job.run.as_mut().expect("found by its run");
                                run.program = program;
                                run.done = done;
                            }
                            Err(e) => {
                                job.send_errors += 1;
                                job.last_error = Some(e.to_string());
                                if let Some(sink) = &job.on_error {
                                    sink(&e);
                                }
                                self.end_run(job);
                            }
                        }
                    }
                    _ => self.end_run(job),
                }
            }
        }
    }

    /// The socket reported an error (the interface went down or away).
    fn on_socket_error(&self, errno: i32) {
        let error = os_error(
            &format!("cyclic sends by the broadcast manager on {}", self.label),
            errno,
        );
        let sinks: Vec<ErrorSink> = {
            let mut jobs = self.lock();
            jobs.values_mut()
                .filter(|j| j.run.is_some())
                .filter_map(|job| {
                    job.send_errors += 1;
                    job.last_error = Some(error.to_string());
                    job.on_error.clone()
                })
                .collect()
        };
        for sink in sinks {
            sink(&error);
        }
    }

    fn run_events(&self) {
        let mut buf = vec![0u8; HEAD_SIZE + CANFD_MTU];
        loop {
            let mut fds = [
                libc::pollfd {
                    fd: self.raw_fd,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.wake.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            if poll(&mut fds, -1).is_err() || fds[1].revents != 0 {
                return;
            }
            loop {
                let received = {
                    let socket = sync_util::read(&self.socket);
                    let Some(socket) = socket.as_ref() else {
                        return;
                    };
                    socket.recv(&mut buf)
                };
                match received {
                    Ok(Some(r)) => {
                        if let Some((head, _)) = msg::decode(&buf[..r.len])
                            && head.opcode == msg::TX_EXPIRED
                        {
                            self.on_count_done(head.can_id);
                        }
                    }
                    Ok(None) => break,
                    Err(errno) => {
                        self.on_socket_error(errno);
                        break;
                    }
                }
            }
        }
    }
}

/// One kernel-scheduled task of a bus, as a [`CyclicBackend`].
pub struct BcmTask {
    tx: Arc<BcmTx>,
    id: u64,
}

impl BcmTask {
    /// Adds a stopped task to the bus's BCM socket.
    pub fn add(
        tx: Arc<BcmTx>,
        frames: Vec<Frame>,
        timing: CyclicTiming,
        on_error: Option<ErrorSink>,
    ) -> Result<Self> {
        let id = tx.add(frames, timing, on_error)?;
        Ok(Self { tx, id })
    }
}

impl CyclicBackend for BcmTask {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Kernel
    }
    fn start(&self) -> Result<()> {
        self.tx.start(self.id)
    }
    fn stop(&self) -> Result<()> {
        self.tx.stop(self.id)
    }
    fn modify(&self, frames: Vec<Frame>) -> Result<()> {
        self.tx.modify(self.id, frames)
    }
    fn frames(&self) -> Result<Vec<Frame>> {
        self.tx.frames(self.id)
    }
    fn stats(&self) -> Result<CyclicTaskStats> {
        self.tx.stats(self.id)
    }
    fn remove(&self) {
        self.tx.remove(self.id);
    }
}
