//! canwire's I/O runtime: transports and their receive paths.
//!
//! A [`Bus`] joins a [`Transport`] (the in-process [`virtual_bus`], or
//! SocketCAN raw sockets on Linux) to a [`ReaderSet`]: the bus-level filters and any number of
//! bounded [`FrameQueue`]s, one per reader, each with its own overflow counter.

pub mod bus;
pub mod clock;
pub mod cyclic;
pub mod frame_queue;
pub mod isotp;
#[cfg(target_os = "linux")]
pub mod isotp_socket;
pub mod pending_send;
pub mod playback;
pub mod reader_set;
pub mod readiness;
#[cfg(target_os = "linux")]
pub mod socketcan;
pub mod socketcan_config;
pub mod stats;
mod sync_util;
pub mod transport;
pub mod tx_room;
pub mod virtual_bus;
pub mod watch;

pub use bus::{Bus, BusConfig, TxWait};
pub use frame_queue::FrameQueue;
pub use pending_send::PendingSend;
pub use reader_set::ReaderSet;
pub use socketcan_config::{CanInterfaceInfo, SocketCanConfig, list_can_interfaces};
pub use stats::{BusStats, ReaderStats};
pub use transport::{BusState, Protocol, Transport};
