//! [`Watcher`]: the state of one watched id.

use std::collections::VecDeque;

use crate::error::{CanwireError, Result};
use crate::frame::{Frame, check_id};

/// What to watch and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchConfig {
    /// The CAN id.
    pub id: u32,
    /// A 29-bit id.
    pub extended: bool,
    /// Watch FD frames of the id (classic frames otherwise).
    pub fd: bool,
    /// Report a timeout when no frame of the id comes for this long (ns).
    pub timeout_ns: Option<u64>,
    /// Report only changes of these data bits (`None`: every frame).
    pub change_mask: Option<Vec<u8>>,
    /// With a mask, a length change is a change too.
    pub check_dlc: bool,
    /// Hold back events closer together than this (ns).
    pub throttle_ns: Option<u64>,
    /// After a timeout, report the next frame whatever its data.
    pub announce_resume: bool,
    /// A multiplexed id: a change mask per multiplexer value (classic frames,
    /// instead of `change_mask`). Only a socketcand server runs it.
    pub mux: Option<WatchMux>,
}

/// The multiplexer of a watch, as the BCM's muxfilter takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchMux {
    /// The data bits that hold the multiplexer value.
    pub mask: [u8; 8],
    /// One entry per watched multiplexer value: its value under `mask`, and
    /// elsewhere the data bits whose changes are reported for that value.
    pub cases: Vec<[u8; 8]>,
}

impl WatchMux {
    /// Most multiplexer values one watch takes (socketcand's muxfilter: 256).
    pub const MAX_CASES: usize = 256;

    /// A multiplexer from its mask and `(value, change mask)` per watched value;
    /// each is at most 8 bytes (missing bytes are 0).
    pub fn new(mask: &[u8], cases: &[(&[u8], &[u8])]) -> Result<Self> {
        let bytes = |name: &str, b: &[u8]| -> Result<[u8; 8]> {
            if b.len() > 8 {
                return Err(CanwireError::invalid_argument(format!(
                    "mux {name} covers at most 8 bytes (classic frames), got {}",
                    b.len()
                )));
            }
            let mut out = [0u8; 8];
            out[..b.len()].copy_from_slice(b);
            Ok(out)
        };
        let mask = bytes("mask", mask)?;
        if mask == [0; 8] {
            return Err(CanwireError::invalid_argument(
                "mux mask must select at least one bit",
            ));
        }
        if cases.is_empty() || cases.len() > Self::MAX_CASES {
            return Err(CanwireError::invalid_argument(format!(
                "mux takes 1 to {} values, got {}",
                Self::MAX_CASES,
                cases.len()
            )));
        }
        let cases = cases
            .iter()
            .map(|(value, change)| {
                let (value, change) = (bytes("value", value)?, bytes("changeMask", change)?);
                Ok(std::array::from_fn(|i| {
                    (value[i] & mask[i]) | (change[i] & !mask[i])
                }))
            })
            .collect::<Result<Vec<[u8; 8]>>>()?;
        Ok(Self { mask, cases })
    }
}

impl WatchConfig {
    /// Checks the id range, the mask length and the times.
    pub fn validate(&self) -> Result<()> {
        check_id("id", self.id, self.extended)?;
        if self.mux.is_some() && (self.fd || self.change_mask.is_some()) {
            return Err(CanwireError::invalid_argument(
                "mux watches classic frames and replaces changeMask: give fd false and no changeMask",
            ));
        }
        let room = if self.fd { 64 } else { 8 };
        if let Some(mask) = &self.change_mask
            && mask.len() > room
        {
            return Err(CanwireError::invalid_argument(format!(
                "changeMask covers at most {room} bytes for {} frames, got {}",
                if self.fd { "FD" } else { "classic" },
                mask.len()
            )));
        }
        for (name, value) in [
            ("timeoutMs", self.timeout_ns),
            ("throttleMs", self.throttle_ns),
        ] {
            if value == Some(0) {
                return Err(CanwireError::invalid_argument(format!(
                    "{name} must be greater than 0"
                )));
            }
        }
        Ok(())
    }

