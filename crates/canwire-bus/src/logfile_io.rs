//! Log files on disk: opens, creates and appends to files and hands them to
//! the codecs of `canwire_core::logfile`, which only see `Read`/`Write`. The
//! format comes from the extension (`.blf .mf4 .asc .log .trc .csv`, `.gz` after a
//! text one; `.db` is python-can's SQLite table, see [`crate::sqlite_log`]).
//!
//! These calls block on the file system; callers on an event loop run them
//! on a blocking pool.

use std::fs::{File, OpenOptions};
use std::path::Path;

use canwire_core::CanwireError;
use canwire_core::error::Result;
use canwire_core::logfile::LogFormat;
use canwire_core::logfile::{
    FrameReader, FrameWriter, WriterOptions, can_append, detect_format, read_seekable,
    refuse_append, write_after, write_new,
};

use crate::sqlite_log::{DEFAULT_TABLE, SqliteFrameReader, SqliteFrameWriter};

fn sqlite_table(options: &WriterOptions) -> &str {
    options.sqlite_table.as_deref().unwrap_or(DEFAULT_TABLE)
}

fn os(e: std::io::Error, what: &str, path: &Path) -> CanwireError {
    CanwireError::from_io(&e, &format!("{what} '{}'", path.display()))
}

/// Opens a log file for reading, choosing the format by extension.
pub fn open_reader(path: impl AsRef<Path>) -> Result<Box<dyn FrameReader + Send>> {
    let path = path.as_ref();
    let format = detect_format(path)?.format;
    if format == LogFormat::Sqlite {
        return Ok(Box::new(SqliteFrameReader::open(path, DEFAULT_TABLE)?));
    }
    let file = File::open(path).map_err(|e| os(e, "opening", path))?;
    read_seekable(file, format).map_err(|e| match e.code {
        canwire_core::ErrorCode::Os => CanwireError::new(
            e.code,
            format!("reading '{}': {}", path.display(), e.message),
        ),
        _ => e,
    })
}

/// Opens an SQLite log (`.db`) and reads `table` instead of python-can's
/// `messages`; any other extension is `ERR_INVALID_ARGUMENT`.
pub fn open_sqlite_reader(
    path: impl AsRef<Path>,
    table: &str,
) -> Result<Box<dyn FrameReader + Send>> {
    let path = path.as_ref();
    if detect_format(path)?.format != LogFormat::Sqlite {
        return Err(CanwireError::invalid_argument(format!(
            "a table name applies to SQLite logs (.db) only, not to '{}'",
            path.display()
        )));
    }
    Ok(Box::new(SqliteFrameReader::open(path, table)?))
}

/// Creates (truncates) a log file for writing, choosing the format by extension.
pub fn create_writer(
    path: impl AsRef<Path>,
    options: &WriterOptions,
) -> Result<Box<dyn FrameWriter + Send>> {
    let path = path.as_ref();
    let format = detect_format(path)?;
    if format.format == LogFormat::Sqlite {
        return Ok(Box::new(SqliteFrameWriter::create(
            path,
            sqlite_table(options),
        )?));
    }
    let file = File::create(path).map_err(|e| os(e, "creating", path))?;
    write_new(file, format, options)
}

/// Opens a log file to add frames after those it holds: BLF continues after
/// its last whole object (counts and sizes carried on), candump `.log` gets
/// lines added, an SQLite `.db` gets rows added to its table. A missing or
/// empty file is created as by [`create_writer`].
/// Formats with a header (ASC, TRC, CSV) and `.gz` files are refused.
pub fn append_writer(
    path: impl AsRef<Path>,
    options: &WriterOptions,
) -> Result<Box<dyn FrameWriter + Send>> {
    let path = path.as_ref();
    let format = detect_format(path)?;
    if format.format == LogFormat::Sqlite {
        return Ok(Box::new(SqliteFrameWriter::append(
            path,
            sqlite_table(options),
        )?));
    }
    let existing = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if existing == 0 {
        return create_writer(path, options);
    }
    if !can_append(format) {
        return Err(refuse_append(&path.display().to_string()));
    }
    let file = OpenOptions::new()
        .read(true)
        .append(format.format != canwire_core::logfile::LogFormat::Blf)
        .write(true)
        .open(path)
        .map_err(|e| os(e, "opening", path))?;
    write_after(file, format, options, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use canwire_core::{ErrorCode, Frame};

    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("canwire-logfile-io-{}-{name}", std::process::id()))
    }

    fn ids(path: &Path) -> Vec<u32> {
        open_reader(path).unwrap().map(|f| f.unwrap().id).collect()
    }

    #[test]
    fn appending_continues_blf_and_log_files() {
        for name in ["append.blf", "append.log"] {
            let path = temp(name);
            let _ = std::fs::remove_file(&path);
            for range in [0..3u32, 3..5] {
                let frames: Vec<Frame> = range
                    .map(|i| Frame::classic(i, false, &[i as u8]))
                    .collect();
                let mut w = append_writer(&path, &WriterOptions::default()).unwrap();
                w.write_frames(&frames).unwrap();
                w.finish().unwrap();
            }
            assert_eq!(ids(&path), [0, 1, 2, 3, 4], "{name}");
            std::fs::remove_file(&path).unwrap();
        }
        let path = temp("append.asc");
        std::fs::write(&path, "date Mon Jan 1 00:00:00.000 am 2024\n").unwrap();
        let err = append_writer(&path, &WriterOptions::default())
            .err()
            .unwrap();
        assert_eq!(err.code, ErrorCode::Unsupported);
        assert!(err.message.contains("append.asc"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn every_extension_round_trips_through_files() {
        let mut f = Frame::classic(0x123, false, &[0xDE, 0xAD]);
        f.timestamp_ns = 1_700_000_000_123_456_000;
        for name in [
            "x.blf", "x.asc", "x.log", "x.trc", "x.csv", "x.asc.gz", "x.log.gz", "x.db", "x.mf4",
        ] {
            let path = temp(name);
            let mut w = create_writer(&path, &WriterOptions::default()).unwrap();
            w.write_frame(&f).unwrap();
            w.finish().unwrap();
            let back: Vec<Frame> = open_reader(&path).unwrap().map(Result::unwrap).collect();
            assert_eq!(back.len(), 1, "{name}");
            assert_eq!(
                (back[0].id, back[0].data()),
                (0x123, &[0xDE, 0xAD][..]),
                "{name}"
            );
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn missing_files_and_unknown_extensions_are_typed() {
        assert_eq!(
            open_reader(temp("missing.blf")).err().unwrap().code,
            ErrorCode::Os
        );
        assert_eq!(
            open_reader(temp("x.xyz")).err().unwrap().code,
            ErrorCode::Unsupported
        );
        let nowhere = temp("no-such-dir").join("x.log");
        assert_eq!(
            create_writer(nowhere, &WriterOptions::default())
                .err()
                .unwrap()
                .code,
            ErrorCode::Os
        );
    }
}
