//! canwire as a Jumpstarter client: drive the `Can` and ISO-TP drivers of an
//! exporter (Python's `jmp run` / `jmp shell`, or canwire's own) as canwire
//! buses and stacks.
//!
//! | file | what it holds |
//! |---|---|
//! | [`target`] | where to connect: options over `JUMPSTARTER_HOST` and friends |
//! | [`session`] | one gRPC channel: report, calls, streams, passphrase |
//! | [`status_map`] | gRPC status → `CanwireError` (the shared contract's table) |
//! | [`report`] | a driver by name or path in `GetReport` |
//! | [`runtime`] | the tokio runtime the clients of a process share |
//! | [`outbound`] | the bounded send queue between the JS thread and the network |
//! | [`can_transport`] | a `Can` driver as a canwire `Transport` |
//! | [`can_receive`], [`can_send`] | its receive and send tasks |
//! | [`cyclic`] | periodic tasks the exporter runs (`_send_periodic_internal`) |
//! | [`isotp`] | an ISO-TP driver as a canwire `IsoTpBackend` |
//! | [`isotp_values`] | the values of its calls |
//!
//! A `Can` driver becomes a bus with `Bus::with_transport`:
//!
//! ```no_run
//! use canwire_jumpstarter::client::can_transport::{CanOpenOptions, JumpstarterTransport};
//! let (readers, transport) = JumpstarterTransport::open(CanOpenOptions {
//!     path: "can".into(),
//!     ..CanOpenOptions::default() // the exporter from JUMPSTARTER_HOST
//! })?;
//! let bus = canwire_bus::Bus::with_transport(readers, Box::new(transport));
//! # Ok::<(), canwire_core::CanwireError>(())
//! ```

pub mod can_receive;
pub mod can_send;
pub mod can_transport;
pub mod cyclic;
pub mod isotp;
pub mod isotp_values;
pub mod outbound;
pub mod report;
pub mod runtime;
pub mod session;
pub mod status_map;
pub mod target;
