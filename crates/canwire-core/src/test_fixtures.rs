//! Where tests find the log files other tools wrote.

use std::path::PathBuf;

/// The python-can fixture folder (`CANWIRE_FIXTURES`, or `shared/` beside the
/// repository as on CI), or `None` with a printed reason if it is missing.
pub fn fixture_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CANWIRE_FIXTURES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/python-can"),
        PathBuf::from,
    );
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipping: fixture folder {} is missing", dir.display());
        None
    }
}
