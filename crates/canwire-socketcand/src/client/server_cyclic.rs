//! Periodic tasks run by the socketcand server (`scheduler: "server"`):
//! BCM `add`/`update`/`delete` on a second connection in BCM mode, so the
//! server's clock paces the frames and the network's jitter does not.
//!
//! socketcand's BCM job sends one frame forever at one interval, and its
//! first frame only one interval after `add`; a task therefore starts with a
//! `send` (canwire's tasks send their first frame at once) followed by the
//! `add`. Tasks with several frames, a count or a duration are refused
//! (`ERR_UNSUPPORTED`): use the native scheduler for them. The server does
//! not report what it sent, so a task's `sent` is an estimate from the
//! schedule ([`sent_from_schedule`]; its stats say `sent_counted:
//! Schedule`): the first frame plus one per whole interval elapsed since the
//! `add` (an `update` leaves the timer alone). The jobs end with
//! the connection (socketcand deletes them); a lost BCM connection is
//! reported as a receive error of the bus and is not reopened.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use canwire_bus::cyclic::{CyclicBackend, CyclicTaskStats, SchedulerKind, SentCounting};
use canwire_bus::sync_util::lock;
use canwire_core::cyclic::{CyclicLimit, CyclicTiming};
use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, Frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::link::connect_mode;
use super::transport::ClientShared;
use crate::protocol::{ReadElement, ServerElement, format, parse_server_element};

/// Commands waiting for the BCM connection, at most.
const COMMAND_QUEUE: usize = 1024;

/// The BCM connection that carries the server-side tasks of one bus.
pub struct BcmLink {
    commands: mpsc::Sender<String>,
}

impl BcmLink {
    /// Opens the connection (handshake up to BCM mode) on the crate's runtime.
    pub async fn open(shared: Arc<ClientShared>) -> Result<Arc<Self>> {
        let (stream, mut elements) = connect_mode(&shared, false).await?;
        let (tx, mut rx) = mpsc::channel::<String>(COMMAND_QUEUE);
        let mut shutdown = shared.shutdown.subscribe();
        crate::runtime::handle().spawn(async move {
            let (mut reader, mut writer) = stream.into_split();
            let mut buf = vec![0u8; 4096];
            let lost = loop {
                while let Some(ReadElement::Element(e)) = elements.next_element() {
                    if let ServerElement::Error(message) = parse_server_element(&e) {
                        shared.remote_error(&message);
                    }
                }
                tokio::select! {
                    _ = shutdown.changed() => return,
                    command = rx.recv() => match command {
                        Some(text) => {
                            if let Err(e) = writer.write_all(text.as_bytes()).await {
                                break format!("writing failed: {e}");
                            }
                        }
                        None => return,
                    },
                    read = reader.read(&mut buf) => match read {
                        Ok(0) => break "the server closed the connection".to_string(),
                        Ok(n) => elements.push(&buf[..n]),
                        Err(e) => break format!("reading failed: {e}"),
                    },
                }
            };
            shared.server_tasks_lost(&lost);
        });
        Ok(Arc::new(Self { commands: tx }))
    }

    fn command(&self, text: String) -> Result<()> {
        self.commands.try_send(text).map_err(|e| {
            let why = match e {
                mpsc::error::TrySendError::Full(_) => "its command queue is full",
                mpsc::error::TrySendError::Closed(_) => "the connection is lost",
            };
            CanwireError::new(
                ErrorCode::Unreachable,
                format!("the socketcand server's cyclic tasks cannot be changed: {why}"),
            )
        })
    }
}

/// `< add SEC USEC ID DLC b… >`.
pub fn add_command(period_us: u64, frame: &Frame) -> String {
    let mut text = format!("< add {} {} ", period_us / 1_000_000, period_us % 1_000_000);
    format::push_id(&mut text, frame.id, frame.is_extended());
    push_data(&mut text, frame);
    text
}

/// `< update ID DLC b… >`.
pub fn update_command(frame: &Frame) -> String {
    let mut text = String::from("< update ");
    format::push_id(&mut text, frame.id, frame.is_extended());
    push_data(&mut text, frame);
    text
}

