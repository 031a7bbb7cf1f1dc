//! What every driver of one server shares: the read-only switch, the
//! closing flag, and the bounds on what clients may create.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::budget::Budget;

/// Shared by the drivers of one server.
pub struct ServeContext {
    /// Refuse everything that transmits or changes the bus.
    pub read_only: bool,
    /// Set when the server closes: waiting calls and streams end.
    pub closing: Arc<AtomicBool>,
    /// Periodic tasks, all exports together.
    pub periodic_tasks: Budget,
    /// Open `canwire_recv_stream` streams, all exports together.
    pub receive_streams: Budget,
}

impl ServeContext {
    /// True once the server is closing.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }
}
