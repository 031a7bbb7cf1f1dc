//! [`FrameSink`]: a consumer that takes received frames on the transport's
//! own receive thread, with no queue and no thread hop in between.
//!
//! For protocol stacks whose latency is the point (ISO-TP answers a first
//! frame with flow control): a sink handles each batch at once and may send
//! in reply. It must not block for long: every reader of the bus waits
//! behind it.

use canwire_core::Frame;

/// Takes frames where they are received. Only transports that deliver on a
/// thread of their own accept sinks (see [`crate::Bus::add_sink`]).
pub trait FrameSink: Send + Sync {
    /// Frames that passed the bus filters, in arrival order.
    fn deliver(&self, frames: &[Frame]);
    /// The bus closed: nothing more will be delivered.
    fn closed(&self);
}
