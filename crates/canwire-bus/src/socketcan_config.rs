//! SocketCAN options and interface listing, on every platform (opening a
//! SocketCAN bus outside Linux fails with `ERR_UNSUPPORTED`).

use canwire_core::error::Result;

/// The receive buffer canwire asks for: 4 MiB holds about 4 000 frames (the
/// kernel charges each one its whole buffer, about 1 KiB), where the kernel's
/// default of 208 KiB holds about 200 and loses frames to a short stall.
pub const DEFAULT_RECEIVE_BUFFER: u32 = 4 << 20;

/// Options of a SocketCAN raw bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketCanConfig {
    /// Interface name (`vcan0`), or empty for all CAN interfaces.
    pub channel: String,
    /// Open for CAN FD (`CAN_RAW_FD_FRAMES`).
    pub fd: bool,
    /// Receive this socket's own frames (`CAN_RAW_RECV_OWN_MSGS`).
    pub receive_own_messages: bool,
    /// Let other sockets on this host see our frames (`CAN_RAW_LOOPBACK`).
    pub local_loopback: bool,
    /// Which error classes to receive as error frames (`CAN_RAW_ERR_FILTER`); 0 for none.
    pub error_mask: u32,
    /// Kernel receive buffer in bytes (SO_RCVBUFFORCE, else SO_RCVBUF, which
    /// the kernel caps at `net.core.rmem_max`); `None` asks for
    /// [`DEFAULT_RECEIVE_BUFFER`], `Some(0)` keeps the kernel's default.
    pub receive_buffer_size: Option<u32>,
    /// Prefer the controller's hardware receive timestamps (SO_TIMESTAMPING)
    /// where the driver provides them; frames without one keep the kernel's.
    pub hardware_timestamps: bool,
}

impl SocketCanConfig {
    /// Defaults for `channel`: classic CAN, loopback on, every error class.
    pub fn new(channel: impl Into<String>) -> Self {
        Self {
            channel: channel.into(),
            fd: false,
            receive_own_messages: false,
            local_loopback: true,
            error_mask: canwire_core::error_frame::class::ALL,
            receive_buffer_size: None,
            hardware_timestamps: false,
        }
    }
}

/// One CAN network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanInterfaceInfo {
    /// Interface name.
    pub name: String,
    /// Kernel interface index.
    pub index: u32,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// The kernel's operational state: "up", "down", "unknown", ...
    pub operstate: String,
    /// MTU: 16 for classic CAN, 72 for CAN FD capable.
    pub mtu: u32,
}

/// The CAN interfaces of this host (link type ARPHRD_CAN), sorted by name.
/// Empty outside Linux.
pub fn list_can_interfaces() -> Result<Vec<CanInterfaceInfo>> {
    #[cfg(target_os = "linux")]
    {
        crate::socketcan::interfaces::list()
    }
    #[cfg(not(target_os = "linux"))]
    {
        Ok(Vec::new())
    }
}
