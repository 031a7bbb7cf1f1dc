//! BCM mode: single sends, cyclic jobs on canwire's native scheduler, and
//! subscriptions and content filters.
//!
//! Subscriptions and filters run canwire's sans-IO watch machine
//! ([`canwire_core::watch::Watcher`]) inside the connection, on the
//! connection's own reader (not `canwire_bus::watch`, whose one thread per
//! watch suits a few JS watches, not a client's hundreds of ids). A
//! `muxfilter` is one watcher per multiplex value.
//!
//! A subscription to an error id (`CAN_ERR_FLAG` set, e.g. `< subscribe 0 0
//! 20000004 >`) sends the error frames the bus receives whose class shares a
//! bit with the id's low 29 bits, as socketcand writes BCM error frames:
//! `< error 20000004 SEC.USEC XX XX XX XX XX XX XX XX  >` (the id with
//! `CAN_ERR_FLAG`, the 8 data bytes), throttled by the subscription's
//! interval as a data subscription is ([`ErrorSubscription`]); error frames
//! never reach the data subscriptions.
//!
//! Cyclic jobs (`add`) are native [`CyclicTask`]s on the connection's view
//! of the bus, so other clients see their frames; as in socketcand (no
//! TX_ANNOUNCE), a job's first frame goes one interval after the command.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use canwire_bus::cyclic::{CyclicTask, SchedulerKind, TaskHooks};
use canwire_bus::time::realtime_ns;
use canwire_core::Frame;
use canwire_core::cyclic::CyclicTiming;
use canwire_core::error::Result;
use canwire_core::watch::{WatchConfig, Watcher};

use super::error_subscription::ErrorSubscription;
use super::output::Output;
use super::session::SessionContext;
use super::view_reader::ViewReader;
use crate::protocol::{CanId, Command, format};

type Key = (u32, bool);

fn key(id: CanId) -> Key {
    (id.id, id.extended)
}

struct Job {
    task: CyclicTask,
    start_at: Option<Instant>,
}

/// One id's subscription, filter or multiplex filter.
enum Subscription {
    Plain(Box<Watcher>),
    Mux {
        mux_mask: [u8; 8],
        by_value: Vec<([u8; 8], Watcher)>,
    },
}

/// The state of a connection in BCM mode.
#[derive(Default)]
pub struct BcmMode {
    reader: Option<ViewReader>,
    jobs: HashMap<Key, Job>,
    subscriptions: HashMap<Key, Subscription>,
    /// The subscription to error frames, if any.
    errors: Option<Box<ErrorSubscription>>,
    batch: Vec<Frame>,
}

/// `CAN_ERR_FLAG`, as it stands in the ids of BCM error elements.
const ERR_FLAG: u32 = 0x2000_0000;

/// A received error frame as socketcand's BCM mode writes it.
fn bcm_error(out: &mut String, frame: &Frame) {
    use std::fmt::Write;
    let _ = write!(out, "< error {:03X} ", ERR_FLAG | (frame.id & 0x1FFF_FFFF));
    format::push_timestamp(out, frame.timestamp_ns);
    out.push(' ');
    for b in frame.data() {
        let _ = write!(out, "{b:02X} ");
    }
    out.push_str(" >");
}

fn watcher(id: CanId, interval_us: u64, change_mask: Option<Vec<u8>>) -> Result<Watcher> {
    Watcher::new(
        WatchConfig {
            id: id.id,
            extended: id.extended,
            fd: false,
            timeout_ns: None,
            change_mask,
            check_dlc: false,
            throttle_ns: (interval_us > 0).then_some(interval_us * 1_000),
            announce_resume: false,
            mux: None,
        },
        realtime_ns(),
    )
}

