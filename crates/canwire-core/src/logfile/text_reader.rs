//! The line loop every text format shares: bounded line reading, counters,
//! truncation reports. A format supplies a [`LineParser`].

use std::io::{BufRead, ErrorKind};

use super::stats::{IssueKind, ReadStats, Truncation};
use super::{FrameReader, LogFormat};
use crate::error::{CanwireError, ErrorCode, Result};
use crate::frame::Frame;

/// Longest line kept; the rest of a longer line is dropped and the line counted
/// as unknown, so absurd input never grows memory.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// What one line held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A frame.
    Frame(Frame),
    /// Header, comment, blank or block structure: not counted.
    Structure,
    /// A record the format defines that is not a frame.
    Skipped(String),
    /// A line that does not parse.
    Unknown(String),
}

/// The per-format part of a text reader.
pub trait LineParser {
    /// The format read.
    fn format(&self) -> LogFormat;
    /// Parses one line (without its line ending or a trailing `\r`).
    fn parse(&mut self, line: &str) -> Parsed;
    /// Channel names in index order, for formats that name channels.
    fn channel_names(&self) -> &[String] {
        &[]
    }
    /// The start time the file's offsets count from, once known.
    fn start_time_ns(&self) -> Option<u64> {
        None
    }
}

/// A text log reader: a [`LineParser`] over any `BufRead`.
pub struct TextReader<R: BufRead, P> {
    src: R,
    parser: P,
    line: Vec<u8>,
    stats: ReadStats,
    done: bool,
}

impl<R: BufRead, P: LineParser> TextReader<R, P> {
    /// A reader running `parser` over the lines of `src`.
    pub fn new(src: R, parser: P) -> Self {
        Self {
            src,
            parser,
            line: Vec::new(),
            stats: ReadStats::default(),
            done: false,
        }
    }

    /// The format parser (its header fields: ASC base, TRC version, CSV flavor).
    pub fn parser(&self) -> &P {
        &self.parser
    }

    /// Reads one line into `self.line`. Returns `None` at the end, else
    /// `(ended_by_newline, too_long)`.
    fn read_line(&mut self) -> std::io::Result<Option<(bool, bool)>> {
        self.line.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let buf = match self.src.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(any.then_some((false, too_long)));
            }
            any = true;
            let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
                Some(p) => (&buf[..p], Some(p + 1)),
                None => (buf, None),
            };
            let room = MAX_LINE_BYTES.saturating_sub(self.line.len());
            if chunk.len() > room {
                too_long = true;
            }
            self.line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = found.unwrap_or(buf.len());
            self.src.consume(used);
            if found.is_some() {
                return Ok(Some((true, too_long)));
            }
        }
    }

    fn step(&mut self) -> Result<Option<Frame>> {
        let (complete, too_long) = match self.read_line() {
            Ok(Some(r)) => r,
            Ok(None) => {
                self.done = true;
                return Ok(None);
            }
            Err(e) => {
                self.done = true;
                let line = self.stats.lines + 1;
                if matches!(
                    e.kind(),
                    ErrorKind::UnexpectedEof | ErrorKind::InvalidData | ErrorKind::InvalidInput
                ) {
                    self.stats.truncated = Some(Truncation {
                        line: Some(line),
                        byte_offset: None,
                        reason: format!("the input breaks off in line {line}: {e}"),
                    });
                    return Ok(None);
                }
                return Err(CanwireError::new(
                    ErrorCode::Os,
                    format!("reading line {line}: {e}"),
                ));
            }
        };
        self.stats.lines += 1;
        let line_no = self.stats.lines;
        if too_long {
            self.stats.record(
                line_no,
                IssueKind::Unknown,
                &format!("line longer than {MAX_LINE_BYTES} bytes"),
            );
            return Ok(None);
        }
        let mut bytes = &self.line[..];
        if let [rest @ .., b'\r'] = bytes {
            bytes = rest;
        }
        let parsed = match std::str::from_utf8(bytes) {
            Ok(text) => self.parser.parse(text),
            Err(_) => Parsed::Unknown("not valid UTF-8".into()),
        };
        match parsed {
            Parsed::Frame(f) => {
                self.stats.frames += 1;
                return Ok(Some(f));
            }
            Parsed::Structure => {}
            Parsed::Skipped(why) => self.stats.record(line_no, IssueKind::Skipped, &why),
            Parsed::Unknown(why) if !complete => {
                self.stats.truncated = Some(Truncation {
                    line: Some(line_no),
                    byte_offset: None,
                    reason: format!("the last line {line_no} is cut short: {why}"),
                });
            }
            Parsed::Unknown(why) => self.stats.record(line_no, IssueKind::Unknown, &why),
        }
        Ok(None)
    }
}

impl<R: BufRead, P: LineParser> Iterator for TextReader<R, P> {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.step() {
                Ok(Some(f)) => return Some(Ok(f)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }
}

impl<R: BufRead, P: LineParser> FrameReader for TextReader<R, P> {
    fn stats(&self) -> ReadStats {
        self.stats.clone()
    }
    fn channel_names(&self) -> Vec<String> {
        self.parser.channel_names().to_vec()
    }
    fn start_time_ns(&self) -> Option<u64> {
        self.parser.start_time_ns()
    }
    fn format(&self) -> LogFormat {
        self.parser.format()
    }
}
