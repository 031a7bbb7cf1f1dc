//! Control mode: `< statistics IVAL_MS >` then `< stat … >` every interval.
//!
//! Packets are the exported bus's counters (`Bus::stats`: frames received
//! and sent); bytes are the data bytes the server saw on that bus (received
//! from it, and sent by its clients), since canwire buses count frames, not
//! bytes.

use std::time::{Duration, Instant};

use super::output::Output;
use super::session::SessionContext;
use crate::protocol::{Command, format};

/// The state of a connection in control mode.
#[derive(Default)]
pub struct ControlMode {
    every: Option<(Duration, Instant)>,
}

impl ControlMode {
    /// Handles `statistics`; false for any other command.
    pub fn handle(&mut self, command: Command, now: Instant) -> bool {
        let Command::Statistics { interval_ms } = command else {
            return false;
        };
        self.every = (interval_ms > 0).then(|| {
            let ival = Duration::from_millis(u64::from(interval_ms));
            (ival, now + ival)
        });
        true
    }

    /// The next report.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.every.map(|(_, at)| at)
    }

    /// Writes a report when due.
    pub fn handle_timeout(&mut self, ctx: &SessionContext, now: Instant, out: &mut Output) {
        let Some((ival, at)) = self.every else { return };
        if at > now {
            return;
        }
        let stats = ctx.hub.bus().stats();
        let counters = ctx.hub.counters();
        let mut text = String::new();
        format::stat(
            &mut text,
            counters.rx_bytes.load(std::sync::atomic::Ordering::Relaxed),
            stats.rx_frames,
            counters.tx_bytes.load(std::sync::atomic::Ordering::Relaxed),
            stats.tx_frames,
        );
        out.batch(text);
        // The next report keeps the grid, or restarts from now after a stall.
        let next = at + ival;
        self.every = Some((ival, if next > now { next } else { now + ival }));
    }
}
