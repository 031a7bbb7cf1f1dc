//! canwire's I/O runtime: transports and their receive paths.
//!
//! A [`Bus`] joins a [`Transport`] (the in-process [`virtual_bus`], or
//! SocketCAN raw sockets on Linux) to a [`ReaderSet`]: the bus-level filters and any number of
//! bounded [`FrameQueue`]s, one per reader, each with its own overflow counter.
//!
//! Platform code lives in one place: [`socketcan`] is compiled everywhere,
//! with its Linux implementation in `socketcan/linux/` and a stub that
//! answers `ERR_UNSUPPORTED` elsewhere, and [`time`] picks the OS's thread
//! timing calls; callers need no `cfg(target_os)`.
//!
//! Everything a user waits on (reader frames, watch events, an ISO-TP
//! inbox, controller states, room in a transmit queue) wakes its waiters
//! through one [`readiness::Readiness`]: a thread blocks on it, or an event
//! loop arms a one-shot hook the producing thread runs itself.

pub mod bus;
pub mod cyclic;
pub mod frame_queue;
pub mod isotp;
pub mod logfile_io;
pub mod pending_send;
pub mod playback;
pub mod reader_set;
pub mod readiness;
pub mod socketcan;
pub mod sqlite_log;
pub mod stats;
pub mod sync_util;
pub mod time;
pub mod transport;
pub mod tx_room;
pub mod udp_multicast;
pub mod virtual_bus;
pub mod watch;

/// The clocks, at their path before they joined [`time`].
pub use self::time as clock;
pub use bus::{Bus, BusConfig, TxWait};
pub use frame_queue::FrameQueue;
pub use pending_send::PendingSend;
pub use reader_set::ReaderSet;
/// SocketCAN options and interface listing, at their path before they moved under [`socketcan`].
pub use socketcan::config as socketcan_config;
/// The kernel ISO-TP socket, at its path before it moved under [`socketcan`].
pub use socketcan::isotp as isotp_socket;
pub use socketcan::{CanInterfaceInfo, SocketCanConfig, list_can_interfaces};
pub use stats::{BusStats, ReaderStats};
pub use transport::{BusState, Protocol, Transport, TxEchoInfo, TxEchoSink};
