//! Writer settings and the line sink every text writer shares.

use super::csv::CsvFlavor;
use super::gz::{DEFAULT_GZIP_LEVEL, TextSink};
use crate::blf::BlfWriterOptions;
use crate::error::{CanwireError, ErrorCode, Result};
use crate::mf4::Mf4WriterOptions;

/// Settings for [`write_new`](super::write_new), [`write_after`](super::write_after) and the writers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterOptions {
    /// The file's start time (ASC `date`, TRC `$STARTTIME`), ns since the Unix
    /// epoch; by default the first frame's time cut to the format's header
    /// precision (ASC: ms, TRC: µs). Frames before it are written at offset 0.
    pub start_time_ns: Option<u64>,
    /// candump `.log` channel names by index; an index past the table is
    /// written as `can<index>`.
    pub channel_names: Vec<String>,
    /// CSV columns to write.
    pub csv_flavor: CsvFlavor,
    /// Gzip level 0..=9 for `.gz` files.
    pub gzip_level: u32,
    /// BLF settings.
    pub blf: BlfWriterOptions,
    /// SQLite (`.db`): the table frames go to; `None` is python-can's `messages`.
    pub sqlite_table: Option<String>,
    /// MF4 settings (its start time is `start_time_ns`).
    pub mf4: Mf4WriterOptions,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            start_time_ns: None,
            channel_names: Vec::new(),
            csv_flavor: CsvFlavor::Canwire,
            gzip_level: DEFAULT_GZIP_LEVEL,
            blf: BlfWriterOptions::default(),
            sqlite_table: None,
            mf4: Mf4WriterOptions::default(),
        }
    }
}

/// A sink of text lines with the closed state and error mapping.
pub(crate) struct LineSink<W: TextSink> {
    out: W,
    what: &'static str,
    finished: bool,
    /// Reused for every line, so writing a frame allocates nothing.
    line: String,
}

impl<W: TextSink> LineSink<W> {
    pub(crate) fn new(out: W, what: &'static str) -> Self {
        Self {
            out,
            what,
            finished: false,
            line: String::new(),
        }
    }

    fn io(&self, e: std::io::Error) -> CanwireError {
        CanwireError::new(ErrorCode::Os, format!("writing {}: {e}", self.what))
    }

    /// Fails with [`ErrorCode::Closed`] after `finish`.
    pub(crate) fn check_open(&self) -> Result<()> {
        if self.finished {
            return Err(CanwireError::closed(&format!("the {} writer", self.what)));
        }
        Ok(())
    }

    /// Writes text as is.
    pub(crate) fn write(&mut self, text: &str) -> Result<()> {
        self.check_open()?;
        self.out.write_all(text.as_bytes()).map_err(|e| self.io(e))
    }

    /// Writes one line that `build` appends to an empty buffer; the newline is added here.
    pub(crate) fn write_line(&mut self, build: impl FnOnce(&mut String)) -> Result<()> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        build(&mut line);
        line.push('\n');
        let result = self.write(&line);
        self.line = line;
        result
    }

    pub(crate) fn flush(&mut self) -> Result<()> {
        self.check_open()?;
        self.out.flush().map_err(|e| self.io(e))
    }

    /// Writes `trailer` and ends the stream; a second call does nothing.
    pub(crate) fn finish(&mut self, trailer: &str) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        self.write(trailer)?;
        self.finished = true;
        self.out.finish_sink().map_err(|e| self.io(e))
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    pub(crate) fn get_ref(&self) -> &W {
        &self.out
    }

    pub(crate) fn into_inner(self) -> W {
        self.out
    }
}
