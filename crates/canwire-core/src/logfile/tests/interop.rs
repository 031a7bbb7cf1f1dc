//! Interop with Debian's python3-can (4.1 here): it reads each format we write
//! and we read each format it writes, compared frame by frame. Skips (with a
//! printed reason) without python3-can; fails without it under `CI=true`.
//!
//! Where python-can 4.1 reads or writes less than the format holds, the
//! expectation says so: its TRC reader takes `DT` lines only, ignores
//! `$STARTTIME` and keeps the 1-based bus number; its ASC reader returns
//! offsets, turns a classic DLC 9..15 into an FD length and marks error frames
//! extended and a `CANFD` line of 0 data bytes as remote; its candump reader cannot read a raw DLC suffix (`_D`) and takes
//! only bus-error frames (class 0x80) as error frames; its writers drop the
//! remote DLC in `.log`, FD/remote/error frames in TRC, and the channel of ASC
//! error frames.

use std::path::PathBuf;

use super::files::{create_writer, open_reader};
use super::roundtrip::{every_kind, keeps_asc, keeps_log, keeps_python_csv, temp};
use crate::candump::CAN_ERR_FLAG;
use crate::dlc::FD_LENGTHS;
use crate::frame::{Frame, FrameFlags};
use crate::logfile::WriterOptions;
use crate::logfile::csv::CsvFlavor;
use crate::test_fixtures::{python_can, run_python};

const SHOW: &str = r#"
import sys, can
def show(m):
    flags = "".join("1" if b else "0" for b in (m.is_extended_id, m.is_remote_frame,
        m.is_error_frame, m.is_fd, m.bitrate_switch, m.error_state_indicator, m.is_rx))
    print(repr(m.timestamp), m.arbitration_id, flags, m.dlc, m.channel, m.data.hex() if m.data else "-")
"#;

const READ: &str = r#"
readers = {"asc": can.ASCReader, "log": can.CanutilsLogReader, "trc": can.TRCReader, "csv": can.CSVReader}
for m in readers[sys.argv[1]](sys.argv[2]):
    show(m)
"#;

const WRITE: &str = r#"
T = 1700000000.25
msgs = []
def add(**kw):
    msgs.append(can.Message(timestamp=T + len(msgs) * 0.001234, **kw))
add(arbitration_id=0x123, data=b"\x01\x02\x03", is_extended_id=False, channel=0)
add(arbitration_id=0x1ABCDEF, data=bytes(range(8)), is_extended_id=True, channel=1, is_rx=False)
add(arbitration_id=0x7FF, data=b"", is_extended_id=False, channel=2)
add(arbitration_id=0x321, is_remote_frame=True, dlc=5, is_extended_id=False, channel=0)
add(arbitration_id=0x100, is_fd=True, bitrate_switch=True, data=bytes(range(12)), is_extended_id=False, channel=1)
add(arbitration_id=0x1000, is_fd=True, error_state_indicator=True, data=bytes(range(64)), is_extended_id=True, channel=0, is_rx=False)
add(is_error_frame=True, arbitration_id=0, is_extended_id=False, channel=1)
writers = {"asc": can.ASCWriter, "log": can.CanutilsLogWriter, "trc": can.TRCWriter, "csv": can.CSVWriter}
w = writers[sys.argv[1]](sys.argv[2])
for m in msgs:
    w.on_message_received(m)
    show(m)
w.stop()
"#;

/// One message as python-can shows it.
#[derive(Debug, Clone, PartialEq)]
struct View {
    ts_us: i64,
    id: u32,
    flags: String,
    dlc: u32,
    channel: String,
    data: String,
}

fn parse(out: &str) -> Vec<View> {
    out.lines()
        .map(|line| {
            let p: Vec<&str> = line.split(' ').collect();
            View {
                ts_us: (p[0].parse::<f64>().unwrap() * 1e6).round() as i64,
                id: p[1].parse().unwrap(),
                flags: p[2].to_string(),
                dlc: p[3].parse().unwrap(),
                channel: p[4].to_string(),
                data: p[5].replace('-', ""),
            }
        })
        .collect()
}