    /// True for a frame of the watched id and kind (data frames only).
    pub fn matches(&self, frame: &Frame) -> bool {
        frame.id == self.id
            && frame.is_extended() == self.extended
            && frame.is_fd() == self.fd
            && !frame.is_remote()
            && !frame.is_error()
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEventKind {
    /// No frame of the id came within the timeout.
    Timeout,
    /// A frame whose masked data (or length) differs from the last reported one.
    Changed,
    /// A frame of the id (watches without a change mask).
    Received,
}

/// One event of a watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchEvent {
    /// What happened.
    pub kind: WatchEventKind,
    /// The frame, for `Changed` and `Received`.
    pub frame: Option<Frame>,
    /// When, on the clock the watcher is driven with: a timeout's deadline,
    /// the arrival of a frame, or the end of the throttle time that released it.
    pub at_ns: u64,
}

/// One watched id.
#[derive(Debug, Clone)]
pub struct Watcher {
    config: WatchConfig,
    mask: [u8; 64],
    /// The last frame reported or held back (what changes compare against).
    last: Option<Frame>,
    timeout_at: Option<u64>,
    /// When the last event not released by the throttle timer went.
    last_notified: Option<u64>,
    throttle_at: Option<u64>,
    held: Option<Frame>,
    events: VecDeque<WatchEvent>,
}

impl Watcher {
    /// Starts watching at `now`: the timeout, if any, is armed.
    pub fn new(config: WatchConfig, now: u64) -> Result<Self> {
        config.validate()?;
        let mut mask = [0u8; 64];
        if let Some(m) = &config.change_mask {
            mask[..m.len()].copy_from_slice(m);
        }
        Ok(Self {
            timeout_at: config.timeout_ns.map(|t| now.saturating_add(t)),
            config,
            mask,
            last: None,
            last_notified: None,
            throttle_at: None,
            held: None,
            events: VecDeque::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &WatchConfig {
        &self.config
    }

    fn kind(&self) -> WatchEventKind {
        if self.config.change_mask.is_some() {
            WatchEventKind::Changed
        } else {
            WatchEventKind::Received
        }
    }

    fn changed(&self, frame: &Frame) -> bool {
        let Some(last) = &self.last else { return true };
        let len = frame.len as usize;
        let words = len.div_ceil(8) * 8;
        let differs =
            (0..words.min(64)).any(|i| self.mask[i] & frame.data[i] != self.mask[i] & last.data[i]);
        differs || (self.config.check_dlc && frame.len != last.len)
    }

    /// A frame arrived at `now`; frames of other ids are ignored.
    pub fn handle_frame(&mut self, now: u64, frame: &Frame) {
        if !self.config.matches(frame) {
            return;
        }
        let relevant = self.config.change_mask.is_none() || self.changed(frame);
        if relevant {
            self.last = Some(*frame);
            self.notify(now, *frame);
        }
        if let Some(t) = self.config.timeout_ns {
            self.timeout_at = Some(now.saturating_add(t));
        }
    }

    fn notify(&mut self, now: u64, frame: Frame) {
        let Some(throttle) = self.config.throttle_ns else {
            self.emit(self.kind(), Some(frame), now);
            return;
        };
        if self.throttle_at.is_some() {
            self.held = Some(frame);
            return;
        }
        match self.last_notified {
            Some(previous) if now.saturating_sub(previous) < throttle => {
                self.held = Some(frame);
                self.throttle_at = Some(previous + throttle);
            }
            _ => {
                self.emit(self.kind(), Some(frame), now);
                self.last_notified = Some(now);
            }
        }
    }

    fn emit(&mut self, kind: WatchEventKind, frame: Option<Frame>, at_ns: u64) {
        self.events.push_back(WatchEvent { kind, frame, at_ns });
    }

    /// The next instant [`Watcher::handle_timeout`] has something to do.
    pub fn poll_timeout(&self) -> Option<u64> {
        match (self.timeout_at, self.throttle_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the timers due by `now`, in the order of their deadlines.
    pub fn handle_timeout(&mut self, now: u64) {
        while let Some(due) = self.poll_timeout().filter(|d| *d <= now) {
            if self.timeout_at == Some(due) {
                self.timeout_at = None;
                if self.config.announce_resume {
                    self.last = None;
                    self.held = None;
                }
                self.emit(WatchEventKind::Timeout, None, due);
            } else {
                let throttle = self.config.throttle_ns.unwrap_or(1);
                match self.held.take() {
                    Some(frame) => {
                        self.emit(self.kind(), Some(frame), due);
                        self.throttle_at = Some(due + throttle);
                    }
                    None => {
                        self.throttle_at = None;
                        self.last_notified = None;
                    }
                }
            }
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<WatchEvent> {
        self.events.pop_front()
    }
}
