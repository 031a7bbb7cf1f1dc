//! can-utils `candump -L` log files (`.log`): `(SECONDS.MICROS) CHANNEL FRAME [T|R]`.
//!
//! Frames use [`crate::candump`]'s syntax (FD `##`, remote `#R`, error frames
//! with the 0x20000000 flag in the id). Channel names map to indexes in the
//! order they first appear ([`FrameReader::channel_names`](super::FrameReader::channel_names)).
//! The format holds microseconds: the writer cuts the nanoseconds below, the
//! reader accepts up to 9 fraction digits.

use std::collections::HashMap;
use std::io::BufRead;

use super::gz::TextSink;
use super::text_reader::{LineParser, Parsed, TextReader};
use super::text_writer::LineSink;
use super::{FrameWriter, LogFormat};
use crate::candump::{format_log_line, parse_log_line};
use crate::error::{CanwireError, Result};
use crate::frame::{Frame, FrameFlags};

/// Most distinct channel names a reader tracks; lines naming more are counted
/// as unknown, so absurd input cannot grow the table without bound.
pub const MAX_CHANNEL_NAMES: usize = 4096;

/// Line parser for `candump -L` files.
#[derive(Debug, Default)]
pub struct CandumpLogParser {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl LineParser for CandumpLogParser {
    fn format(&self) -> LogFormat {
        LogFormat::CandumpLog
    }

    fn parse(&mut self, line: &str) -> Parsed {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return Parsed::Structure;
        }
        let parsed = match parse_log_line(trimmed) {
            Ok(p) => p,
            Err(e) => return Parsed::Unknown(e.message),
        };
        let mut frame = parsed.frame;
        frame.channel = match self.index.get(&parsed.channel) {
            Some(&i) => i,
            None if self.names.len() < MAX_CHANNEL_NAMES => {
                let i = self.names.len() as u32;
                self.index.insert(parsed.channel.clone(), i);
                self.names.push(parsed.channel);
                i
            }
            None => return Parsed::Unknown(format!("more than {MAX_CHANNEL_NAMES} channels")),
        };
        Parsed::Frame(frame)
    }

    fn channel_names(&self) -> &[String] {
        &self.names
    }
}

/// A `candump -L` reader.
pub type CandumpLogReader<R> = TextReader<R, CandumpLogParser>;

/// Reads a `candump -L` file from any `BufRead` (see [`gz::text_source`](super::gz::text_source) for gzip).
pub fn candump_log_reader<R: BufRead>(src: R) -> CandumpLogReader<R> {
    TextReader::new(src, CandumpLogParser::default())
}

/// Writes `candump -L` lines. Transmitted frames get a trailing ` T`, received
/// ones ` R` (as `candump -L -x` does; plain `candump -L` writes neither).
pub struct CandumpLogWriter<W: TextSink> {
    sink: LineSink<W>,
    names: Vec<String>,
}

impl<W: TextSink> CandumpLogWriter<W> {
    /// A writer naming channel `i` `names[i]`, or `can<i>` past the table.
    pub fn new(out: W, names: Vec<String>) -> Self {
        Self {
            sink: LineSink::new(out, "candump log"),
            names,
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
}

impl<W: TextSink> FrameWriter for CandumpLogWriter<W> {
    fn name_channel(&mut self, index: u32, name: &str) {
        let index = index as usize;
        if index < MAX_CHANNEL_NAMES {
            while self.names.len() <= index {
                let unnamed = format!("can{}", self.names.len());
                self.names.push(unnamed);
            }
            self.names[index] = name.to_string();
        }
    }

    fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        self.sink.check_open()?;
        frame.validate()?;
        let fallback;
        let name = match self.names.get(frame.channel as usize) {
            Some(n) => n.as_str(),
            None => {
                fallback = format!("can{}", frame.channel);
                &fallback
            }
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(CanwireError::invalid_argument(format!(
                "channel name '{name}' cannot be written: names must be non-empty without whitespace"
            )));
        }
        let mut line = format_log_line(frame, name);
        line.push_str(if frame.flags.has(FrameFlags::TX) {
            " T\n"
        } else {
            " R\n"
        });
        self.sink.write(&line)
    }

    fn flush(&mut self) -> Result<()> {
        self.sink.flush()
    }

    fn finish(&mut self) -> Result<()> {
        self.sink.finish("")
    }

    fn format(&self) -> LogFormat {
        LogFormat::CandumpLog
    }
}
