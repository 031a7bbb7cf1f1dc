//! What the log tests need from outside the repository, found in one place:
//! the log files other tools wrote and Debian's python3-can as a peer.
//!
//! On a user's machine a missing fixture folder or peer skips the test with a
//! printed reason. Under `CI=true` it fails the test: CI provides both (see
//! `.ci/run`), so a missing one there is a broken setup, not a pass.

use std::path::PathBuf;
use std::process::Command;

/// Whether this run is CI's: `CI` set to anything but empty, `0` or `false`
/// (as the specs' `strictPrerequisites` reads it).
pub fn on_ci() -> bool {
    std::env::var("CI")
        .is_ok_and(|v| !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false")))
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

/// A timestamp with nanoseconds (2023-11-14T22:13:20.123456789Z).
pub const T0: u64 = 1_700_000_000_123_456_789;

/// One frame of every kind, the same for every log format's tests: classic
/// standard and extended at each length 0..=8, a raw DLC 9..=15, remote frames
/// with DLC `0..=max_remote_dlc`, FD at all 16 lengths with BRS/ESI, then
/// `errors` (the error frames the format can hold). Channels, directions and
/// nanosecond timestamps from [`T0`] vary from frame to frame.
pub fn every_kind(max_remote_dlc: u8, errors: &[crate::Frame]) -> Vec<crate::Frame> {
    use crate::dlc::FD_LENGTHS;
    use crate::frame::{Frame, FrameFlags};
    let mut v = Vec::new();
    for len in 0..=8u8 {
        let data: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37) ^ len).collect();
        v.push(Frame::classic(0x100 + u32::from(len), false, &data));
        v.push(Frame::classic(0x1234_5600 + u32::from(len), true, &data));
    }
    for dlc in 9..=15u8 {
        let mut f = Frame::classic(0x7FF, false, &[0xA5; 8]);
        f.dlc = dlc;
        v.push(f);
    }
    for dlc in 0..=max_remote_dlc {
        v.push(Frame::remote(0x321, dlc % 2 == 0, dlc));
    }
    for (i, &len) in FD_LENGTHS.iter().enumerate() {
        let data: Vec<u8> = (0..len).map(|b| b ^ 0x5A).collect();
        let mut f = Frame::fd(0x1ABC_DEF0 >> (i % 2 * 18), i % 2 == 0, &data, i % 3 == 0);
        f.flags.set(FrameFlags::ESI, i % 4 == 1);
        v.push(f);
    }
    v.extend_from_slice(errors);
    for (i, f) in v.iter_mut().enumerate() {
        f.timestamp_ns = T0 + i as u64 * 1_234_567 + (i as u64 % 7);
        f.channel = [0, 1, 2, 7, 254][i % 5];
        f.flags.set(FrameFlags::TX, i % 3 == 1);
    }
    v
}

/// A classic error frame with these id and data.
pub fn error_frame(id: u32, extended: bool, data: &[u8]) -> crate::Frame {
    let mut e = crate::Frame::classic(id, extended, data);
    e.flags.set(crate::frame::FrameFlags::ERROR, true);
    e
}

/// Runs a Python `script` (`python -c`) with `args` under `TZ=UTC` and returns
/// what it printed; a script that fails fails the test with its stderr.
pub fn run_python(py: &str, script: &str, args: &[&str]) -> String {
    let out = Command::new(py)
        .env("TZ", "UTC")
        .args(["-c", script])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {py}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
