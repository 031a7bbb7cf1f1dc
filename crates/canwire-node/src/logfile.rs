//! Log-file readers and writers exported to JS. Reads, writes, flushes and
//! closes run on tokio's blocking pool through one helper (`blocking`),
//! never on the JS thread; only opening a file (`LogReader.open`,
//! `LogWriter.create`, synchronous in the API) happens on the caller's thread.
//! A reader's getters read a view refreshed after each read, so they never
//! wait for a read in progress.

use std::sync::{Arc, Mutex};

use canwire_bus::logfile_io::{append_writer, create_writer, open_reader, open_sqlite_reader};
use canwire_bus::sync_util::lock;
use canwire_core::Frame;
use canwire_core::logfile::csv::CsvFlavor;
use canwire_core::logfile::{FrameReader, FrameWriter, LogFormat, ReadStats, WriterOptions};
use canwire_core::mf4::{Mf4Compression, TimeResolution};
use canwire_core::record::{decode_batch, encode_batch};
use canwire_core::{CanwireError, ErrorCode};
use napi::bindgen_prelude::{BigInt, Buffer, Uint8Array};
use napi_derive::napi;

use crate::convert::integer;
use crate::error::{IntoNapi, invalid_argument, to_napi};

fn format_name(format: LogFormat) -> &'static str {
    match format {
        LogFormat::Blf => "blf",
        LogFormat::Asc => "asc",
        LogFormat::CandumpLog => "log",
        LogFormat::Trc => "trc",
        LogFormat::Csv => "csv",
        LogFormat::Sqlite => "db",
        LogFormat::Mf4 => "mf4",
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CanwireError> + Send + 'static,
) -> napi::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| {
            to_napi(CanwireError::new(
                ErrorCode::Internal,
                format!("file worker failed: {e}"),
            ))
        })?
        .into_napi()
}

/// Where a file ended early.
#[napi(object)]
pub struct NativeTruncation {
    pub line: Option<i64>,
    pub byte_offset: Option<i64>,
    pub reason: String,
}

/// One line that gave no frame.
#[napi(object)]
pub struct NativeLineIssue {
    pub line: i64,
    pub skipped: bool,
    pub reason: String,
}

/// Counters of a reader.
#[napi(object)]
pub struct NativeReadStats {
    pub lines: i64,
    pub frames: i64,
    pub skipped: i64,
    pub unknown: i64,
    pub issues: Vec<NativeLineIssue>,
    pub truncated: Option<NativeTruncation>,
    pub damaged: i64,
    pub damaged_bytes: i64,
    pub damage: Vec<NativeDamage>,
}

/// The most frames one `readBatch` returns (88 MB of records).
pub const MAX_BATCH_FRAMES: u32 = 1 << 20;

/// One damaged stretch a reader skipped.
#[napi(object)]
pub struct NativeDamage {
    pub byte_offset: i64,
    pub skipped_bytes: i64,
    pub reason: String,
}

/// A reader's file, open until the end, an error or `close()`; then what
/// the getters report stays as it was.
enum ReaderState {
    /// The reader, and the frames of its last batch (kept to reuse their memory).
    Open(Box<dyn FrameReader + Send>, Vec<Frame>),
    Closed {
        stats: ReadStats,
        channel_names: Vec<String>,
        start_time_ns: Option<u64>,
        /// Closed by `close()` before the end: reading is an error, not the end.
        early: bool,
    },
}

impl ReaderState {
    /// Drops the reader (closing its file), keeping what the getters report.
    fn close(&mut self, early: bool) {
        if let ReaderState::Open(reader, _) = self {
            *self = ReaderState::Closed {
                stats: reader.stats(),
                channel_names: reader.channel_names(),
                start_time_ns: reader.start_time_ns(),
                early,
            };
        }
    }

    fn stats(&self) -> ReadStats {
        match self {
            ReaderState::Open(r, _) => r.stats(),
            ReaderState::Closed { stats, .. } => stats.clone(),
        }
    }

