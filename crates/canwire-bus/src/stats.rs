//! Counters a bus reports through `stats()`.

/// Counters of one reader queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderStats {
    /// The queue bound in frames.
    pub capacity: u64,
    /// Frames waiting to be read.
    pub queued: u64,
    /// Frames accepted into the queue since it was created.
    pub delivered: u64,
    /// Frames not queued because the queue was full.
    pub overflow: u64,
}

/// Counters of one bus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusStats {
    /// Frames sent by this bus.
    pub tx_frames: u64,
    /// Frames received that passed the filters.
    pub rx_frames: u64,
    /// Frames received that the filters rejected.
    pub rx_filtered: u64,
    /// FD frames that arrived on a bus opened for classic CAN, not delivered.
    pub rx_dropped_fd_on_classic: u64,
    /// Frames the kernel dropped before we read them (SO_RXQ_OVFL), where known.
    pub rx_dropped_kernel: u64,
    /// Sum of the reader queues' overflow counters, closed readers included.
    pub rx_dropped_queue_full: u64,
    /// Times a SocketCAN receive thread let frames gather before reading
    /// them, under sustained traffic (see `rxCoalesceUs`); 0 while every
    /// frame was read as soon as it arrived.
    pub rx_coalescing_waits: u64,
    /// Receive calls that failed unexpectedly (not "no frames" and not an
    /// interface going down); frames may have been lost with them.
    pub rx_errors: u64,
    /// The message of the most recent of those.
    pub last_rx_error: Option<String>,
    /// Send calls that failed.
    pub tx_errors: u64,
    /// Times a send found the transmit queue full and waited for room.
    pub tx_waits: u64,
    /// Every open reader's counters.
    pub readers: Vec<ReaderStats>,
}

/// A backend's unexpected receive failures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReceiveErrors {
    /// How many there were.
    pub count: u64,
    /// The message of the most recent one.
    pub last: Option<String>,
}
