//! Log files: one reader/writer interface over BLF, MF4 and the text formats
//! (ASC, candump `.log`, TRC, CSV, each also as `.gz`).
//!
//! A logged frame is a [`Frame`]: ns timestamp since the Unix epoch, id without
//! flags, flags (direction is [`FrameFlags::TX`](crate::FrameFlags::TX)), raw
//! DLC, data, and `channel`, a **0-based index**. Formats that number channels
//! from 1 (ASC, TRC, BLF) store `channel + 1`. Formats that name channels
//! (candump `vcan0`) map names to indexes in the order they first appear; the
//! reader's [`FrameReader::channel_names`] gives the table and the writer's
//! [`WriterOptions::channel_names`] takes one, so names survive a round trip.
//!
//! Readers are iterators of `Result<Frame>` with a batch method and counters
//! ([`ReadStats`]): a line that does not parse is counted with its line number,
//! never a panic or an error; an input cut short ends the iteration with a
//! [`Truncation`] report. Errors are only I/O failures.
//!
//! - [`text_reader`] — the shared line loop, [`gz`]: transparent gzip
//! - [`asc`], [`candump_log`], [`trc`], [`csv`]: the text formats
//! - [`blf_adapter`] — the BLF codec behind the same interface
//! - [`formats`] — the format a file name says, and the reader or writer of
//!   each over a source or sink the caller opened (files are opened by
//!   `canwire-bus`'s `logfile_io`: this crate does no I/O)

pub mod asc;
pub mod blf_adapter;
pub mod candump_log;
pub mod csv;
pub mod formats;
pub mod gz;
pub mod stats;
pub mod text_reader;
mod text_writer;
pub mod time;
pub mod trc;

#[cfg(test)]
mod tests;

pub use formats::{
    FileFormat, can_append, detect_format, read_seekable, read_text, refuse_append, text_writer,
    write_after, write_new,
};
pub use stats::{IssueKind, LineIssue, MAX_RECORDED_ISSUES, ReadStats, Truncation};
pub use text_reader::{LineParser, MAX_LINE_BYTES, Parsed, TextReader};
pub use text_writer::WriterOptions;

use crate::error::Result;
use crate::frame::Frame;

/// The log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Vector BLF (binary).
    Blf,
    /// Vector ASC.
    Asc,
    /// can-utils `candump -L` lines.
    CandumpLog,
    /// PEAK TRC.
    Trc,
    /// CSV, python-can's columns or canwire's.
    Csv,
    /// python-can's SQLite table (`.db`); opened by `canwire-bus`, which
    /// links SQLite: this crate has no codec for it.
    Sqlite,
    /// ASAM MDF 4 (`.mf4`), python-can's and asammdf's bus-logging layout
    /// (see [`crate::mf4`]).
    Mf4,
}

/// Reads frames from a log file.
pub trait FrameReader: Iterator<Item = Result<Frame>> {
    /// Appends up to `max` frames to `out`; returns how many. 0 means the end
    /// (see [`ReadStats::truncated`]).
    fn read_frames(&mut self, out: &mut Vec<Frame>, max: usize) -> Result<usize> {
        let mut n = 0;
        while n < max {
            match self.next() {
                Some(frame) => out.push(frame?),
                None => break,
            }
            n += 1;
        }
        Ok(n)
    }
    /// The counters so far.
    fn stats(&self) -> ReadStats;
    /// Channel names by index, for formats that name channels; empty otherwise.
    fn channel_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// The time the file's offsets count from (ns since the Unix epoch), if it has one.
    fn start_time_ns(&self) -> Option<u64> {
        None
    }
    /// The format read.
    fn format(&self) -> LogFormat;
}

/// Writes frames into a log file.
pub trait FrameWriter {
    /// Writes one frame; a frame that fails [`Frame::validate`] or that the
    /// format cannot hold is rejected with a typed error and nothing is written.
    fn write_frame(&mut self, frame: &Frame) -> Result<()>;
    /// Writes frames in order, stopping at the first error.
    fn write_frames(&mut self, frames: &[Frame]) -> Result<()> {
        frames.iter().try_for_each(|f| self.write_frame(f))
    }
    /// Names channel `index` for the frames written from now on. Only formats
    /// that store channel names (candump `.log`) use it; the others number
    /// channels and ignore it.
    fn name_channel(&mut self, _index: u32, _name: &str) {}
    /// Pushes buffered text to the sink (BLF: cuts the open container).
    fn flush(&mut self) -> Result<()>;
    /// Writes the format's trailer and ends the stream (gzip, BLF header).
    /// Idempotent; later writes fail with [`ErrorCode::Closed`](crate::ErrorCode::Closed).
    fn finish(&mut self) -> Result<()>;
    /// The format written.
    fn format(&self) -> LogFormat;
}
