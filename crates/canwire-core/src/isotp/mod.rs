//! ISO-TP (ISO 15765-2) as a sans-IO state machine, with python-can-isotp's
//! parameters and addressing modes.
//!
//! [`IsoTpEndpoint`] takes `(now, frame)` and hands back frames, events and
//! its next deadline; time is caller-supplied nanoseconds on a monotonic clock.
//!
//! - [`params`]: [`IsoTpParams`] (python-can-isotp's parameters, times in ns) and STmin decoding
//! - [`address`]: the seven addressing modes, asymmetric and one-way addresses
//! - [`pci`]: SF/FF/CF/FC byte layouts, decoding and header encoding
//! - [`link`]: padding, minimum length, FD length rounding, id and flags of sent frames
//! - [`rate_limiter`]: the sliding-window limit on transmitted data bits
//! - [`transmitter`] / `receiver`: the two halves of the protocol
//! - [`machine`]: [`IsoTpEndpoint`], the full-duplex endpoint a driver runs
//! - [`event`]: [`IsoTpEvent`], [`TransferId`] and the error codes below
//!
//! # Example
//!
//! Two endpoints back to back on a virtual clock:
//!
//! ```
//! use canwire_core::isotp::{AddressConfig, IsoTpAddress, IsoTpEndpoint, IsoTpEvent, IsoTpParams};
//!
//! let tester = IsoTpAddress::new(AddressConfig::normal(false, 0x7E0, 0x7E8))?;
//! let ecu = IsoTpAddress::new(AddressConfig::normal(false, 0x7E8, 0x7E0))?;
//! let mut a = IsoTpEndpoint::new(tester, IsoTpParams::default())?;
//! let mut b = IsoTpEndpoint::new(ecu, IsoTpParams { stmin: 1, ..IsoTpParams::default() })?;
//! let id = a.send(0, vec![0x22; 100], None)?;
//! let mut now = 0;
//! loop {
//!     while let Some(frame) = a.poll_transmit(now) {
//!         b.handle_frame(now, &frame);
//!     }
//!     while let Some(frame) = b.poll_transmit(now) {
//!         a.handle_frame(now, &frame);
//!     }
//!     if let Some(IsoTpEvent::Received { payload, .. }) = b.poll_event() {
//!         assert_eq!(payload, vec![0x22; 100]);
//!         break;
//!     }
//!     // A driver sleeps until the next deadline (here: STmin), then fires timers.
//!     let next = a.poll_timeout().into_iter().chain(b.poll_timeout()).min().unwrap();
//!     now = now.max(next);
//!     a.handle_timeout(now);
//!     b.handle_timeout(now);
//! }
//! assert_eq!(now, 13_000_000, "FF, then 14 CFs 1 ms apart");
//! assert_eq!(a.poll_event(), Some(IsoTpEvent::TransmitComplete { id }));
//! # Ok::<(), canwire_core::CanwireError>(())
//! ```
//!
//! # Error codes
//!
//! | code | side | when | effect |
//! |---|---|---|---|
//! | `ERR_ISOTP_N_BS_TIMEOUT` | tx | no FC within `rx_flowcontrol_timeout` after an FF or a block | transfer failed |
//! | `ERR_ISOTP_N_CR_TIMEOUT` | rx | no CF within `rx_consecutive_frame_timeout` | reception dropped |
//! | `ERR_ISOTP_UNEXPECTED_CF` | rx | CF while nothing is being received | frame ignored |
//! | `ERR_ISOTP_UNEXPECTED_FC` | tx | FC while no transfer waits for one | frame ignored |
//! | `ERR_ISOTP_WRONG_SEQUENCE` | rx | CF with the wrong sequence number | reception dropped |
//! | `ERR_ISOTP_OVERFLOW_FC` | tx | FC with flow status OVERFLOW (listen mode: the observed receiver sent it) | transfer failed (reception dropped) |
//! | `ERR_ISOTP_WAIT_FRAME_LIMIT` | tx | more than `wftmax` WAIT frames in a row | transfer failed |
//! | `ERR_ISOTP_UNSUPPORTED_WAIT_FRAME` | tx | WAIT frame while `wftmax` is 0 | frame ignored, N_Bs keeps running |
//! | `ERR_ISOTP_FRAME_TOO_LONG` | rx | FF_DL above `max_frame_size` | OVERFLOW FC sent (not in listen mode) |
//! | `ERR_ISOTP_INTERRUPTED_BY_NEW_FRAME` | rx | SF or FF during a reception | old reception dropped, new frame processed |
//! | `ERR_ISOTP_INVALID_FC` | tx | FC with reserved flow status 3..15 | frame ignored |
//! | `ERR_ISOTP_INVALID_FRAME` | rx/tx | bad frame length, reserved PCI, SF_DL 0 or too long, FF_DL below FF_DLmin, multi-frame PCI on a functional address, short FC | frame ignored |
//! | `ERR_ISOTP_MISSING_ESCAPE_SEQUENCE` | rx | SF in a frame longer than 8 bytes without byte 0 = 0 | frame ignored |
//! | `ERR_ISOTP_INVALID_RX_DL` | rx | FF in a frame shorter than 8 bytes | frame ignored |
//! | `ERR_ISOTP_CHANGING_RX_DL` | rx | CF whose length differs from the FF's RX_DL (other than a short last CF) | frame ignored |
//! | `ERR_ISOTP_SEND_STOPPED` | tx | `stop_sending` or `set_address` | transfer failed |
//!
//! Transfer failures arrive as [`IsoTpEvent::TransmitFailed`]; everything else
//! as [`IsoTpEvent::Error`]. Configuration mistakes are [`CanwireError`](crate::CanwireError)s
//! with `ERR_INVALID_ARGUMENT`, returned by `IsoTpParams::validate`, the
//! address constructors and `send`.

pub mod address;
pub mod event;
pub mod link;
pub mod machine;
pub mod params;
pub mod pci;
pub mod rate_limiter;
mod receiver;
pub mod transmitter;

#[cfg(test)]
mod tests;

pub use address::{AddressConfig, AddressingMode, IsoTpAddress, LinkAddress, TargetAddressType};
pub use event::{IsoTpError, IsoTpErrorCode, IsoTpEvent, TransferId};
pub use machine::IsoTpEndpoint;
pub use params::{IsoTpParams, stmin_to_ns};
