//! Interop with Debian's python3-can: it reads files we write, and we read files
//! it writes, frame by frame. Skips (with a printed reason) without python3-can, fails without it under `CI=true`.

use std::path::PathBuf;

use super::roundtrip::{every_kind, frames_of, write};
use crate::blf::BlfWriterOptions;
use crate::frame::Frame;
use crate::test_fixtures::{python_can, run_python};

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("canwire-blf-{}-{name}.blf", std::process::id()))
}

/// One message as python-can sees it, printed by the scripts below.
#[derive(Debug, PartialEq)]
struct PyMsg {
    ts_ns: i128,
    id: u32,
    fields: String,
    data: String,
}

const PRINT: &str = r#"
def show(m):
    flags = "".join("1" if b else "0" for b in (m.is_extended_id, m.is_remote_frame,
        m.is_error_frame, m.is_fd, m.bitrate_switch, m.error_state_indicator, m.is_rx))
    print(repr(m.timestamp), m.arbitration_id, flags, m.dlc, m.channel, m.data.hex() or "-")
"#;

fn parse(out: &str) -> Vec<PyMsg> {
    out.lines()
        .map(|line| {
            let p: Vec<&str> = line.split(' ').collect();
            let ts: f64 = p[0].parse().unwrap();
            PyMsg {
                ts_ns: (ts * 1e9).round() as i128,
                id: p[1].parse().unwrap(),
                fields: format!("{} dlc={} ch={}", p[2], p[3], p[4]),
                data: p[5].replace('-', ""),
            }
        })
        .collect()
}

/// How python-can shows a frame we wrote (direction is not kept for error
/// frames; FD frames show their length as dlc).
fn expected(f: &Frame) -> PyMsg {
    let b = |v: bool| if v { '1' } else { '0' };
    let fl = f.flags;
    use crate::frame::FrameFlags as F;
    let rx = f.is_error() || !fl.has(F::TX);
    let fields: String = [
        fl.has(F::EXTENDED),
        f.is_remote(),
        f.is_error(),
        f.is_fd(),
        fl.has(F::BRS),
        fl.has(F::ESI),
        rx,
    ]
    .into_iter()
    .map(b)
    .collect();
    let dlc = if f.is_fd() { f.len } else { f.dlc };
    let data = f.data().iter().map(|b| format!("{b:02x}")).collect();
    PyMsg {
        ts_ns: i128::from(f.timestamp_ns),
        id: f.id,
        fields: format!("{fields} dlc={dlc} ch={}", f.channel),
        data,
    }
}

fn assert_close(got: &[PyMsg], want: &[PyMsg]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g.ts_ns - w.ts_ns).abs() < 1_000,
            "timestamp {} vs {}",
            g.ts_ns,
            w.ts_ns
        );
        assert_eq!((g.id, &g.fields, &g.data), (w.id, &w.fields, &w.data));
    }
}

#[test]
fn python_can_reads_what_we_write() {
    let Some(py) = python_can() else { return };
    // python-can 4.1 reads no CAN_FD_ERROR_64 (104) objects.
    let frames: Vec<Frame> = every_kind()
        .into_iter()
        .filter(|f| !(f.is_error() && f.is_fd()))
        .collect();
    for (level, container) in [(0, 128 * 1024), (6, 128 * 1024), (6, 100)] {
        let path = temp(&format!("ours-{level}-{container}"));
        let opts = BlfWriterOptions {
            compression_level: level,
            max_container_size: container,
            ..Default::default()
        };
        std::fs::write(&path, write(&frames, opts)).unwrap();
        let script =
            format!("import sys, can\n{PRINT}\nfor m in can.BLFReader(sys.argv[1]): show(m)\n");
        let out = run_python(py, &script, &[path.to_str().unwrap()]);
        let _ = std::fs::remove_file(&path);
        let got = parse(&out);
        let want: Vec<PyMsg> = frames.iter().map(expected).collect();
        assert_close(&got, &want);
    }
}

#[test]
fn we_read_what_python_can_writes() {
    let Some(py) = python_can() else { return };
    let path = temp("theirs");
    let script = format!(
        r#"import sys, can
{PRINT}
t0 = 1700000000.123
msgs = [
    can.Message(timestamp=t0, arbitration_id=0x123, is_extended_id=False, data=b"\x01\x02\x03", channel=0),
    can.Message(timestamp=t0 + 0.000001, arbitration_id=0x1ABCDEF0, data=bytes(range(8)), channel=1, is_rx=False),
    can.Message(timestamp=t0 + 0.5, arbitration_id=0x7FF, is_extended_id=False, is_remote_frame=True, dlc=4, channel=2),
    can.Message(timestamp=t0 + 1.25, arbitration_id=0x42, is_extended_id=False, is_fd=True, bitrate_switch=True,
                error_state_indicator=True, data=bytes(range(64)), channel=3),
    can.Message(timestamp=t0 + 2.0, arbitration_id=0x42, is_extended_id=False, is_fd=True, data=bytes(12), channel=0, is_rx=False),
    can.Message(timestamp=t0 + 3.0, arbitration_id=0x1FFFFFFF, is_error_frame=True, data=bytes(range(8)), channel=1),
] + [can.Message(timestamp=t0 + 4 + i * 0.001, arbitration_id=i, is_extended_id=False, data=bytes([i % 256] * 8), channel=0)
     for i in range(20000)]
with can.BLFWriter(sys.argv[1]) as w:
    for m in msgs:
        w.on_message_received(m)
for m in msgs[:6]:
    show(m)
"#
    );
    let out = run_python(py, &script, &[path.to_str().unwrap()]);
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let frames = frames_of(&bytes);
    assert_eq!(
        frames.len(),
        20006,
        "20000 classic frames span several 128 KiB containers"
    );
    let want = parse(&out);
    let got: Vec<PyMsg> = frames[..6].iter().map(expected).collect();
    assert_close(&got, &want);
    for (i, f) in frames[6..].iter().enumerate() {
        assert_eq!((f.id, f.data()), (i as u32, &[i as u8; 8][..]));
    }
}
