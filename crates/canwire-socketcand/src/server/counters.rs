//! [`ServerCounters`]: what a server refused, skipped and lost, so nothing
//! passes unseen.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of one server, shared by its connections.
#[derive(Debug, Default)]
pub struct ServerCounters {
    /// Connections accepted and served.
    pub connections: AtomicU64,
    /// Connections refused (address not allowed, too many clients).
    pub refused: AtomicU64,
    /// Connections closed by the handshake or idle timeout.
    pub timed_out: AtomicU64,
    /// Known commands with wrong fields (socketcand replies nothing to them).
    pub malformed: AtomicU64,
    /// Elements longer than the bound, discarded.
    pub oversize: AtomicU64,
    /// Unknown commands answered with `< error unknown command >`.
    pub unknown: AtomicU64,
    /// Commands refused by read-only mode or a bound.
    pub refused_commands: AtomicU64,
    /// Frames a client's send could not put on the bus.
    pub send_errors: AtomicU64,
    /// Frames socketcand cannot represent to this client (remote frames;
    /// error frames without `error_frames`), not sent.
    pub skipped_frames: AtomicU64,
}

/// A snapshot of [`ServerCounters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Connections open now.
    pub clients: u64,
    /// See [`ServerCounters::connections`].
    pub connections: u64,
    /// See [`ServerCounters::refused`].
    pub refused: u64,
    /// See [`ServerCounters::timed_out`].
    pub timed_out: u64,
    /// See [`ServerCounters::malformed`].
    pub malformed: u64,
    /// See [`ServerCounters::oversize`].
    pub oversize: u64,
    /// See [`ServerCounters::unknown`].
    pub unknown: u64,
    /// See [`ServerCounters::refused_commands`].
    pub refused_commands: u64,
    /// See [`ServerCounters::send_errors`].
    pub send_errors: u64,
    /// Frames slow clients lost because their output queue was full.
    pub dropped_frames: u64,
    /// See [`ServerCounters::skipped_frames`].
    pub skipped_frames: u64,
}

impl ServerCounters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// A snapshot, with `clients` open now and `dropped_frames` lost.
    pub fn snapshot(&self, clients: u64, dropped_frames: u64) -> ServerStats {
        ServerStats {
            clients,
            connections: self.connections.load(Relaxed),
            refused: self.refused.load(Relaxed),
            timed_out: self.timed_out.load(Relaxed),
            malformed: self.malformed.load(Relaxed),
            oversize: self.oversize.load(Relaxed),
            unknown: self.unknown.load(Relaxed),
            refused_commands: self.refused_commands.load(Relaxed),
            send_errors: self.send_errors.load(Relaxed),
            dropped_frames,
            skipped_frames: self.skipped_frames.load(Relaxed),
        }
    }
}
