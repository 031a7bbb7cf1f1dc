//! Options of the kernel ISO-TP socket that python-can-isotp's parameters do
//! not cover. They exist on every platform; only Linux can use them.

/// Kernel-only knobs of `stack: "kernel"` (the `can_isotp_options` fields
/// and flags with no counterpart in [`IsoTpParams`](canwire_core::isotp::IsoTpParams)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelIsoTpOptions {
    /// Pause after each sent frame (N_As), in ns. The kernel's own default is
    /// 50 µs, which caps throughput; canwire sets 0 unless this is given.
    pub frame_txtime_ns: Option<u32>,
    /// Received frames are padded with this byte (`CAN_ISOTP_RX_PADDING`).
    pub rx_padding: Option<u8>,
    /// Drop received frames whose padded length is wrong (`CAN_ISOTP_CHK_PAD_LEN`).
    pub check_rx_padding_length: bool,
    /// Drop received frames whose padding bytes differ from `rx_padding` (`CAN_ISOTP_CHK_PAD_DATA`).
    pub check_rx_padding_data: bool,
    /// Ignore reception while sending and vice versa (`CAN_ISOTP_HALF_DUPLEX`).
    pub half_duplex: bool,
    /// Drop received consecutive frames closer than this many ns (`CAN_ISOTP_FORCE_RXSTMIN`).
    pub force_rx_stmin_ns: Option<u32>,
}
