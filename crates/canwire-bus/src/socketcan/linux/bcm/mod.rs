//! SocketCAN's broadcast manager (CAN_BCM): cyclic sends run by the kernel.
//!
//! [`BcmTx`] holds a bus's kernel-scheduled cyclic tasks on one BCM socket;
//! [`BcmWatch`] is a watch on one CAN id (RX_SETUP), on a socket of its own.
//! How canwire's timing maps onto the kernel's `count`/`ival1`/`ival2` is in
//! [`program`]; what the kernel reports of each job's sends, in [`proc_stats`].
//!
//! Behaviour of a kernel task, as opposed to the native scheduler:
//! - The kernel arms each next frame relative to the time its timer handler
//!   ran (`now + interval`), so handler latency accumulates as drift; the
//!   native scheduler keeps absolute deadlines. Nothing is ever skipped, so
//!   `missed` is always 0.
//! - `modifyData` copies the new frames into the live job (TX_SETUP without
//!   SETTIMER/STARTTIMER): no restart, no gap, no extra frame, the round-robin
//!   position kept (no TX_RESET_MULTI_IDX, as the number of frames cannot
//!   change). The kernel copies frame by frame, so with several frames one
//!   cycle may mix old and new ones.
//! - `sent` is the kernel's own per-job counter from procfs; where procfs does
//!   not show it, the frames due since the start.
//! - The kernel reports no failed send; `sendErrors` counts the socket errors
//!   it does report (the interface went down).
//! - Frames go out with loopback, from another socket than the bus's raw one:
//!   the bus's own readers receive them (with `isRx` false), whatever
//!   `receiveOwnMessages` says.

pub mod msg;
pub mod proc_stats;
pub mod program;
pub mod rx;
pub mod socket;
pub mod tx;

pub use rx::BcmWatch;
pub use tx::BcmTx;