fn masked(data: &[u8], mask: &[u8; 8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (i, m) in mask.iter().enumerate() {
        out[i] = data.get(i).copied().unwrap_or(0) & m;
    }
    out
}

impl BcmMode {
    fn jobs_in_use(&self) -> usize {
        self.jobs.len() + self.subscriptions.len() + usize::from(self.errors.is_some())
    }

    /// Handles a BCM command; false when the command is not one of this mode.
    pub fn handle(
        &mut self,
        ctx: &SessionContext,
        command: Command,
        now: Instant,
        out: &mut Output,
    ) -> bool {
        let new_job = |this: &Self, k: Key, in_jobs: bool| {
            let present = if in_jobs {
                this.jobs.contains_key(&k)
            } else {
                this.subscriptions.contains_key(&k)
            };
            present || this.jobs_in_use() < ctx.config.max_jobs
        };
        match command {
            Command::Send(frame) if !frame.is_fd() => {
                if ctx.refuse_if_read_only(out) {
                    return true;
                }
                ctx.send(&frame);
            }
            Command::Add { interval_us, frame } => {
                if ctx.refuse_if_read_only(out) {
                    return true;
                }
                let k = (frame.id, frame.is_extended());
                if !new_job(self, k, true) {
                    ctx.refuse(out, b"< error too many jobs >");
                    return true;
                }
                self.jobs.remove(&k);
                let timing = CyclicTiming::every(interval_us * 1_000);
                match CyclicTask::create(
                    ctx.bus.clone(),
                    vec![frame],
                    timing,
                    false,
                    SchedulerKind::Native,
                    TaskHooks::default(),
                ) {
                    Ok(task) => {
                        self.jobs.insert(
                            k,
                            Job {
                                task,
                                start_at: Some(now + Duration::from_micros(interval_us)),
                            },
                        );
                    }
                    Err(_) => ctx.malformed(),
                }
            }
            Command::Update(frame) => {
                if ctx.refuse_if_read_only(out) {
                    return true;
                }
                match self.jobs.get(&(frame.id, frame.is_extended())) {
                    Some(job) if job.task.modify(vec![frame]).is_ok() => {}
                    _ => ctx.malformed(),
                }
            }
            Command::Delete(id) => {
                if self.jobs.remove(&key(id)).is_none() {
                    ctx.malformed();
                }
            }
            Command::Subscribe { interval_us, id } => {
                self.subscribe(ctx, key(id), out, || {
                    Ok(Subscription::Plain(Box::new(watcher(
                        id,
                        interval_us,
                        None,
                    )?)))
                });
            }
            Command::Filter {
                interval_us,
                id,
                mask,
            } => {
                self.subscribe(ctx, key(id), out, || {
                    Ok(Subscription::Plain(Box::new(watcher(
                        id,
                        interval_us,
                        Some(mask),
                    )?)))
                });
            }
            Command::Muxfilter {
                interval_us,
                id,
                tuples,
            } => {
                self.subscribe(ctx, key(id), out, || {
                    let mux_mask = tuples[0];
                    let by_value = tuples[1..]
                        .iter()
                        .map(|t| {
                            Ok((
                                masked(t, &mux_mask),
                                watcher(id, interval_us, Some(t.to_vec()))?,
                            ))
                        })
                        .collect::<Result<Vec<_>>>()?;
                    Ok(Subscription::Mux { mux_mask, by_value })
                });
            }
            Command::Unsubscribe(id) => {
                if self.subscriptions.remove(&key(id)).is_none() {
                    ctx.malformed();
                }
                self.close_reader_if_idle();
            }
            Command::SubscribeErrors {
                classes,
                interval_us,
            } => {
                if self.errors.is_none() && self.jobs_in_use() >= ctx.config.max_jobs {
                    ctx.refuse(out, b"< error too many jobs >");
                    return true;
                }
                if self.open_reader(ctx) {
                    self.errors = Some(Box::new(ErrorSubscription::new(classes, interval_us)));
                }
            }
            Command::UnsubscribeErrors => {
                if self.errors.take().is_none() {
                    ctx.malformed();
                }
                self.close_reader_if_idle();
            }
            _ => return false,
        }
        true
    }

    fn subscribe(
        &mut self,
        ctx: &SessionContext,
        k: Key,
        out: &mut Output,
        make: impl FnOnce() -> Result<Subscription>,
    ) {
        if !self.subscriptions.contains_key(&k) && self.jobs_in_use() >= ctx.config.max_jobs {
            ctx.refuse(out, b"< error too many jobs >");
            return;
        }
        let subscription = match make() {
            Ok(s) => s,
            Err(_) => return ctx.malformed(),
        };
        if self.open_reader(ctx) {
            self.subscriptions.insert(k, subscription);
        }
    }

    /// Opens the reader subscriptions share; false (counted malformed) if it cannot be.
    fn open_reader(&mut self, ctx: &SessionContext) -> bool {
        if self.reader.is_none() {
            match ViewReader::open(&ctx.bus, ctx.config.output_queue_frames) {
                Ok(reader) => self.reader = Some(reader),
                Err(_) => {
                    ctx.malformed();
                    return false;
                }
            }
        }
        true
    }

    fn close_reader_if_idle(&mut self) {
        if self.subscriptions.is_empty() && self.errors.is_none() {
            self.reader = None;
        }
    }

    /// The queue to wait on.
    pub fn readable(&self) -> Option<&Arc<canwire_bus::FrameQueue>> {
        self.reader.as_ref().map(ViewReader::queue)
    }

    /// The next job start or throttle release.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let starts = self.jobs.values().filter_map(|j| j.start_at);
        let now_ns = realtime_ns();
        let now = Instant::now();
        let releases = self
            .watchers()
            .filter_map(|w| w.poll_timeout())
            .chain(self.errors.as_ref().and_then(|e| e.poll_timeout()))
            .map(|at| now + Duration::from_nanos(at.saturating_sub(now_ns)));
        starts.chain(releases).min()
    }

    fn watchers(&self) -> impl Iterator<Item = &Watcher> {
        self.subscriptions
            .values()
            .flat_map(|s| -> Box<dyn Iterator<Item = &Watcher>> {
                match s {
                    Subscription::Plain(w) => Box::new(std::iter::once(&**w)),
                    Subscription::Mux { by_value, .. } => Box::new(by_value.iter().map(|(_, w)| w)),
                }
            })
    }

    /// Starts due jobs and releases throttled frames.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Output) {
        for job in self.jobs.values_mut() {
            if job.start_at.is_some_and(|t| t <= now) {
                job.start_at = None;
                let _ = job.task.start();
            }
        }
        let now_ns = realtime_ns();
        let mut text = String::new();
        if let Some(frame) = self.errors.as_mut().and_then(|e| e.handle_timeout(now_ns)) {
            bcm_error(&mut text, &frame);
        }
        for s in self.subscriptions.values_mut() {
            match s {
                Subscription::Plain(w) => release(w, now_ns, &mut text),
                Subscription::Mux { by_value, .. } => {
                    for (_, w) in by_value {
                        release(w, now_ns, &mut text);
                    }
                }
            }
        }
        out.batch(text);
    }

    /// Feeds waiting frames to the subscriptions and writes what they report.
    pub fn drain(&mut self, out: &mut Output) -> bool {
        let Some(reader) = self.reader.as_mut() else {
            return false;
        };
        self.batch.clear();
        if reader.pop(256, &mut self.batch) == 0 {
            return false;
        }
        let now = realtime_ns();
        let mut text = String::new();
        for frame in &self.batch {
            if frame.is_error() {
                if let Some(frame) = self
                    .errors
                    .as_mut()
                    .and_then(|e| e.handle_frame(now, frame))
                {
                    bcm_error(&mut text, &frame);
                }
                continue;
            }
            let Some(s) = self.subscriptions.get_mut(&(frame.id, frame.is_extended())) else {
                continue;
            };
            match s {
                Subscription::Plain(w) => {
                    w.handle_frame(now, frame);
                    write_events(w, &mut text);
                }
                Subscription::Mux { mux_mask, by_value } => {
                    let value = masked(frame.data(), mux_mask);
                    if let Some((_, w)) = by_value.iter_mut().find(|(v, _)| *v == value) {
                        w.handle_frame(now, frame);
                        write_events(w, &mut text);
                    }
                }
            }
        }
        out.batch(text);
        true
    }
}

fn release(w: &mut Watcher, now_ns: u64, text: &mut String) {
    if w.poll_timeout().is_some_and(|t| t <= now_ns) {
        w.handle_timeout(now_ns);
        write_events(w, text);
    }
}

fn write_events(w: &mut Watcher, text: &mut String) {
    while let Some(event) = w.poll_event() {
        if let Some(frame) = event.frame {
            format::bcm_frame(text, &frame);
        }
    }
}
