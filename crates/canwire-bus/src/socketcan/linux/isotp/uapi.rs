//! The parts of the kernel's ISO-TP socket interface (`linux/can/isotp.h`)
//! that libc does not carry: option names, flags and the option structs.
//! (`CAN_ISOTP`, `SOL_CAN_BASE` and `sockaddr_can` come from libc.)

/// `SOL_CAN_BASE + CAN_ISOTP`: the socket option level.
pub const SOL_CAN_ISOTP: i32 = libc::SOL_CAN_BASE + libc::CAN_ISOTP;

/// Takes [`IsoTpOptions`].
pub const CAN_ISOTP_OPTS: i32 = 1;
/// Takes [`FlowControlOptions`]: what our flow control frames say.
pub const CAN_ISOTP_RECV_FC: i32 = 2;
/// Takes a u32 in ns: the gap between sent CFs (with [`FORCE_TXSTMIN`]).
pub const CAN_ISOTP_TX_STMIN: i32 = 3;
/// Takes a u32 in ns: received CFs closer than this are dropped (with [`FORCE_RXSTMIN`]).
pub const CAN_ISOTP_RX_STMIN: i32 = 4;
/// Takes [`LinkLayerOptions`].
pub const CAN_ISOTP_LL_OPTS: i32 = 5;

/// Receive without sending flow control frames.
pub const LISTEN_MODE: u32 = 0x001;
/// Extended/mixed addressing: data\[0\] is an address byte.
pub const EXTEND_ADDR: u32 = 0x002;
/// Pad transmitted frames with `txpad_content`.
pub const TX_PADDING: u32 = 0x004;
/// Received frames are padded with `rxpad_content`.
pub const RX_PADDING: u32 = 0x008;
/// Check the length of received padded frames.
pub const CHK_PAD_LEN: u32 = 0x010;
/// Check the padding bytes of received frames.
pub const CHK_PAD_DATA: u32 = 0x020;
/// Half duplex: no reception while sending and vice versa.
pub const HALF_DUPLEX: u32 = 0x040;
/// Use `CAN_ISOTP_TX_STMIN` instead of the receiver's STmin.
pub const FORCE_TXSTMIN: u32 = 0x080;
/// Drop received CFs closer than `CAN_ISOTP_RX_STMIN`.
pub const FORCE_RXSTMIN: u32 = 0x100;
/// A receive address byte different from the transmit one.
pub const RX_EXT_ADDR: u32 = 0x200;
/// `write` returns once the whole PDU is sent (or failed).
pub const WAIT_TX_DONE: u32 = 0x400;
/// One-to-many: single frames only, no reception.
pub const SF_BROADCAST: u32 = 0x800;
/// Take BS and STmin from every flow control frame, not only the first
/// (Linux 6.6+; older kernels ignore the bit).
pub const DYN_FC_PARMS: u32 = 0x2000;

/// `frame_txtime` value meaning "zero" (0 means "leave unchanged").
pub const FRAME_TXTIME_ZERO: u32 = 0xFFFF_FFFF;
/// The kernel's padding byte when none is set.
pub const DEFAULT_PAD_CONTENT: u8 = 0xCC;
/// The kernel's fixed N_Bs (flow control wait) and N_Cr (consecutive frame wait).
pub const KERNEL_TIMEOUT_NS: u64 = 1_000_000_000;

/// `struct can_isotp_options`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IsoTpOptions {
    /// The flags above.
    pub flags: u32,
    /// Pause after each sent frame (N_As) in ns; see [`FRAME_TXTIME_ZERO`].
    pub frame_txtime: u32,
    /// Transmit address byte (with [`EXTEND_ADDR`]).
    pub ext_address: u8,
    /// Transmit padding byte.
    pub txpad_content: u8,
    /// Expected receive padding byte.
    pub rxpad_content: u8,
    /// Receive address byte (with [`RX_EXT_ADDR`]).
    pub rx_ext_address: u8,
}

/// `struct can_isotp_fc_options`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowControlOptions {
    /// Block size; 0 = no limit.
    pub bs: u8,
    /// STmin byte, copied into our flow control frames.
    pub stmin: u8,
    /// Stored, unused: the kernel never sends WAIT frames.
    pub wftmax: u8,
}

/// `struct can_isotp_ll_options`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkLayerOptions {
    /// 16 (classic frames) or 72 (CAN FD frames).
    pub mtu: u8,
    /// TX_DL: 8, 12, 16, 20, 24, 32, 48 or 64.
    pub tx_dl: u8,
    /// `canfd_frame.flags` of sent frames (e.g. BRS).
    pub tx_flags: u8,
}

const _: () = assert!(std::mem::size_of::<IsoTpOptions>() == 12);
const _: () = assert!(std::mem::size_of::<FlowControlOptions>() == 3);
const _: () = assert!(std::mem::size_of::<LinkLayerOptions>() == 3);
