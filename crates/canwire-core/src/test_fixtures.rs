//! What the log tests need from outside the repository, found in one place:
//! the log files other tools wrote and Debian's python3-can as a peer.
//!
//! On a user's machine a missing fixture folder or peer skips the test with a
//! printed reason. Under `CI=true` it fails the test: CI provides both (see
//! `.ci/run`), so a missing one there is a broken setup, not a pass.

use std::path::PathBuf;
use std::process::Command;

/// Whether this run is CI's (`CI` set to `true` or `1`).
pub fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Reports that `what` is missing: a printed skip, or under `CI=true` a panic.
pub fn missing(what: &str) {
    assert!(
        !on_ci(),
        "{what} is missing: CI=true needs it (a test may skip only on a user's machine)"
    );
    println!("skipping: {what} is missing");
}

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
        missing(&format!("the fixture folder {}", dir.display()));
        None
    }
}

/// A Python interpreter that can `import can` (Debian's python3-can), or
/// `None` with a printed reason if there is none.
pub fn python_can() -> Option<&'static str> {
    let found = ["/usr/bin/python3", "python3"].into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import can"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        missing("a python3 with python-can (apt-get install python3-can)");
    }
    found
}
