//! Tests of the log formats: real files from other tools, write→read identity,
//! documented losses, random input, and interop with python3-can.

mod asc_fixtures;
mod files;
mod fuzz;
mod interop;
mod properties;
mod roundtrip;
mod text_samples;
mod trc_fixtures;

use super::FrameReader;
use crate::frame::Frame;
use files::open_reader;

pub(super) use crate::test_fixtures::fixture_dir;

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
