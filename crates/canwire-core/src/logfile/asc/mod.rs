//! Vector ASC log files.
//!
//! - [`date`] — header dates (English and German names, 12/24-hour clocks)
//! - [`reader`] — [`AscReader`] (classic, remote, FD, error lines; counted skips)
//! - [`writer`] — [`AscWriter`]

pub mod date;
pub mod reader;
pub mod writer;

pub use reader::{AscParser, AscReader, asc_reader};
pub use writer::{AscWriter, format_asc_line};
