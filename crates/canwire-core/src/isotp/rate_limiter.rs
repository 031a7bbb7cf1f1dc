//! A sliding-window limit on transmitted data bits (python-can-isotp's
//! `RateLimiter`): at most `budget_bits` CAN data bits within any window of
//! `window_ns`. Only the data field counts, not the frame overhead.

use std::collections::VecDeque;

/// Sliding-window rate limiter on a caller-supplied clock.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    enabled: bool,
    budget_bits: u64,
    window_ns: u64,
    sent: VecDeque<(u64, u64)>,
    bits_in_window: u64,
}

impl RateLimiter {
    /// A limiter allowing `budget_bits` per `window_ns`; a disabled one allows everything.
    pub fn new(enabled: bool, budget_bits: u64, window_ns: u64) -> Self {
        Self {
            enabled,
            budget_bits,
            window_ns,
            sent: VecDeque::new(),
            bits_in_window: 0,
        }
    }

    fn expire(&mut self, now: u64) {
        while let Some(&(at, bits)) = self.sent.front() {
            if at.saturating_add(self.window_ns) > now {
                break;
            }
            self.sent.pop_front();
            self.bits_in_window -= bits;
        }
    }

    /// True if the limiter restricts anything.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Bits sent within the window ending at `now`.
    pub fn bits_in_window(&mut self, now: u64) -> u64 {
        self.expire(now);
        self.bits_in_window
    }

    /// True if `bits` more may be sent at `now`. A frame larger than the whole
    /// budget may go when the window is empty, so nothing waits forever.
    pub fn allows(&mut self, now: u64, bits: u64) -> bool {
        if !self.enabled {
            return true;
        }
        self.expire(now);
        self.bits_in_window == 0 || self.bits_in_window + bits <= self.budget_bits
    }

    /// Records `bits` sent at `now`.
    pub fn record(&mut self, now: u64, bits: u64) {
        if !self.enabled || bits == 0 {
            return;
        }
        self.expire(now);
        self.sent.push_back((now, bits));
        self.bits_in_window += bits;
    }

    /// The earliest instant at which `bits` may be sent; 0 if allowed already
    /// (earlier entries may have expired by now, which only makes the answer earlier).
    pub fn ready_at(&self, bits: u64) -> u64 {
        if !self.enabled {
            return 0;
        }
        let mut remaining = self.bits_in_window;
        if remaining == 0 || remaining + bits <= self.budget_bits {
            return 0;
        }
        for &(at, b) in &self.sent {
            remaining -= b;
            if remaining == 0 || remaining + bits <= self.budget_bits {
                return at.saturating_add(self.window_ns);
            }
        }
        0
    }

    /// Forgets everything sent.
    pub fn reset(&mut self) {
        self.sent.clear();
        self.bits_in_window = 0;
    }
}
