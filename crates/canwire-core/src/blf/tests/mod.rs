//! Tests of the BLF reader and writer against each other, real files, cut files
//! and random bytes.

mod crafted;
mod damage;
mod fixtures;
mod fuzz;
mod interop;
mod levels;
mod roundtrip;
mod truncation;

use super::{BlfItem, BlfReader};
use crate::error::Result;

pub(super) use crate::test_fixtures::fixture_dir;

/// Every item of a file held in memory.
pub(super) fn read_all(bytes: &[u8]) -> Result<Vec<BlfItem>> {
    BlfReader::new(bytes)?.collect()
}
