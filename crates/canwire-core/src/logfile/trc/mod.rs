//! PEAK TRC trace files.
//!
//! - [`reader`] — [`TrcReader`], versions 1.0 to 2.1
//! - [`writer`] — [`TrcWriter`], version 2.1 with FD, remote and error frames

pub mod reader;
pub mod writer;

pub use reader::{TrcParser, TrcReader, trc_reader};
pub use writer::TrcWriter;
