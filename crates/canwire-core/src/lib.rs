//! Pure CAN logic for canwire: no sockets, no threads, no clock reads.
//!
//! - [`frame`]: the [`Frame`] model and its validation (python-can's `check=True` rules)
//! - [`dlc`]: DLC code and length tables for classic CAN and CAN FD
//! - [`filter`]: acceptance filters with python-can semantics, plus inverted filters
//! - [`isotp`]: the ISO-TP (ISO 15765-2) transport protocol as a sans-IO state machine
//! - [`record`]: the fixed-size packed record frames travel in between Rust and JS
//! - [`bit_timing`]: CAN and CAN FD bit timing with python-can's constructors and validation
//! - [`blf`]: Vector BLF log files: streaming reader and writer
//! - [`mf4`]: ASAM MDF 4 (`.mf4`) bus logs as python-can and asammdf write them: streaming reader and writer
//! - [`logfile`]: one reader/writer interface over BLF, ASC, candump .log, TRC and CSV (also .gz)
//! - [`candump`]: can-utils' compact frame syntax (`123#DEADBEEF`) and `candump -L` lines
//! - [`error`]: stable error codes shared by every layer
//! - [`error_frame`]: SocketCAN error frames decoded into structured fields
//! - [`cyclic`]: the cyclic send schedule; [`watch`]: change and timeout detection on one id

pub mod bit_timing;
pub mod blf;
pub mod candump;
pub mod cyclic;
pub mod dlc;
pub mod error;
pub mod error_frame;
pub mod filter;
pub mod frame;
pub mod isotp;
pub mod logfile;
pub mod mf4;
pub mod record;
#[cfg(test)]
pub(crate) mod test_fixtures;
#[cfg(test)]
pub(crate) mod test_rng;
pub mod watch;

pub use error::{CanwireError, ErrorCode};
pub use filter::{CanFilter, FilterSet};
pub use frame::{Frame, FrameFlags};
