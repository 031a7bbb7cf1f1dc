//! Tests of the BLF reader and writer against each other, real files, cut files
//! and random bytes.

mod crafted;
mod fixtures;
mod fuzz;
mod interop;
mod levels;
mod roundtrip;
mod truncation;

use std::path::PathBuf;

use super::{BlfItem, BlfReader};
use crate::error::Result;

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

/// Every item of a file held in memory.
pub(super) fn read_all(bytes: &[u8]) -> Result<Vec<BlfItem>> {
    BlfReader::new(bytes)?.collect()
}
