//! canwire as a Jumpstarter exporter: canwire buses and ISO-TP stacks served
//! as `jumpstarter.v1.ExporterService`, so the unmodified Python
//! `CanClient` / `IsoTpClient` (through `jmp shell --tls-grpc` or
//! `jumpstarter.common.utils.env()`) drive them as they drive the Python
//! `jumpstarter_driver_can` drivers.
//!
//! | file | holds |
//! |---|---|
//! | [`export`] | what is served: named [`Export`]s of a bus or an ISO-TP stack |
//! | [`report`] | `GetReport`: one report, or a `CompositeClient` root and its children |
//! | [`session`] | [`ExporterSession`], the service: one handler per RPC |
//! | [`can_export`] | the `Can` driver's methods on a bus |
//! | [`shared_receiver`] | the one receive queue of a bus export, with filters |
//! | [`periodic_tasks`] | `_send_periodic_internal` tasks by uuid |
//! | [`can_streaming`] | the streaming extension: `canwire_recv_stream`, `canwire_send_batch` |
//! | [`isotp_export`], [`isotp_address`] | the `IsoTpPython` driver's methods on a stack |
//! | [`call_args`], [`call_status`] | argument readers; canwire error → gRPC status table |
//! | [`context`], [`budget`] | what the drivers of a server share; bounded slots (tasks, streams) |
//! | [`log_book`] | `LogStream` records |
//! | [`passphrase`] | the constant-time passphrase check on every RPC |
//! | [`listener`], [`options`], [`exporter_server`] | sockets, options and limits, the running server |
//! | [`uds_authority`] | the `:authority` fix Python clients need on Unix sockets |
//!
//! Every wait (a `_recv_internal` with a timeout, an ISO-TP `recv`, a send
//! waiting for room) is a readiness hook completing a future
//! ([`ready_wait`]): no thread is held, and a call its client abandons is
//! dropped with its hook. One session lives as long as the server, across
//! clients, as in `jmp run`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use canwire_bus::{Bus, BusConfig, virtual_bus::VirtualConfig};
//! use canwire_jumpstarter::server::{Export, ExportDriver, ExporterServer, ServerOptions};
//!
//! let bus = Arc::new(Bus::open(BusConfig::Virtual(VirtualConfig {
//!     channel: "rig".into(),
//!     ..VirtualConfig::default()
//! }))?);
//! let server = ExporterServer::start(
//!     vec![Export::new("can", ExportDriver::Can(bus))],
//!     ServerOptions::default(),
//! )?;
//! println!("jmp shell --tls-grpc {} --tls-grpc-insecure", server.local_address());
//! server.close();
//! # Ok::<(), canwire_core::CanwireError>(())
//! ```

pub mod budget;
pub mod call_args;
pub mod call_status;
pub mod can_export;
pub mod can_streaming;
pub mod context;
pub mod export;
pub mod exporter_server;
pub mod isotp_address;
pub mod isotp_export;
pub mod listener;
pub mod log_book;
pub mod options;
pub mod passphrase;
pub mod periodic_tasks;
pub mod ready_wait;
pub mod report;
pub mod session;
pub mod shared_receiver;
pub mod uds_authority;

pub use export::{Export, ExportDriver};
pub use exporter_server::{ExporterHandle, ExporterServer};
pub use options::{ConnectionHook, Limits, Listen, ServerOptions, TlsPem};
pub use session::ExporterSession;
