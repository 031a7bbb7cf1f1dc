//! [`CyclicSchedule`]: one cyclic task's timing and round-robin frames.

use crate::error::{CanwireError, Result};
use crate::frame::Frame;

/// When a task ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CyclicLimit {
    /// Runs until stopped.
    Forever,
    /// Ends after this many frames (the initial phase included).
    Count(u64),
    /// Ends once this many ns have passed since the start: frames due at or after it are not sent.
    Duration(u64),
}

/// Timing of a task: an optional initial phase, then the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyclicTiming {
    /// Interval of the steady phase in ns (> 0).
    pub period_ns: u64,
    /// `(count, interval_ns)`: the first `count` frames go at this interval.
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
    start_ns: u64,
    /// The next slot to send.
    slot: u64,
    running: bool,
    sent: u64,
    missed: u64,
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
            start_ns: 0,
            slot: 0,
            running: false,
            sent: 0,
            missed: 0,
        })
    }

    /// Starts (or restarts) the task: the first frame is due at `now`.
    pub fn start(&mut self, now: u64) {
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

    /// Slots skipped because the driver was late by more than a period.
    pub fn missed(&self) -> u64 {
        self.missed
    }

    fn ended(&self, slot: u64) -> bool {
        match self.timing.limit {
            CyclicLimit::Forever => false,
            CyclicLimit::Count(n) => slot >= n,
            CyclicLimit::Duration(d) => self.timing.offset_of(slot) >= d,
        }
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

    /// The frame due at `now`, if one is. Slots more than a period in the past
    /// are skipped (counted in [`CyclicSchedule::missed`]); their frames are not sent.
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
        // The latest slot whose instant has come: send that one, skip those before it.
        let current = self
            .timing
            .slot_at_or_after(now - self.start_ns + 1)
            .saturating_sub(1)
            .max(self.slot);
        let current = (self.slot..=current)
            .rev()
            .find(|s| !self.ended(*s))
            .unwrap_or(self.slot);
        self.missed += current - self.slot;
        let frame = self.frames[(current % self.frames.len() as u64) as usize];
        self.slot = current + 1;
        self.sent += 1;
        if self.ended(self.slot) {
            self.running = false;
        }
        Some((current, frame))
    }
}
