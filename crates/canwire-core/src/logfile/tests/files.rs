//! The codecs over files the tests open themselves: the library's file
//! access lives in `canwire-bus` (`logfile_io`), which this crate cannot use.

use std::fs::File;
use std::path::Path;

use crate::error::{CanwireError, Result};
use crate::logfile::{
    FrameReader, FrameWriter, WriterOptions, detect_format, read_text, write_new,
};

fn os(e: std::io::Error, path: &Path) -> CanwireError {
    CanwireError::from_io(&e, &format!("'{}'", path.display()))
}

/// Opens a log file for reading, the format by extension.
pub(super) fn open_reader(path: impl AsRef<Path>) -> Result<Box<dyn FrameReader + Send>> {
    let path = path.as_ref();
    let format = detect_format(path)?.format;
    read_text(File::open(path).map_err(|e| os(e, path))?, format)
}

/// Creates a log file, the format by extension.
pub(super) fn create_writer(
    path: impl AsRef<Path>,
    options: &WriterOptions,
) -> Result<Box<dyn FrameWriter + Send>> {
    let path = path.as_ref();
    let format = detect_format(path)?;
    write_new(
        File::create(path).map_err(|e| os(e, path))?,
        format,
        options,
    )
}