    fn channel_names(&self) -> Vec<String> {
        match self {
            ReaderState::Open(r, _) => r.channel_names(),
            ReaderState::Closed { channel_names, .. } => channel_names.clone(),
        }
    }

    fn start_time_ns(&self) -> Option<u64> {
        match self {
            ReaderState::Open(r, _) => r.start_time_ns(),
            ReaderState::Closed { start_time_ns, .. } => *start_time_ns,
        }
    }

    /// Reads up to `max` frames as records; empty at the end. The file is
    /// closed at the end and on an error.
    fn read_batch(&mut self, max: usize) -> Result<Vec<u8>, CanwireError> {
        let (reader, frames) = match self {
            ReaderState::Open(reader, frames) => (reader, frames),
            ReaderState::Closed { early: true, .. } => {
                return Err(CanwireError::closed("the log reader"));
            }
            ReaderState::Closed { .. } => return Ok(Vec::new()),
        };
        frames.clear();
        let result = reader.read_frames(frames, max);
        let mut out = Vec::new();
        match result {
            Ok(n) if n > 0 => {
                encode_batch(&frames[..n], &mut out);
                // keep what a usual batch needs, not the largest one's memory
                frames.clear();
                frames.shrink_to(1 << 16);
            }
            Ok(_) => self.close(false),
            Err(e) => {
                self.close(false);
                return Err(e);
            }
        }
        Ok(out)
    }
}

/// What the JS thread may ask a reader at any time, as of its last read:
/// kept apart from the reader so a getter never waits for file I/O.
struct ReaderView {
    stats: ReadStats,
    channel_names: Vec<String>,
    start_time_ns: Option<u64>,
    open: bool,
}

impl ReaderView {
    fn of(state: &ReaderState) -> Self {
        ReaderView {
            stats: state.stats(),
            channel_names: state.channel_names(),
            start_time_ns: state.start_time_ns(),
            open: matches!(state, ReaderState::Open(..)),
        }
    }
}

/// A log file being read.
#[napi]
pub struct NativeLogReader {
    state: Arc<Mutex<ReaderState>>,
    view: Arc<Mutex<ReaderView>>,
    format: LogFormat,
}

/// Runs `work` on the reader off the JS thread, then refreshes the view.
async fn with_reader<T: Send + 'static>(
    state: &Arc<Mutex<ReaderState>>,
    view: &Arc<Mutex<ReaderView>>,
    work: impl FnOnce(&mut ReaderState) -> Result<T, CanwireError> + Send + 'static,
) -> napi::Result<T> {
    let (state, view) = (state.clone(), view.clone());
    blocking(move || {
        let mut state = lock(&state);
        let result = work(&mut state);
        *lock(&view) = ReaderView::of(&state);
        result
    })
    .await
}

#[napi]
impl NativeLogReader {
    /// Opens a file, choosing the format by extension (`.gz` for text
    /// formats); `sqlite_table` names the table of a `.db` file.
    #[napi(factory, catch_unwind)]
    pub fn open(path: String, sqlite_table: Option<String>) -> napi::Result<NativeLogReader> {
        let reader = match sqlite_table {
            None => open_reader(&path),
            Some(table) => open_sqlite_reader(&path, &table),
        }
        .into_napi()?;
        let format = reader.format();
        let state = ReaderState::Open(reader, Vec::new());
        Ok(NativeLogReader {
            view: Arc::new(Mutex::new(ReaderView::of(&state))),
            state: Arc::new(Mutex::new(state)),
            format,
        })
    }

    /// Reads up to `max` frames (1..=MAX_BATCH_FRAMES) as a record batch;
    /// `null` at the end. The file is closed at the end and on an error.
    #[napi(catch_unwind)]
    pub async fn read_batch(&self, max: f64) -> napi::Result<Option<Buffer>> {
        let max = integer("max", max, 1..=MAX_BATCH_FRAMES).into_napi()?;
        let records =
            with_reader(&self.state, &self.view, move |r| r.read_batch(max as usize)).await?;
        Ok((!records.is_empty()).then(|| records.into()))
    }