/// `< delete ID >`.
pub fn delete_command(frame: &Frame) -> String {
    let mut text = String::from("< delete ");
    format::push_id(&mut text, frame.id, frame.is_extended());
    text.push_str(" >");
    text
}

fn push_data(text: &mut String, frame: &Frame) {
    text.push_str(&format!(" {}", frame.data().len()));
    for b in frame.data() {
        text.push_str(&format!(" {b:02X}"));
    }
    text.push_str(" >");
}

/// The period in µs of a timing socketcand's BCM can run, or why not.
pub fn server_period_us(frames: &[Frame], timing: &CyclicTiming) -> Result<u64> {
    let unsupported = |why: &str| {
        Err(CanwireError::new(
            ErrorCode::Unsupported,
            format!(
                "socketcand's server-side tasks (scheduler \"server\") {why}; open the bus without it to use canwire's native scheduler"
            ),
        ))
    };
    if frames.len() != 1 {
        return unsupported("send one frame each");
    }
    if frames[0].is_fd() || frames[0].is_remote() {
        return unsupported("send classic data frames only");
    }
    if timing.initial.is_some() || timing.limit != CyclicLimit::Forever {
        return unsupported(
            "run at one interval until stopped (no initial phase, count or duration)",
        );
    }
    if !timing.period_ns.is_multiple_of(1_000) {
        return unsupported("have periods in whole microseconds");
    }
    Ok(timing.period_ns / 1_000)
}

/// Frames a task the server runs has sent by `now`, estimated from its
/// schedule: the `send` at `added` plus the `add`'s job, whose frames fall
/// one whole `period_us` apart from `added` on.
pub fn sent_from_schedule(added: Instant, now: Instant, period_us: u64) -> u64 {
    let elapsed = now.saturating_duration_since(added);
    let period = Duration::from_micros(period_us.max(1));
    1 + (elapsed.as_nanos() / period.as_nanos()) as u64
}

/// Sends one frame on the bus at once (a task's first frame).
pub type SendNow = Box<dyn Fn(&Frame) -> Result<()> + Send + Sync>;

/// One task the server runs.
pub struct ServerCyclicTask {
    link: Arc<BcmLink>,
    /// The frame as the server sends it, and how it was last told.
    frame: Mutex<Frame>,
    period_us: u64,
    running: AtomicBool,
    /// The `send` that makes the first frame go at once.
    send_now: SendNow,
    /// The schedule's estimate: frames of earlier runs, and the current run's `add` instant.
    schedule: Mutex<Schedule>,
}

/// What [`sent_from_schedule`] needs across start and stop.
#[derive(Default)]
struct Schedule {
    sent_before: u64,
    added: Option<Instant>,
}

impl Schedule {
    fn sent(&self, period_us: u64, now: Instant) -> u64 {
        self.sent_before
            + self
                .added
                .map_or(0, |added| sent_from_schedule(added, now, period_us))
    }
}

impl ServerCyclicTask {
    /// A task of `frame` every `period_us`, not started; `send_now` sends one frame on the bus.
    pub fn new(link: Arc<BcmLink>, frame: Frame, period_us: u64, send_now: SendNow) -> Self {
        Self {
            link,
            frame: Mutex::new(frame),
            period_us,
            running: AtomicBool::new(false),
            send_now,
            schedule: Mutex::new(Schedule::default()),
        }
    }
}

