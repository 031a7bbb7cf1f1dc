//! The ASC writer: `base hex timestamps absolute`, classic `d`/`r` lines,
//! `CANFD` lines for FD frames, `ErrorFrame` lines, Rx/Tx and 1-based channels.
//!
//! Layout follows python-can's writer (the `single_frame*.asc` fixtures) where it
//! is right. It differs in two places: an FD frame is written as a `CANFD` line
//! with EDL/BRS/ESI in the flags column (python-can's `d 40` for 64 bytes is not
//! valid ASC: a classic DLC is 0..15), and DLCs are upper-case hex, as CANoe
//! writes them. The header is written with the first frame, so its date is the
//! first frame's time (cut to the millisecond) unless a start time is given.
//!
//! What ASC cannot hold: time below 1 µs (cut); an error frame's id and data
//! (only channel, time and, for FD error frames, direction are kept; a classic
//! `ErrorFrame` line has no direction and reads back as Rx).

use super::date::format_asc_date;
use super::reader::fd_flags;
use crate::error::{CanwireError, Result};
use crate::frame::{Frame, FrameFlags};
use crate::logfile::gz::TextSink;
use crate::logfile::text_writer::LineSink;
use crate::logfile::time::format_seconds;
use crate::logfile::{FrameWriter, LogFormat};

const NS_PER_MS: u64 = 1_000_000;

/// Writes ASC files.
pub struct AscWriter<W: TextSink> {
    sink: LineSink<W>,
    start_ns: Option<u64>,
    header_written: bool,
}

impl<W: TextSink> AscWriter<W> {
    /// A writer; `start_time_ns` sets the header date (default: the first frame's time).
    pub fn new(out: W, start_time_ns: Option<u64>) -> Self {
        Self {
            sink: LineSink::new(out, "ASC"),
            start_ns: start_time_ns,
            header_written: false,
        }
    }

    /// The sink (for in-memory tests).
    pub fn get_ref(&self) -> &W {
        self.sink.get_ref()
    }

    /// The sink, after [`finish`](FrameWriter::finish).
    pub fn into_inner(self) -> W {
        self.sink.into_inner()
    }

    fn write_header(&mut self, first_ns: u64) -> Result<()> {
        let start = *self
            .start_ns
            .get_or_insert(first_ns / NS_PER_MS * NS_PER_MS);
        let date = format_asc_date(start);
        self.header_written = true;
        self.sink.write(&format!(
            "date {date}\nbase hex  timestamps absolute\ninternal events logged\n\
             Begin Triggerblock {date}\n{:>9} Start of measurement\n",
            "0.000000"
        ))
    }
}

fn push_bytes(line: &mut String, data: &[u8]) {
    use std::fmt::Write;
    for b in data {
        let _ = write!(line, " {b:02X}");
    }
}

/// Formats one frame as an ASC event line (without the line ending).
pub fn format_asc_line(frame: &Frame, offset_ns: u64, line: &mut String) {
    use std::fmt::Write;
    let ts = format_seconds(offset_ns, 6);
    let ch = u64::from(frame.channel) + 1;
    let dir = if frame.flags.has(FrameFlags::TX) {
        "Tx"
    } else {
        "Rx"
    };
    let id = if frame.is_extended() {
        format!("{:X}x", frame.id)
    } else {
        format!("{:X}", frame.id)
    };
    let _ = write!(line, "{ts:>9} ");
    if frame.is_error() {
        if frame.is_fd() {
            let _ = write!(line, "CANFD {ch:>3} {dir:<4} ErrorFrame");
        } else {
            let _ = write!(line, "{ch} ErrorFrame");
        }
    } else if frame.is_fd() {
        let mut flags = fd_flags::EDL;
        let brs = frame.flags.has(FrameFlags::BRS);
        let esi = frame.flags.has(FrameFlags::ESI);
        if brs {
            flags |= fd_flags::BRS;
        }
        if esi {
            flags |= fd_flags::ESI;
        }
        let _ = write!(
            line,
            "CANFD {ch:>3} {dir:<4} {id:>8}  {:>32} {} {} {:x} {:>2}",
            "",
            u8::from(brs),
            u8::from(esi),
            frame.dlc,
            frame.len
        );
        push_bytes(line, frame.data());
        let _ = write!(
            line,
            " {:>8} {:>4} {flags:>8X} {:>8} {:>8} {:>8} {:>8} {:>8}",
            0, 0, 0, 0, 0, 0, 0
        );
    } else if frame.is_remote() {
        let _ = write!(line, "{ch}  {id:<15} {dir:<4} r {:X}", frame.dlc);
    } else {
        let _ = write!(line, "{ch}  {id:<15} {dir:<4} d {:X}", frame.dlc);
        push_bytes(line, frame.data());
    }
}

impl<W: TextSink> FrameWriter for AscWriter<W> {
    fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        self.sink.check_open()?;
        frame.validate()?;
        if frame.channel == u32::MAX {
            return Err(CanwireError::invalid_argument(
                "channel u32::MAX does not fit ASC's 1-based channel numbers",
            ));
        }
        if !self.header_written {
            self.write_header(frame.timestamp_ns)?;
        }
        let offset = frame
            .timestamp_ns
            .saturating_sub(self.start_ns.unwrap_or(0));
        self.sink
            .write_line(|line| format_asc_line(frame, offset, line))
    }

    fn flush(&mut self) -> Result<()> {
        self.sink.flush()
    }

    fn finish(&mut self) -> Result<()> {
        if self.sink.is_finished() {
            return Ok(());
        }
        if !self.header_written {
            self.write_header(0)?;
        }
        self.sink.finish("End TriggerBlock\n")
    }

    fn format(&self) -> LogFormat {
        LogFormat::Asc
    }
}