fn view(f: &Frame, ts_us: i64, channel: String) -> View {
    let b = |bit| if f.flags.has(bit) { '1' } else { '0' };
    let mut flags: String = [
        FrameFlags::EXTENDED,
        FrameFlags::REMOTE,
        FrameFlags::ERROR,
        FrameFlags::FD,
        FrameFlags::BRS,
        FrameFlags::ESI,
    ]
    .into_iter()
    .map(b)
    .collect();
    flags.push(if f.flags.has(FrameFlags::TX) {
        '0'
    } else {
        '1'
    });
    let dlc = if f.is_fd() {
        u32::from(f.len)
    } else {
        u32::from(f.dlc)
    };
    let data = f.data().iter().map(|x| format!("{x:02x}")).collect();
    View {
        ts_us,
        id: f.id,
        flags,
        dlc,
        channel,
        data,
    }
}

fn run(py: &str, script: &str, args: &[&str]) -> Vec<View> {
    parse(&run_python(py, &format!("{SHOW}{script}"), args))
}

fn assert_views(got: &[View], expected: &[View], what: &str) {
    assert_eq!(
        got.len(),
        expected.len(),
        "{what}: {got:#?}\nexpected {expected:#?}"
    );
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g.ts_us - e.ts_us).abs() <= 1, "{what} {i}: {g:?} != {e:?}");
        let strip = |v: &View| View {
            ts_us: 0,
            ..v.clone()
        };
        assert_eq!(strip(g), strip(e), "{what} {i}");
    }
}

fn write_ours(name: &str, frames: &[Frame], options: &WriterOptions) -> PathBuf {
    let path = temp(name);
    let mut w = create_writer(&path, options).unwrap();
    w.write_frames(frames).unwrap();
    w.finish().unwrap();
    path
}

/// python-can reads the files we write.
#[test]
fn python_can_reads_our_files() {
    let Some(py) = python_can() else { return };
    let all = every_kind();
    let start_ms = (all[0].timestamp_ns / 1_000_000 * 1_000_000) as i64;
    let start_us = (all[0].timestamp_ns / 1_000 * 1_000) as i64;
    let rel = |f: &Frame, start: i64| (f.timestamp_ns as i64 - start).div_euclid(1_000);

    let path = write_ours("py.asc", &all, &WriterOptions::default());
    let expected: Vec<View> = all
        .iter()
        .map(|&f| {
            let f = keeps_asc(f);
            let mut v = view(&f, rel(&f, start_ms), f.channel.to_string());
            if f.is_error() {
                v.flags.replace_range(0..1, "1");
            } else if f.is_fd() && f.len == 0 {
                v.flags.replace_range(1..2, "1");
            } else if !f.is_fd() && !f.is_remote() && f.dlc > 8 {
                v.dlc = u32::from(FD_LENGTHS[f.dlc as usize]);
            }
            v
        })
        .collect();
    assert_views(
        &run(py, READ, &["asc", path.to_str().unwrap()]),
        &expected,
        "asc",
    );

    let frames: Vec<Frame> = all
        .iter()
        .copied()
        .filter(|f| f.dlc <= 8 || f.is_fd())
        .collect();
    let path = write_ours("py.log", &frames, &WriterOptions::default());
    let expected: Vec<View> = frames
        .iter()
        .map(|&f| {
            let f = keeps_log(f);
            let ts = (f.timestamp_ns / 1_000) as i64;
            if f.is_error() && f.id & 0x80 != 0 {
                let e = Frame {
                    flags: FrameFlags(FrameFlags::ERROR | FrameFlags::EXTENDED),
                    ..Frame::default()
                };
                return view(&e, ts, "None".into());
            }
            let mut g = f;
            if f.is_error() {
                g.flags = FrameFlags(f.flags.0 & !FrameFlags::ERROR | FrameFlags::EXTENDED);
                g.id = (f.id | CAN_ERR_FLAG) & 0x1FFF_FFFF;
            }
            view(&g, ts, format!("can{}", f.channel))
        })
        .collect();
    assert_views(
        &run(py, READ, &["log", path.to_str().unwrap()]),
        &expected,
        "log",
    );

    let path = write_ours("py.trc", &all, &WriterOptions::default());
    let expected: Vec<View> = all
        .iter()
        .filter(|f| !f.is_fd() && !f.is_remote() && !f.is_error() && f.dlc <= 8)
        .map(|f| view(f, rel(f, start_us), (f.channel + 1).to_string()))
        .collect();
    assert_views(
        &run(py, READ, &["trc", path.to_str().unwrap()]),
        &expected,
        "trc",
    );

    let options = WriterOptions {
        csv_flavor: CsvFlavor::Python,
        ..WriterOptions::default()
    };
    let path = write_ours("py.csv", &all, &options);
    let expected: Vec<View> = all
        .iter()
        .map(|&f| {
            let mut f = keeps_python_csv(f);
            let dlc = if f.is_fd() { f.len } else { f.dlc };
            f.flags.set(FrameFlags::FD, false);
            f.dlc = dlc;
            view(&f, (f.timestamp_ns / 1_000) as i64, "None".into())
        })
        .collect();
    assert_views(
        &run(py, READ, &["csv", path.to_str().unwrap()]),
        &expected,
        "csv",
    );
}

