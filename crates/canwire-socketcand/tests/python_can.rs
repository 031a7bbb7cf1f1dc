//! python-can's `socketcand` interface against canwire's server, frames
//! both ways: Debian's python3-can 4.1 (`/usr/bin/python3`) and python-can
//! 4.6 from the project's venv (`target/py-peers`, `scripts/python-peers.sh`).
//! A missing peer skips with a message, except under `CI=true`.

#![allow(clippy::unwrap_used)] // helpers of the tests below: a failed setup is a failed test

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use canwire_core::Frame;
use canwire_socketcand::server::LocalAddress;
use common::{Rig, ts};

const T: u64 = 1_700_000_023_424_242_000;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter if it has python-can of `version` (prefix), else skip or fail under CI.
fn python(path: PathBuf, version: &str) -> Option<PathBuf> {
    let out = Command::new(&path)
        .args(["-c", "import can; print(can.__version__)"])
        .output();
    match out {
        Ok(o) if String::from_utf8_lossy(&o.stdout).starts_with(version) => Some(path),
        _ => {
            let message = format!(
                "python-can {version} not found at {} (scripts/python-peers.sh builds the venv)",
                path.display()
            );
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
            eprintln!("skipped: {message}");
            None
        }
    }
}

struct Received {
    id: u32,
    extended: bool,
    data: String,
    timestamp: String,
}

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    let key = format!("\"{name}\": ");
    let start = line
        .find(&key)
        .unwrap_or_else(|| panic!("{name} in {line}"))
        + key.len();
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end].trim_matches('"')
}

/// Runs the client script; the rig's peer sends `frames` one by one; returns
/// what the script received and what the peer received from it.
fn exchange(python: &PathBuf, frames: &[Frame]) -> (String, Vec<Received>, Vec<Frame>) {
    let rig = Rig::default();
    let LocalAddress::Tcp(addr) = rig.server.local_address() else {
        panic!()
    };
    let mut child = Command::new(python)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/python_can_client.py"))
        .args([
            addr.ip().to_string(),
            addr.port().to_string(),
            frames.len().to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let version_line = lines.next().unwrap().unwrap();
    let version = field(&version_line, "version").to_string();
    let sent_by_client = rig.peer_frames(Duration::from_millis(300));
    for (i, f) in frames.iter().enumerate() {
        // one element per read: python-can 4.1 loses an element split across reads
        rig.peer_send(*f, T + i as u64 * 1_000);
        std::thread::sleep(Duration::from_millis(30));
    }
    let received = lines
        .map_while(|l| l.ok())
        .map(|l| Received {
            id: field(&l, "id").parse().unwrap(),
            extended: field(&l, "extended") == "true",
            data: field(&l, "data").to_string(),
            timestamp: field(&l, "timestamp").to_string(),
        })
        .collect();
    assert!(child.wait().unwrap().success());
    (version, received, sent_by_client)
}

fn frames() -> Vec<Frame> {
    vec![
        Frame::classic(0x123, false, &[0x1A, 0x22, 0x03, 0x44]),
        Frame::classic(0x1AAA_AAAA, true, &[0x01, 0xF1]),
        Frame::classic(0x5, false, &[]),
        Frame::classic(0x0000_0123, true, &[0xFF; 8]),
    ]
}

fn summary(frames: &[Frame]) -> Vec<(u32, bool, Vec<u8>)> {
    frames
        .iter()
        .map(|f| (f.id, f.is_extended(), f.data().to_vec()))
        .collect()
}

#[test]
fn python_can_4_1_from_debian() {
    let Some(python) = python(PathBuf::from("/usr/bin/python3"), "4.1") else {
        return;
    };
    let (version, received, sent) = exchange(&python, &frames());
    assert_eq!(version, "4.1.0");
    // 4.1 sends ids unpadded (`{id:X}`): the extended 0x1234 arrives extended
    // only through the lenient rule (value > 0x7FF)
    assert_eq!(
        summary(&sent),
        [
            (0x123, false, vec![0x11, 0x22, 0x33]),
            (0x1AB_CDEF, true, vec![1]),
            (0x7FF, false, vec![]),
            (0x1234, true, vec![0xDE, 0xAD]),
        ]
    );
    // 4.1 marks every received frame extended
    let got: Vec<_> = received
        .iter()
        .map(|r| (r.id, r.extended, r.data.clone(), r.timestamp.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (0x123, true, "1a220344".into(), ts(T)),
            (0x1AAA_AAAA, true, "01f1".into(), ts(T + 1_000)),
            (0x5, true, "".into(), ts(T + 2_000)),
            (0x123, true, "ffffffffffffffff".into(), ts(T + 3_000)),
        ]
    );
}

#[test]
fn python_can_4_6_from_the_venv() {
    let Some(python) = python(workspace().join("target/py-peers/bin/python"), "4.6") else {
        return;
    };
    let (version, received, sent) = exchange(&python, &frames());
    assert!(version.starts_with("4.6"), "{version}");
    assert_eq!(
        summary(&sent),
        [
            (0x123, false, vec![0x11, 0x22, 0x33]),
            (0x1AB_CDEF, true, vec![1]),
            (0x7FF, false, vec![]),
            (0x1234, true, vec![0xDE, 0xAD]),
        ]
    );
    let got: Vec<_> = received
        .iter()
        .map(|r| (r.id, r.extended, r.data.clone(), r.timestamp.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (0x123, false, "1a220344".into(), ts(T)),
            (0x1AAA_AAAA, true, "01f1".into(), ts(T + 1_000)),
            (0x5, false, "".into(), ts(T + 2_000)),
            (0x123, true, "ffffffffffffffff".into(), ts(T + 3_000)),
        ]
    );
}
