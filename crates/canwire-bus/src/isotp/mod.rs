//! ISO-TP stacks: the userspace one (a native thread that runs
//! [`canwire_core::isotp::IsoTpEndpoint`] on any [`Bus`](crate::Bus)) and,
//! on Linux, the kernel's can-isotp sockets ([`crate::socketcan::isotp`]), both
//! [`IsoTpBackend`]s behind the one front end [`IsoTpStack`].
//!
//! - [`stack`]: [`IsoTpStack`], the front end: inbox, transfer results, waits, close
//! - [`backend`]: [`IsoTpBackend`], what an implementation provides (send, stop, address, pause)
//! - [`driver`]: [`IsoTpDriver`], the userspace thread and its commands
//! - [`echo_pacing`]: [`echo_pacing::EchoPacing`], the send window paced by echoes (pure state)
//! - [`echo_sink`]: [`echo_sink::PacedSends`], that window fed by the bus's echoes
//! - [`cpu_pin`]: [`CpuPin`], the thread kept on one CPU while frames leave (no reordering)
//! - [`inbox`]: what a stack hands to users: payloads, transfer results, protocol errors
//! - [`kernel_options`]: [`KernelIsoTpOptions`], the kernel socket's own knobs

pub mod backend;
pub mod cpu_pin;
pub mod driver;
pub mod echo_pacing;
pub mod echo_sink;
pub mod inbox;
pub mod kernel_options;
pub mod stack;

pub use backend::IsoTpBackend;
pub use cpu_pin::CpuPin;
pub use driver::{IsoTpDriver, IsoTpDriverOptions};
pub use inbox::{Inbox, IsoTpStats, ReceivedPayload, TransferStatus};
pub use kernel_options::KernelIsoTpOptions;
pub use stack::IsoTpStack;

/// The deadline waits now live in [`crate::time`]; this path stays for existing callers.
pub mod precise_wait {
    pub use crate::time::{
        MonotonicClock, SPIN_NS, minimize_timer_slack, try_realtime_priority, wait_until,
    };
}
