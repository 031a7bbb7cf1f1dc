//! [`CyclicSchedule`]: one cyclic task's timing and round-robin frames.

use crate::error::{CanwireError, Result};
use crate::frame::Frame;

/// When a task ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CyclicLimit {
    /// Runs until stopped.
    Forever,
    /// Ends after exactly this many frames (the initial phase included): a
    /// counted task never skips a frame (see [`CyclicSchedule::poll_transmit`]).
    Count(u64),
    /// Ends once this many ns have passed since the start: frames due at or after it are not sent.
    Duration(u64),
}

/// Timing of a task: an optional initial phase, then the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyclicTiming {
    /// Interval of the steady phase in ns (> 0).
    pub period_ns: u64,
    /// `(count, interval_ns)`: the first `count` frames go at this interval
    /// (a frame count: on a counted task, never shortened by a stall).
    pub initial: Option<(u64, u64)>,
    /// When the task ends.
    pub limit: CyclicLimit,
}

impl CyclicTiming {
    /// A plain periodic timing.
    pub const fn every(period_ns: u64) -> Self {
        Self {
            period_ns,
            initial: None,
            limit: CyclicLimit::Forever,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.period_ns == 0 {
            return Err(CanwireError::invalid_argument(
                "the period must be greater than 0",
            ));
        }
        if let Some((count, 0)) = self.initial
            && count > 0
        {
            return Err(CanwireError::invalid_argument(
                "the initial interval must be greater than 0",
            ));
        }
        Ok(())
    }

    /// The ideal instant (relative to the start) of frame slot `n`: slots
    /// `0..count` of an initial phase go `interval` apart from the start, later
    /// ones `period` apart after the last initial slot.
    pub fn offset_of(&self, n: u64) -> u64 {
        match self.initial {
            Some((count, interval)) if n < count => n * interval,
            Some((count, interval)) => (count - 1) * interval + (n - count + 1) * self.period_ns,
            None => n * self.period_ns,
        }
    }

    /// How many frames the limit lets through: `Some(n)` for a count, the
    /// slots due before the end for a duration, `None` for a task that runs forever.
    pub fn frame_limit(&self) -> Option<u64> {
        match self.limit {
            CyclicLimit::Forever => None,
            CyclicLimit::Count(n) => Some(n),
            CyclicLimit::Duration(d) => Some(self.slot_at_or_after(d)),
        }
    }

    /// How many slots are due within `elapsed` ns of the start (slot 0 is due at once),
    /// capped by the limit: the frames a punctual sender has sent by then.
    pub fn slots_due_by(&self, elapsed: u64) -> u64 {
        let due = self.slot_at_or_after(elapsed.saturating_add(1));
        self.frame_limit().map_or(due, |limit| due.min(limit))
    }

    /// The first slot whose ideal instant is at or after `offset`.
    fn slot_at_or_after(&self, offset: u64) -> u64 {
        match self.initial {
            Some((count, interval)) if offset <= (count - 1) * interval => {
                offset.div_ceil(interval)
            }
            Some((count, interval)) => {
                count - 1 + (offset - (count - 1) * interval).div_ceil(self.period_ns)
            }
            None => offset.div_ceil(self.period_ns),
        }
    }
}

/// One cyclic task's schedule.
#[derive(Debug, Clone)]
pub struct CyclicSchedule {
    frames: Vec<Frame>,
    timing: CyclicTiming,
    /// Where the run was started: a duration counts from here.
    origin_ns: u64,
    /// The anchor of the grid: `origin_ns`, moved on by whole intervals each
    /// time a frame went late and the grid resumed after it.
    start_ns: u64,
    /// The next slot to send.
    slot: u64,
    running: bool,
    sent: u64,
    missed: u64,
    late: Lateness,
}

/// Frames sent a whole interval or more after their instant (then the grid
/// resumed after them) and by how much.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lateness {
    /// How many frames went late.
    pub frames: u64,
    /// Their lateness added up, in ns.
    pub total_ns: u64,
    /// The largest lateness, in ns.
    pub max_ns: u64,
}

impl Lateness {
    fn record(&mut self, late_ns: u64) {
        self.frames += 1;
        self.total_ns = self.total_ns.saturating_add(late_ns);
        self.max_ns = self.max_ns.max(late_ns);
    }
}

impl CyclicSchedule {
    /// A stopped task with these frames (sent round-robin) and timing.
    pub fn new(frames: Vec<Frame>, timing: CyclicTiming) -> Result<Self> {
        if frames.is_empty() {
            return Err(CanwireError::invalid_argument(
                "a cyclic task needs at least one message",
            ));
        }
        timing.validate()?;
        let timing = CyclicTiming {
            initial: timing.initial.filter(|(count, _)| *count > 0),
            ..timing
        };
        Ok(Self {
            frames,
            timing,
            origin_ns: 0,
            start_ns: 0,
            slot: 0,
            running: false,
            sent: 0,
            missed: 0,
            late: Lateness::default(),
        })
    }

