//! SocketCAN options and interface descriptions: plain data, the same on
//! every platform (opening a SocketCAN bus outside Linux fails with
//! `ERR_UNSUPPORTED`; listing interfaces there gives none).

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
    /// When the receive thread reads (see
    /// [`RxCoalescing::from_micros`](super::rx_coalescing::RxCoalescing::from_micros)):
    /// at once while traffic is sparse; under sustained traffic frames
    /// gather for at most this many µs (`None`: 4 000) so readers get
    /// batches; `Some(0)` reads every frame at once.
    pub rx_coalesce_us: Option<u32>,
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
            rx_coalesce_us: None,
        }
    }
}

/// The MTU of a CAN FD capable interface (`CANFD_MTU`, one `struct canfd_frame`).
pub const CANFD_MTU: u32 = 72;

/// Whether an interface with this MTU carries CAN FD frames.
pub const fn fd_capable(mtu: u32) -> bool {
    mtu == CANFD_MTU
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
    /// CAN FD capable (the MTU is [`CANFD_MTU`]).
    pub fd: bool,
    /// What the controller reports over CAN netlink; all `None` for
    /// interfaces without a CAN controller (vcan, vxcan).
    pub controller: ControllerInfo,
}

/// A CAN controller's settings and state, as `ip -details link show` prints them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControllerInfo {
    /// Nominal (arbitration) bit rate in bit/s.
    pub bitrate: Option<u32>,
    /// Nominal sample point in tenths of a percent (875 = 87.5 %).
    pub sample_point: Option<u32>,
    /// CAN FD data-phase bit rate in bit/s.
    pub data_bitrate: Option<u32>,
    /// CAN FD mode switched on (`fd on`).
    pub fd_mode: Option<bool>,
    /// The controller state.
    pub state: Option<crate::BusState>,
    /// Automatic restart delay after bus-off in ms; 0: no automatic restart.
    pub restart_ms: Option<u32>,
    /// Transmit error counter.
    pub tx_error_counter: Option<u16>,
    /// Receive error counter.
    pub rx_error_counter: Option<u16>,
    /// Nominal segments (absent for fixed-rate drivers such as slcan, which report none).
    pub timing: Option<SegmentsInfo>,
    /// CAN FD data-phase sample point in tenths of a percent.
    pub data_sample_point: Option<u32>,
    /// CAN FD data-phase segments.
    pub data_timing: Option<SegmentsInfo>,
    /// Control modes switched on, as `CAN_CTRLMODE_*` bits (see `controller_plan::CTRLMODE_*`).
    pub ctrl_modes: Option<u32>,
    /// Control modes the driver supports (kernel 6.0 and later), as `CAN_CTRLMODE_*` bits.
    pub ctrl_modes_supported: Option<u32>,
    /// The controller's clock in Hz (0 when the driver does not say).
    pub clock: Option<u32>,
    /// Bus termination in ohms, for drivers that switch it.
    pub termination: Option<u16>,
}

/// One phase's segments as the kernel reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentsInfo {
    /// Time quantum in ns.
    pub tq: u32,
    /// Propagation segment in tq.
    pub prop_seg: u32,
    /// Phase segment 1 in tq.
    pub phase_seg1: u32,
    /// Phase segment 2 in tq.
    pub phase_seg2: u32,
    /// Synchronisation jump width in tq.
    pub sjw: u32,
    /// Bit-rate prescaler.
    pub brp: u32,
}

/// The CAN interfaces of this host (link type ARPHRD_CAN), sorted by name.
/// Empty outside Linux.
pub fn list_can_interfaces() -> Result<Vec<CanInterfaceInfo>> {
    super::interfaces::list()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_canfd_mtu_is_fd_capable() {
        assert!(!fd_capable(16));
        assert!(fd_capable(72));
        assert!(!fd_capable(0));
    }
}