impl CyclicBackend for ServerCyclicTask {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Native
    }

    fn start(&self) -> Result<()> {
        let frame = *lock(&self.frame);
        (self.send_now)(&frame)?;
        // `add` for an existing job replaces it and restarts its timer
        let added = Instant::now();
        self.link.command(add_command(self.period_us, &frame))?;
        let mut schedule = lock(&self.schedule);
        schedule.sent_before = schedule.sent(self.period_us, added);
        schedule.added = Some(added);
        self.running.store(true, Relaxed);
        Ok(())
    }

    fn stop(&self) -> Result<()> {
        if self.running.swap(false, Relaxed) {
            let mut schedule = lock(&self.schedule);
            schedule.sent_before = schedule.sent(self.period_us, Instant::now());
            schedule.added = None;
            drop(schedule);
            self.link.command(delete_command(&lock(&self.frame)))?;
        }
        Ok(())
    }

    fn modify(&self, frames: Vec<Frame>) -> Result<()> {
        let Some(new) = frames.first() else {
            return Ok(());
        };
        let mut frame = lock(&self.frame);
        if new.id != frame.id || new.is_extended() != frame.is_extended() {
            return Err(CanwireError::invalid_argument(
                "a server-side task keeps its id: socketcand's update names the job by id",
            ));
        }
        *frame = *new;
        if self.running.load(Relaxed) {
            self.link.command(update_command(&frame))?;
        }
        Ok(())
    }

    fn frames(&self) -> Result<Vec<Frame>> {
        Ok(vec![*lock(&self.frame)])
    }

    fn stats(&self) -> Result<CyclicTaskStats> {
        Ok(CyclicTaskStats {
            sent: lock(&self.schedule).sent(self.period_us, Instant::now()),
            sent_counted: SentCounting::Schedule,
            running: self.running.load(Relaxed),
            ..CyclicTaskStats::default()
        })
    }

    fn remove(&self) {
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcm_commands_as_socketcand_reads_them() {
        let f = Frame::classic(0x123, false, &[0xAA, 0x01]);
        assert_eq!(add_command(20_000, &f), "< add 0 20000 123 2 AA 01 >");
        assert_eq!(add_command(1_500_000, &f), "< add 1 500000 123 2 AA 01 >");
        assert_eq!(
            update_command(&Frame::classic(0x1ABC_DEF0, true, &[])),
            "< update 1ABCDEF0 0 >"
        );
        assert_eq!(delete_command(&f), "< delete 123 >");
    }

    #[test]
    fn sent_is_the_first_frame_plus_each_whole_interval() {
        let added = Instant::now();
        let at = |us: u64| added + Duration::from_micros(us);
        assert_eq!(sent_from_schedule(added, added, 20_000), 1);
        assert_eq!(sent_from_schedule(added, at(19_999), 20_000), 1);
        assert_eq!(sent_from_schedule(added, at(20_000), 20_000), 2);
        assert_eq!(sent_from_schedule(added, at(1_000_000), 20_000), 51);
        // a clock read before the add counts only the first frame
        assert_eq!(sent_from_schedule(at(5), added, 20_000), 1);
    }

    #[test]
    fn runs_add_up_and_a_stopped_task_stays_put() {
        let t0 = Instant::now();
        let at = |us: u64| t0 + Duration::from_micros(us);
        let mut s = Schedule::default();
        assert_eq!(s.sent(1_000, at(0)), 0);
        s.added = Some(t0);
        assert_eq!(s.sent(1_000, at(3_500)), 4);
        // stop at 3.5 ms, as `stop` does
        s.sent_before = s.sent(1_000, at(3_500));
        s.added = None;
        assert_eq!(s.sent(1_000, at(90_000)), 4);
        // restart at 10 ms
        s.added = Some(at(10_000));
        assert_eq!(s.sent(1_000, at(12_000)), 4 + 3);
    }

    #[test]
    fn only_what_bcm_can_run() {
        let one = [Frame::classic(1, false, &[])];
        assert_eq!(
            server_period_us(&one, &CyclicTiming::every(20_000_000)).unwrap(),
            20_000
        );
        let two = [one[0], one[0]];
        assert_eq!(
            server_period_us(&two, &CyclicTiming::every(1_000_000))
                .unwrap_err()
                .code,
            ErrorCode::Unsupported
        );
        let counted = CyclicTiming {
            limit: CyclicLimit::Count(5),
            ..CyclicTiming::every(1_000_000)
        };
        assert_eq!(
            server_period_us(&one, &counted).unwrap_err().code,
            ErrorCode::Unsupported
        );
        assert_eq!(
            server_period_us(&one, &CyclicTiming::every(1_500))
                .unwrap_err()
                .code,
            ErrorCode::Unsupported
        );
    }
}