    /// Starts (or restarts) the task: the first frame is due at `now`.
    pub fn start(&mut self, now: u64) {
        self.origin_ns = now;
        self.start_ns = now;
        self.slot = 0;
        self.running = true;
    }

    /// Stops the task; [`CyclicSchedule::start`] begins a new run.
    pub fn stop(&mut self) {
        self.running = false;
    }

    /// True while frames remain to be sent.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Replaces the frames' content, keeping the count, the phase and the
    /// round-robin position: the next frame due takes the new data.
    pub fn modify_frames(&mut self, frames: Vec<Frame>) -> Result<()> {
        if frames.len() != self.frames.len() {
            return Err(CanwireError::invalid_argument(format!(
                "modifyData takes as many messages as the task has ({}), got {}",
                self.frames.len(),
                frames.len()
            )));
        }
        self.frames = frames;
        Ok(())
    }

    /// The frames, in round-robin order.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The timing.
    pub fn timing(&self) -> CyclicTiming {
        self.timing
    }

    /// Frames handed out since creation.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Slots skipped because the driver was late by a whole period or more
    /// (endless and time-bounded tasks only, never their first slot).
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// Frames sent late (a whole interval or more), after which the grid resumed.
    pub fn late(&self) -> Lateness {
        self.late
    }

    fn ended(&self, slot: u64) -> bool {
        match self.timing.limit {
            CyclicLimit::Forever => false,
            CyclicLimit::Count(n) => slot >= n,
            CyclicLimit::Duration(d) => {
                self.start_ns + self.timing.offset_of(slot) >= self.origin_ns.saturating_add(d)
            }
        }
    }

    /// True when a stall may skip slots: endless and time-bounded tasks.
    fn skips(&self) -> bool {
        !matches!(self.timing.limit, CyclicLimit::Count(_))
    }

    /// The absolute instant the next frame is due, or `None` when stopped or ended.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.running
            .then(|| self.start_ns + self.timing.offset_of(self.slot))
    }

    /// The frame of the next slot (what [`CyclicSchedule::poll_transmit`]
    /// hands out when called on time).
    pub fn next_frame(&self) -> &Frame {
        &self.frames[(self.slot % self.frames.len() as u64) as usize]
    }

    /// Replaces the frame at round-robin `position` (ignored past the end):
    /// its next turn carries it.
    pub fn set_frame(&mut self, position: usize, frame: Frame) {
        if let Some(slot) = self.frames.get_mut(position) {
            *slot = frame;
        }
    }

    /// The frame due at `now`, if one is.
    ///
    /// A driver back a whole interval or more after a deadline never sends a
    /// burst. On a counted task (and for the first slot of any run) the frame
    /// of that slot goes now, late (counted in [`CyclicSchedule::late`]), and
    /// the grid resumes at its first instant after `now`: the grid moves by
    /// whole intervals, so every frame of the count goes and the round-robin
    /// order stays. On an endless or time-bounded task the slots that passed
    /// are skipped (counted in [`CyclicSchedule::missed`]; their frames are
    /// not sent) and the current slot's frame goes, keeping the phase.
    pub fn poll_transmit(&mut self, now: u64) -> Option<Frame> {
        self.poll_transmit_slot(now).map(|(_, frame)| frame)
    }

    /// As [`CyclicSchedule::poll_transmit`], with the slot number (0 at the
    /// start; the round-robin position is `slot % frames().len()`).
    pub fn poll_transmit_slot(&mut self, now: u64) -> Option<(u64, Frame)> {
        if !self.running {
            return None;
        }
        if self.ended(self.slot) {
            self.running = false;
            return None;
        }
        let due = self.start_ns + self.timing.offset_of(self.slot);
        if now < due {
            return None;
        }
        let next_due = self.start_ns + self.timing.offset_of(self.slot + 1);
        let current = if now < next_due {
            self.slot
        } else if self.slot == 0 || !self.skips() {
            // The next frame goes at the first instant of the grid after now.
            let interval = next_due - due;
            self.start_ns += ((now - next_due) / interval + 1) * interval;
            self.late.record(now - due);
            self.slot
        } else {
            // The latest slot whose instant has come: send that one, skip those before it.
            let latest = self
                .timing
                .slot_at_or_after(now - self.start_ns + 1)
                .saturating_sub(1)
                .max(self.slot);
            let latest = (self.slot..=latest)
                .rev()
                .find(|s| !self.ended(*s))
                .unwrap_or(self.slot);
            self.missed += latest - self.slot;
            latest
        };
        let frame = self.frames[(current % self.frames.len() as u64) as usize];
        self.slot = current + 1;
        self.sent += 1;
        if self.ended(self.slot) {
            self.running = false;
        }
        Some((current, frame))
    }
}
