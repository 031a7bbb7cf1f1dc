//! The userspace ISO-TP stack: a native thread that runs
//! [`canwire_core::isotp::IsoTpEndpoint`] on any [`Bus`](crate::Bus).
//!
//! - [`driver`]: [`IsoTpDriver`], the thread and its commands
//! - [`inbox`]: what the thread hands to users: payloads, transfer results, protocol errors
//! - [`precise_wait`]: sleeping until a deadline without waking early or needlessly late

pub mod driver;
pub mod inbox;
pub mod precise_wait;

pub use driver::{IsoTpDriver, IsoTpDriverOptions};
pub use inbox::{IsoTpStats, ReceivedPayload, TransferStatus};
