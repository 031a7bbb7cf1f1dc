//! Tests of the log formats: real files from other tools, write→read identity,
//! documented losses, random input, and interop with python3-can.

mod asc_fixtures;
mod fuzz;
mod interop;
mod properties;
mod roundtrip;
mod text_samples;
mod trc_fixtures;

use std::path::PathBuf;

use super::{FrameReader, open_reader};
use crate::frame::Frame;

/// The python-can fixture folder, or `None` (with a printed reason) if missing.
pub(super) fn fixture_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/python-can");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipping: fixture folder {} is missing", dir.display());
        None
    }
}

/// Every frame of a fixture and the reader (for its counters).
pub(super) fn read_fixture(name: &str) -> Option<(Vec<Frame>, Box<dyn FrameReader + Send>)> {
    let path = fixture_dir()?.join(name);
    let mut reader = open_reader(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let frames = reader
        .by_ref()
        .collect::<crate::error::Result<Vec<_>>>()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    Some((frames, reader))
}
