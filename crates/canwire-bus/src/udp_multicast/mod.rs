//! `udp_multicast`: a bus shared by processes through UDP multicast, wire
//! compatible with python-can's `udp_multicast` interface, so Node and
//! Python processes on one host (or a LAN, with a larger hop limit) share a
//! bus with no kernel module.
//!
//! - [`wire`] — one frame per datagram, python-can's msgpack map (pure)
//! - [`transport`] — the sockets: one bound to the group's port and joined
//!   to the group for receiving, one connected to the group for sending
//!
//! As in python-can: the channel is the group address (IPv6
//! [`DEFAULT_GROUP_V6`] by default, or IPv4 [`DEFAULT_GROUP_V4`]), port
//! [`DEFAULT_PORT`], hop limit (IPv4 TTL) 1, so nothing leaves the host's
//! link; CAN FD on by default; received frames are stamped with the receive
//! time, not the sender's time.
//!
//! **No delivery guarantee.** UDP may drop, duplicate or reorder datagrams
//! and nothing here can tell a lost datagram (there is no sequence number in
//! python-can's format). What *is* detected is counted, never dropped
//! silently: datagrams that are no valid message (`receive_errors`, with the
//! reason), FD frames on a bus opened without FD (`rx_dropped_fd_on_classic`),
//! datagrams cut short by the receive buffer (`receive_errors`).
//!
//! Own frames: multicast loopback makes every sender receive its own
//! datagrams (python-can's bus gets its own frames back). canwire tells its
//! own datagrams apart by their source address (the send socket's address)
//! and delivers them only with `receive_own_messages`, marked as sent.

pub mod transport;
pub mod wire;

pub use transport::UdpMulticastTransport;

/// python-can's default IPv6 group.
pub const DEFAULT_GROUP_V6: &str = "ff15:7079:7468:6f6e:6465:6d6f:6d63:6173";
/// python-can's default IPv4 group.
pub const DEFAULT_GROUP_V4: &str = "239.74.163.2";
/// python-can's default port.
pub const DEFAULT_PORT: u16 = 43113;

/// Options of a `udp_multicast` bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpMulticastConfig {
    /// The multicast group: IPv4 in 224.0.0.0/4 or IPv6 in ff00::/8.
    pub group: String,
    /// The UDP port.
    pub port: u16,
    /// IPv6 hop limit or IPv4 TTL, 1..=255.
    pub hop_limit: u32,
    /// Open for CAN FD (python-can's default).
    pub fd: bool,
    /// Deliver this bus's own frames too, marked as sent.
    pub receive_own_messages: bool,
}

impl UdpMulticastConfig {
    /// python-can's defaults on `group`.
    pub fn new(group: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            port: DEFAULT_PORT,
            hop_limit: 1,
            fd: true,
            receive_own_messages: false,
        }
    }
}