    /// Closes the file (idempotent); later reads fail with `ERR_CLOSED`
    /// unless the end was reached. Runs off the JS thread: a read in
    /// progress finishes first.
    #[napi(catch_unwind)]
    pub async fn close(&self) -> napi::Result<()> {
        with_reader(&self.state, &self.view, |r| {
            r.close(true);
            Ok(())
        })
        .await
    }

    /// Whether the file is still open.
    #[napi(getter, catch_unwind)]
    pub fn is_open(&self) -> bool {
        lock(&self.view).open
    }

    /// The format: "blf", "mf4", "asc", "log", "trc", "csv" or "db".
    #[napi(getter, catch_unwind)]
    pub fn format(&self) -> &'static str {
        format_name(self.format)
    }

    /// Channel names by index, where the format names channels.
    #[napi(catch_unwind)]
    pub fn channel_names(&self) -> Vec<String> {
        lock(&self.view).channel_names.clone()
    }

    /// The file's start time in ns since the epoch (exact), where the format has one.
    #[napi(catch_unwind)]
    pub fn start_time_ns(&self) -> Option<BigInt> {
        lock(&self.view).start_time_ns.map(BigInt::from)
    }

    /// Counters, the first problem lines, damage and truncation.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativeReadStats {
        let s = lock(&self.view).stats.clone();
        NativeReadStats {
            lines: s.lines as i64,
            frames: s.frames as i64,
            skipped: s.skipped as i64,
            unknown: s.unknown as i64,
            issues: s
                .issues
                .into_iter()
                .map(|i| NativeLineIssue {
                    line: i.line as i64,
                    skipped: i.kind == canwire_core::logfile::IssueKind::Skipped,
                    reason: i.reason,
                })
                .collect(),
            truncated: s.truncated.map(|t| NativeTruncation {
                line: t.line.map(|l| l as i64),
                byte_offset: t.byte_offset.map(|o| o as i64),
                reason: t.reason,
            }),
            damaged: s.damaged as i64,
            damaged_bytes: s.damaged_bytes as i64,
            damage: s
                .damage
                .into_iter()
                .map(|d| NativeDamage {
                    byte_offset: d.file_offset as i64,
                    skipped_bytes: d.skipped_bytes as i64,
                    reason: d.reason,
                })
                .collect(),
        }
    }
}

/// Options of a log writer.
#[napi(object)]
pub struct NativeLogWriterOptions {
    pub channel_names: Option<Vec<String>>,
    /// "canwire" (default, lossless) or "python-can".
    pub csv_flavor: Option<String>,
    /// An integer 0..=9 (a JS number, checked here: no silent truncation).
    pub gzip_level: Option<f64>,
    /// An integer 0..=9.
    pub compression_level: Option<f64>,
    /// Add to an existing file (BLF, uncompressed .log, SQLite .db) instead of truncating it.
    pub append: Option<bool>,
    /// SQLite (.db): the table to write, python-can's `messages` by default.
    pub sqlite_table: Option<String>,
    /// MF4 (.mf4): python-can's `compression_level`, an integer 0..=2.
    pub mf4_compression: Option<f64>,
    /// MF4 (.mf4): the unit of the records' times, "ns" (default) or "us".
    pub mf4_time_resolution: Option<String>,
}

/// A writer's file: `None` once finished. A text writer keeps its sink (and
/// so the file) until it is dropped, so finishing drops it here rather than
/// leaving the descriptor to the JS object's garbage collection.
type WriterSlot = Arc<Mutex<Option<Box<dyn FrameWriter + Send>>>>;

