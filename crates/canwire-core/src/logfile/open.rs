//! Choosing a reader or writer by file extension: `.blf .asc .log .trc .csv`,
//! and `.gz` after any text one (`.asc.gz`). Readers of text formats also
//! recognise gzip by its magic bytes, whatever the name.

use std::fs::File;
use std::io::{BufRead, Read};
use std::path::Path;

use super::asc::{AscWriter, asc_reader};
use super::blf_adapter::{BlfFrameReader, BlfFrameWriter};
use super::candump_log::{CandumpLogWriter, candump_log_reader};
use super::csv::{CsvWriter, csv_reader};
use super::gz::{TextSink, file_sink, text_source};
use super::text_writer::WriterOptions;
use super::trc::{TrcWriter, trc_reader};
use super::{FrameReader, FrameWriter, LogFormat};
use crate::error::{CanwireError, ErrorCode, Result};

/// A format and whether the file is gzip-compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileFormat {
    /// The log format.
    pub format: LogFormat,
    /// `.gz` after the format's extension.
    pub gzip: bool,
}

/// The format a file name says (case-insensitive).
pub fn detect_format(path: &Path) -> Result<FileFormat> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let (stem, gzip) = match name.strip_suffix(".gz") {
        Some(stem) => (stem, true),
        None => (name.as_str(), false),
    };
    let ext = stem.rsplit_once('.').map_or("", |(_, e)| e);
    let format = match ext {
        "blf" => LogFormat::Blf,
        "asc" => LogFormat::Asc,
        "log" => LogFormat::CandumpLog,
        "trc" => LogFormat::Trc,
        "csv" => LogFormat::Csv,
        _ => {
            return Err(CanwireError::new(
                ErrorCode::Unsupported,
                format!(
                    "'{}' has no known log extension: allowed .blf .asc .log .trc .csv, \
                     and .gz after the text ones",
                    path.display()
                ),
            ));
        }
    };
    if gzip && format == LogFormat::Blf {
        return Err(CanwireError::new(
            ErrorCode::Unsupported,
            "BLF is compressed already: .blf.gz is not supported",
        ));
    }
    Ok(FileFormat { format, gzip })
}

fn os(e: std::io::Error, what: &str, path: &Path) -> CanwireError {
    CanwireError::from_io(&e, &format!("{what} '{}'", path.display()))
}

/// Opens a log file for reading, choosing the format by extension.
pub fn open_reader(path: impl AsRef<Path>) -> Result<Box<dyn FrameReader + Send>> {
    let path = path.as_ref();
    let format = detect_format(path)?.format;
    let file = File::open(path).map_err(|e| os(e, "opening", path))?;
    if format == LogFormat::Blf {
        return Ok(Box::new(BlfFrameReader::new(std::io::BufReader::new(
            file,
        ))?));
    }
    let src = text_source(file).map_err(|e| os(e, "reading", path))?;
    Ok(text_reader(src, format))
}

/// A reader of a text format over a byte source (gzip is recognised).
pub fn read_text(
    src: impl Read + Send + 'static,
    format: LogFormat,
) -> Result<Box<dyn FrameReader + Send>> {
    if format == LogFormat::Blf {
        return Ok(Box::new(BlfFrameReader::new(std::io::BufReader::new(src))?));
    }
    let src = text_source(src)
        .map_err(|e| CanwireError::new(ErrorCode::Os, format!("reading the log: {e}")))?;
    Ok(text_reader(src, format))
}

fn text_reader(src: Box<dyn BufRead + Send>, format: LogFormat) -> Box<dyn FrameReader + Send> {
    match format {
        LogFormat::Asc => Box::new(asc_reader(src)),
        LogFormat::CandumpLog => Box::new(candump_log_reader(src)),
        LogFormat::Trc => Box::new(trc_reader(src)),
        LogFormat::Csv | LogFormat::Blf => Box::new(csv_reader(src)),
    }
}

/// A writer of a text format over any sink.
pub fn text_writer<'a, W: TextSink + Send + 'a>(
    out: W,
    format: LogFormat,
    options: &WriterOptions,
) -> Result<Box<dyn FrameWriter + Send + 'a>> {
    Ok(match format {
        LogFormat::Asc => Box::new(AscWriter::new(out, options.start_time_ns)),
        LogFormat::CandumpLog => {
            Box::new(CandumpLogWriter::new(out, options.channel_names.clone()))
        }
        LogFormat::Trc => Box::new(TrcWriter::new(out, options.start_time_ns)),
        LogFormat::Csv => Box::new(CsvWriter::new(out, options.csv_flavor)),
        LogFormat::Blf => {
            return Err(CanwireError::new(
                ErrorCode::Unsupported,
                "BLF needs a seekable file: use create_writer",
            ));
        }
    })
}

/// Creates (truncates) a log file for writing, choosing the format by extension.
pub fn create_writer(
    path: impl AsRef<Path>,
    options: &WriterOptions,
) -> Result<Box<dyn FrameWriter + Send>> {
    let path = path.as_ref();
    let FileFormat { format, gzip } = detect_format(path)?;
    let file = File::create(path).map_err(|e| os(e, "creating", path))?;
    if format == LogFormat::Blf {
        let out = std::io::BufWriter::new(file);
        return Ok(Box::new(BlfFrameWriter::new(out, options.blf)?));
    }
    text_writer(file_sink(file, gzip, options.gzip_level), format, options)
}

/// Opens a log file to add frames after those it holds: BLF continues after
/// its last whole object (counts and sizes carried on), candump `.log` gets
/// lines added. A missing or empty file is created as by [`create_writer`].
/// Formats with a header (ASC, TRC, CSV) and `.gz` files are refused.
pub fn append_writer(
    path: impl AsRef<Path>,
    options: &WriterOptions,
) -> Result<Box<dyn FrameWriter + Send>> {
    let path = path.as_ref();
    let FileFormat { format, gzip } = detect_format(path)?;
    let existing = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if existing == 0 {
        return create_writer(path, options);
    }
    match (format, gzip) {
        (LogFormat::Blf, _) => {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(|e| os(e, "opening", path))?;
            let writer = crate::blf::BlfWriter::append(file, options.blf)?;
            Ok(Box::new(BlfFrameWriter::from_writer(writer)))
        }
        (LogFormat::CandumpLog, false) => {
            let file = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|e| os(e, "opening", path))?;
            text_writer(file_sink(file, false, options.gzip_level), format, options)
        }
        _ => Err(CanwireError::new(
            ErrorCode::Unsupported,
            format!(
                "cannot append to '{}': appending works for .blf and uncompressed .log files",
                path.display()
            ),
        )),
    }
}
