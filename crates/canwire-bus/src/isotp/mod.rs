//! ISO-TP stacks: the userspace one (a native thread that runs
//! [`canwire_core::isotp::IsoTpEndpoint`] on any [`Bus`](crate::Bus)) and,
//! on Linux, the kernel's can-isotp sockets ([`crate::isotp_socket`]), both
//! behind [`IsoTpStack`].
//!
//! - [`driver`]: [`IsoTpDriver`], the userspace thread and its commands
//! - [`inbox`]: what a stack hands to users: payloads, transfer results, protocol errors
//! - [`precise_wait`]: sleeping until a deadline without waking early or needlessly late
//! - [`kernel_options`]: [`KernelIsoTpOptions`], the kernel socket's own knobs
//! - [`stack`]: [`IsoTpStack`], either implementation behind one API

pub mod driver;
pub mod inbox;
pub mod kernel_options;
pub mod precise_wait;
pub mod stack;

pub use driver::{IsoTpDriver, IsoTpDriverOptions};
pub use inbox::{Inbox, IsoTpStats, ReceivedPayload, TransferStatus};
pub use kernel_options::KernelIsoTpOptions;
pub use stack::IsoTpStack;