/// Runs `work` on the open writer off the JS thread; `ERR_CLOSED` once finished.
async fn with_writer(
    writer: &WriterSlot,
    work: impl FnOnce(&mut dyn FrameWriter) -> Result<(), CanwireError> + Send + 'static,
) -> napi::Result<()> {
    let writer = writer.clone();
    blocking(move || match lock(&writer).as_deref_mut() {
        Some(w) => work(w),
        None => Err(CanwireError::closed("the log writer")),
    })
    .await
}

/// A log file being written.
#[napi]
pub struct NativeLogWriter {
    writer: WriterSlot,
    format: LogFormat,
}

#[napi]
impl NativeLogWriter {
    /// Creates (truncates) a file, choosing the format by extension.
    #[napi(factory, catch_unwind)]
    pub fn create(path: String, options: NativeLogWriterOptions) -> napi::Result<NativeLogWriter> {
        let mut opts = WriterOptions {
            channel_names: options.channel_names.unwrap_or_default(),
            sqlite_table: options.sqlite_table,
            ..WriterOptions::default()
        };
        match options.csv_flavor.as_deref() {
            None | Some("canwire") => opts.csv_flavor = CsvFlavor::Canwire,
            Some("python-can") => opts.csv_flavor = CsvFlavor::Python,
            Some(other) => {
                return Err(invalid_argument(format!(
                    "options.csvFlavor must be 'canwire' or 'python-can', got '{other}'"
                )));
            }
        }
        if let Some(level) = options.gzip_level {
            opts.gzip_level = integer("options.gzipLevel", level, 0..=9).into_napi()?;
        }
        if let Some(level) = options.compression_level {
            opts.blf.compression_level =
                integer("options.compressionLevel", level, 0..=9).into_napi()?;
        }
        if let Some(level) = options.mf4_compression {
            let level = integer("options.mf4Compression", level, 0..=2u32).into_napi()?;
            opts.mf4.compression = Mf4Compression::from_level(level).into_napi()?;
        }
        if let Some(name) = options.mf4_time_resolution.as_deref() {
            opts.mf4.time_resolution = TimeResolution::from_name(name).map_err(|_| {
                invalid_argument(format!(
                    "options.mf4TimeResolution must be \"ns\" (exact, the default) or \"us\", got '{name}'"
                ))
            })?;
        }
        let writer = if options.append.unwrap_or(false) {
            append_writer(&path, &opts).into_napi()?
        } else {
            create_writer(&path, &opts).into_napi()?
        };
        let format = writer.format();
        Ok(NativeLogWriter {
            writer: Arc::new(Mutex::new(Some(writer))),
            format,
        })
    }

    /// The format: "blf", "asc", "log", "trc" or "csv".
    #[napi(getter, catch_unwind)]
    pub fn format(&self) -> &'static str {
        format_name(self.format)
    }

    /// Names a channel index for the frames written from now on (candump .log).
    #[napi(catch_unwind)]
    pub fn name_channel(&self, index: u32, name: String) {
        if let Some(w) = lock(&self.writer).as_deref_mut() {
            w.name_channel(index, &name);
        }
    }

    /// Validates and writes a record batch.
    #[napi(catch_unwind)]
    pub async fn write_batch(&self, records: Uint8Array) -> napi::Result<()> {
        let frames = decode_batch(&records).into_napi()?;
        with_writer(&self.writer, move |w| w.write_frames(&frames)).await
    }

    /// Pushes buffered data to the file; `ERR_CLOSED` after `finish`.
    #[napi(catch_unwind)]
    pub async fn flush(&self) -> napi::Result<()> {
        with_writer(&self.writer, |w| w.flush()).await
    }

    /// Writes the trailer and closes the file (its descriptor too, even when
    /// the trailer fails). Idempotent.
    #[napi(catch_unwind)]
    pub async fn finish(&self) -> napi::Result<()> {
        let writer = self.writer.clone();
        blocking(move || {
            let taken = lock(&writer).take();
            // Dropping `w` at the end of this closure closes the file.
            taken.map_or(Ok(()), |mut w| w.finish())
        })
        .await
    }
}