/// We read the files python-can writes.
#[test]
fn we_read_python_can_files() {
    let Some(py) = python_can() else { return };
    for ext in ["asc", "log", "trc", "csv"] {
        let path = temp(&format!("from-py.{ext}"));
        let originals = run(py, WRITE, &[ext, path.to_str().unwrap()]);
        let t0 = originals[0].ts_us;
        let mut reader = open_reader(&path).unwrap();
        let frames: Vec<Frame> = reader.by_ref().map(Result::unwrap).collect();
        let stats = reader.stats();
        assert_eq!((stats.unknown, stats.skipped), (0, 0), "{ext}: {stats:?}");
        let start = reader.start_time_ns().unwrap_or(0) as i64;
        let names = reader.channel_names();
        let got: Vec<View> = frames
            .iter()
            .map(|f| {
                let ts = (f.timestamp_ns as i64 - start) / 1_000;
                let channel = match ext {
                    "log" => names[f.channel as usize]
                        .trim_start_matches("can")
                        .to_string(),
                    "csv" => "None".into(),
                    _ => f.channel.to_string(),
                };
                let mut v = view(f, ts, channel);
                if matches!(ext, "asc" | "trc") {
                    v.ts_us += t0;
                }
                v
            })
            .collect();
        let expected: Vec<View> = originals
            .into_iter()
            .filter(|o| ext != "trc" || &o.flags[1..4] == "000")
            .map(|mut o| {
                let error = &o.flags[2..3] == "1";
                match ext {
                    "asc" if error => o.channel = "0".into(),
                    "log" if error => o.id = 0x80,
                    "log" if &o.flags[1..2] == "1" => o.dlc = 0,
                    "csv" => {
                        o.channel = "None".into();
                        o.flags
                            .replace_range(3..7, if o.data.len() > 16 { "1001" } else { "0001" });
                    }
                    _ => {}
                }
                if error {
                    o.flags.replace_range(6..7, "1");
                }
                o
            })
            .collect();
        assert_views(&got, &expected, &format!("python-can's .{ext}"));
        std::fs::remove_file(path).unwrap();
    }
}

/// python-can's ASC writer puts the time of writing in the `date` line (its
/// milliseconds not zero-padded) and the first frame's time in the trigger
/// block: the frames read back at the times python-can gave them.
#[test]
fn python_can_asc_frames_keep_their_absolute_times() {
    let Some(py) = python_can() else { return };
    let path = temp("abs-from-py.asc");
    let originals = run(py, WRITE, &["asc", path.to_str().unwrap()]);
    let mut reader = open_reader(&path).unwrap();
    let got: Vec<i64> = reader
        .by_ref()
        .map(|f| (f.unwrap().timestamp_ns / 1_000) as i64)
        .collect();
    let expected: Vec<i64> = originals.iter().map(|o| o.ts_us).collect();
    assert_eq!(got, expected);
    assert_eq!(reader.start_time_ns(), Some(1_700_000_000_250_000_000));
    std::fs::remove_file(path).unwrap();
}
