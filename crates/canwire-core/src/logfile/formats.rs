//! Which format a file name says (`.blf .mf4 .asc .log .trc .csv`, and `.gz` after
//! any text one), and the reader or writer of each format over a source or
//! sink the caller opened. No file is opened here: `canwire-bus`'s
//! `logfile_io` opens files and hands them in. Readers of text formats
//! recognise gzip by its magic bytes, whatever the name.

use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use super::asc::{AscWriter, asc_reader};
use super::blf_adapter::{BlfFrameReader, BlfFrameWriter};
use super::candump_log::{CandumpLogWriter, candump_log_reader};
use super::csv::{CsvWriter, csv_reader};
use super::gz::{TextSink, text_sink, text_source};
use super::text_writer::WriterOptions;
use super::trc::{TrcWriter, trc_reader};
use super::{FrameReader, FrameWriter, LogFormat};
use crate::blf::BlfWriter;
use crate::error::{CanwireError, ErrorCode, Result};
use crate::mf4::{Mf4Reader, Mf4Writer, Mf4WriterOptions};

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
        "db" => LogFormat::Sqlite,
        "mf4" => LogFormat::Mf4,
        _ => {
            return Err(CanwireError::new(
                ErrorCode::Unsupported,
                format!(
                    "'{}' has no known log extension: allowed .blf .mf4 .asc .log .trc .csv .db, \
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
    if gzip && format == LogFormat::Mf4 {
        return Err(CanwireError::new(
            ErrorCode::Unsupported,
            "MF4 compresses its own blocks: .mf4.gz is not supported",
        ));
    }
    if gzip && format == LogFormat::Sqlite {
        return Err(CanwireError::new(
            ErrorCode::Unsupported,
            "SQLite logs are database files: .db.gz is not supported",
        ));
    }
    Ok(FileFormat { format, gzip })
}

/// A reader of `format` over a seekable source (a file): MF4 needs to follow
/// links; the other formats read it as [`read_text`] does.
pub fn read_seekable(
    src: impl Read + Seek + Send + 'static,
    format: LogFormat,
) -> Result<Box<dyn FrameReader + Send>> {
    if format == LogFormat::Mf4 {
        return Ok(Box::new(Mf4Reader::new(BufReader::new(src))?));
    }
    read_text(src, format)
}

/// A reader of `format` over a byte source (text formats: gzip is recognised).
pub fn read_text(
    src: impl Read + Send + 'static,
    format: LogFormat,
) -> Result<Box<dyn FrameReader + Send>> {
    if format == LogFormat::Blf {
        return Ok(Box::new(BlfFrameReader::new(std::io::BufReader::new(src))?));
    }
    if format == LogFormat::Sqlite {
        return Err(needs_sqlite_file());
    }
    if format == LogFormat::Mf4 {
        return Err(needs_seekable("reading an MF4 file", "read_seekable"));
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
        LogFormat::Csv | LogFormat::Blf | LogFormat::Sqlite | LogFormat::Mf4 => {
            Box::new(csv_reader(src))
        }
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
                "BLF needs a seekable sink: use write_new",
            ));
        }
        LogFormat::Sqlite => return Err(needs_sqlite_file()),
        LogFormat::Mf4 => return Err(needs_seekable("writing an MF4 file", "write_new")),
    })
}

/// The error for MF4 asked of a plain byte stream: its blocks link to each
/// other by file offset.
fn needs_seekable(what: &str, use_instead: &str) -> CanwireError {
    CanwireError::new(
        ErrorCode::Unsupported,
        format!("{what} needs a seekable file, not a byte stream: use {use_instead}"),
    )
}

/// The error for an SQLite log asked of a byte source or sink: SQLite needs
/// the file itself (`canwire_bus::logfile_io` opens it).
fn needs_sqlite_file() -> CanwireError {
    CanwireError::new(
        ErrorCode::Unsupported,
        "an SQLite log (.db) is a database file, not a byte stream: open it by path",
    )
}

/// A writer of a new log in `format` over an empty, seekable sink (a file
/// just created): BLF, or a text format (gzip-compressed if `format.gzip`).
pub fn write_new<W: Write + Seek + Send + 'static>(
    out: W,
    format: FileFormat,
    options: &WriterOptions,
) -> Result<Box<dyn FrameWriter + Send>> {
    if format.format == LogFormat::Mf4 {
        let mf4 = Mf4WriterOptions {
            start_time_ns: options.start_time_ns,
            ..options.mf4
        };
        return Ok(Box::new(Mf4Writer::new(BufWriter::new(out), mf4)));
    }
    if format.format == LogFormat::Blf {
        return Ok(Box::new(BlfFrameWriter::new(
            BufWriter::new(out),
            options.blf,
        )?));
    }
    text_writer(
        text_sink(out, format.gzip, options.gzip_level),
        format.format,
        options,
    )
}

/// A writer that adds frames after those a non-empty log holds: BLF continues
/// after its last whole object (`file` open for reading and writing), candump
/// `.log` gets lines added (`file` positioned at its end). Formats with a
/// header (ASC, TRC, CSV) and `.gz` files are refused; `name` names the file
/// in that error.
pub fn write_after<F: Read + Write + Seek + Send + 'static>(
    file: F,
    format: FileFormat,
    options: &WriterOptions,
    name: &str,
) -> Result<Box<dyn FrameWriter + Send>> {
    match (format.format, format.gzip) {
        (LogFormat::Blf, _) => Ok(Box::new(BlfFrameWriter::from_writer(BlfWriter::append(
            file,
            options.blf,
        )?))),
        (LogFormat::CandumpLog, false) => text_writer(
            text_sink(file, false, options.gzip_level),
            format.format,
            options,
        ),
        _ => Err(refuse_append(name)),
    }
}

/// Whether [`write_after`] can continue a file of `format`.
pub fn can_append(format: FileFormat) -> bool {
    matches!(
        (format.format, format.gzip),
        (LogFormat::Blf, _) | (LogFormat::CandumpLog, false)
    )
}

/// The error for a format [`write_after`] cannot continue.
pub fn refuse_append(name: &str) -> CanwireError {
    CanwireError::new(
        ErrorCode::Unsupported,
        format!("cannot append to '{name}': appending works for .blf and uncompressed .log files"),
    )
}
