//! SocketCAN, compiled on every platform so that callers never see a `cfg`:
//! the Linux implementation (`linux/`: the raw backend, the broadcast
//! manager, the kernel's ISO-TP sockets, interface listing) or, elsewhere, a
//! stub of the same names whose every open answers `ERR_UNSUPPORTED` and
//! whose interface list is empty.
//!
//! - [`config`]: [`SocketCanConfig`] and [`CanInterfaceInfo`], plain data on every platform
//! - [`controller_plan`]: [`ControllerPlan`], a controller's configuration checked
//!   and split into netlink steps; `configure_controller`, `set_link_up` and
//!   `restart_controller` apply it (Linux; `ERR_UNSUPPORTED` elsewhere)
//! - [`rx_coalescing`]: when the receive thread reads (the policy, pure, on every platform)
//! - [`SocketCanTransport`]: the raw backend; its Linux-only powers
//!   (`bcm_tx`, `bcm_watch`) are reached through
//!   [`Transport::socketcan`](crate::Transport::socketcan)
//! - [`bcm`]: kernel-run cyclic sends ([`bcm::BcmTx`]) and watches ([`bcm::BcmWatch`])
//! - [`isotp`]: [`isotp::KernelIsoTp`], the kernel's can-isotp as an ISO-TP backend

pub mod config;
pub mod controller_plan;
#[cfg(target_os = "linux")]
mod linux;
pub mod rx_coalescing;
// Compiled in Linux test builds too, so the stub is checked and tested here.
#[cfg(any(not(target_os = "linux"), test))]
#[cfg_attr(target_os = "linux", allow(dead_code))]
mod unsupported;

pub use config::{
    CANFD_MTU, CanInterfaceInfo, ControllerInfo, DEFAULT_RECEIVE_BUFFER, SegmentsInfo,
    SocketCanConfig, fd_capable, list_can_interfaces,
};
pub use controller_plan::{ControllerPlan, PhaseTiming};
#[cfg(target_os = "linux")]
pub use linux::*;
#[cfg(not(target_os = "linux"))]
pub use unsupported::*;
