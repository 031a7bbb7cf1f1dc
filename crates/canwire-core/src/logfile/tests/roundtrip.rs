//! Write → read per format for every frame kind, through `create_writer` /
//! `open_reader` (plain and `.gz`). Each `keeps_*` function states exactly
//! what its format cannot hold; the test asserts that and nothing else changes.

use std::path::PathBuf;

use super::files::{create_writer, open_reader};
use crate::frame::{Frame, FrameFlags};
use crate::logfile::csv::CsvFlavor;
use crate::logfile::{FrameReader, WriterOptions};
use crate::test_fixtures::error_frame;

pub(super) use crate::test_fixtures::T0;

/// Every frame kind: classic standard/extended at each length, raw DLC 9..15,
/// remote frames at each DLC, FD at all 16 lengths with BRS/ESI, classic and
/// FD error frames, both directions, five channels, ns timestamps.
pub(super) fn every_kind() -> Vec<Frame> {
    let errors = [
        error_frame(0x04, false, &[0, 4, 0, 0, 0, 0, 0x10, 0x20]),
        error_frame(0x7, false, &[]),
        {
            let mut e = Frame::fd(0, false, &[], false);
            e.flags.set(FrameFlags::ERROR, true);
            e
        },
    ];
    crate::test_fixtures::every_kind(8, &errors)
}

/// candump `.log`: microseconds (cut). Channel names come back as written
/// (`can<index>` by default); indexes follow first appearance, so the test
/// compares through the names.
pub(super) fn keeps_log(mut f: Frame) -> Frame {
    f.timestamp_ns -= f.timestamp_ns % 1_000;
    f
}

/// ASC: microseconds (cut; the header date is the first frame's ms). Error
/// frames keep channel and time, FD error frames also FD and direction; id,
/// data and DLC are gone, and a classic `ErrorFrame` line reads as Rx.
pub(super) fn keeps_asc(mut f: Frame) -> Frame {
    f.timestamp_ns -= f.timestamp_ns % 1_000;
    if f.is_error() {
        let tx = f.is_fd() && f.flags.has(FrameFlags::TX);
        let fd = f.is_fd();
        f = Frame {
            timestamp_ns: f.timestamp_ns,
            channel: f.channel,
            ..Frame::default()
        };
        f.flags.set(FrameFlags::ERROR, true);
        f.flags.set(FrameFlags::FD, fd);
        f.flags.set(FrameFlags::TX, tx);
    }
    f
}

/// TRC 2.1: 0.1 µs (cut; `$STARTTIME` is the first frame's µs). `ER` lines have
/// no id and no FD variant: error frames lose id, FD, BRS and ESI, keep data.
pub(super) fn keeps_trc(mut f: Frame) -> Frame {
    f.timestamp_ns -= f.timestamp_ns % 100;
    if f.is_error() {
        f.id = 0;
        f.dlc = f.len;
        let tx = f.flags.has(FrameFlags::TX);
        f.flags = FrameFlags(FrameFlags::ERROR);
        f.flags.set(FrameFlags::TX, tx);
    }
    f
}

/// python-can's CSV: no channel, direction, BRS, ESI; FD only as "more than 8
/// bytes" (an FD frame of up to 8 bytes reads back classic). Time is exact:
/// the writer prints 9 decimals.
pub(super) fn keeps_python_csv(mut f: Frame) -> Frame {
    f.channel = 0;
    let fd = f.len > 8;
    for bit in [FrameFlags::TX, FrameFlags::BRS, FrameFlags::ESI] {
        f.flags.set(bit, false);
    }
    // the DLC survives: an FD frame of up to 8 bytes has DLC = length, as a classic one
    f.flags.set(FrameFlags::FD, fd);
    f
}

pub(super) fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("canwire-logfile-{}-{name}", std::process::id()))
}

fn write_file(name: &str, frames: &[Frame], options: &WriterOptions) -> PathBuf {
    let path = temp(name);
    let mut w = create_writer(&path, options).unwrap();
    w.write_frames(frames).unwrap();
    w.flush().unwrap();
    w.finish().unwrap();
    w.finish().unwrap();
    assert_eq!(
        w.write_frame(&frames[0]).unwrap_err().code,
        crate::ErrorCode::Closed
    );
    path
}

fn read_file(path: &PathBuf) -> (Vec<Frame>, Box<dyn FrameReader + Send>) {
    let mut r = open_reader(path).unwrap();
    let mut out = Vec::new();
    while r.read_frames(&mut out, 7).unwrap() > 0 {}
    let s = r.stats();
    assert_eq!(
        (s.skipped, s.unknown, &s.truncated),
        (0, 0, &None),
        "{}",
        path.display()
    );
    std::fs::remove_file(path).unwrap();
    (out, r)
}

fn check(name: &str, options: &WriterOptions, keeps: fn(Frame) -> Frame) {
    let frames = every_kind();
    for gz in ["", ".gz"] {
        let path = write_file(&format!("{name}{gz}"), &frames, options);
        let (back, reader) = read_file(&path);
        let mut back = back;
        let names = reader.channel_names();
        if !names.is_empty() {
            for f in &mut back {
                let name = &names[f.channel as usize];
                f.channel = name.strip_prefix("can").unwrap().parse().unwrap();
            }
        }
        let expected: Vec<Frame> = frames.iter().copied().map(keeps).collect();
        assert_eq!(back.len(), expected.len(), "{name}{gz}");
        for (i, (b, e)) in back.iter().zip(&expected).enumerate() {
            assert_eq!(b, e, "{name}{gz} frame {i}: wrote {:?}", frames[i]);
        }
    }
}

#[test]
fn candump_log_keeps_all_but_sub_microseconds() {
    check("rt.log", &WriterOptions::default(), keeps_log);
}

#[test]
fn asc_round_trip() {
    check("rt.asc", &WriterOptions::default(), keeps_asc);
}

#[test]
fn trc_round_trip() {
    check("rt.trc", &WriterOptions::default(), keeps_trc);
}

#[test]
fn canwire_csv_is_lossless() {
    check("rt.csv", &WriterOptions::default(), |f| f);
}

#[test]
fn python_csv_round_trip() {
    let options = WriterOptions {
        csv_flavor: CsvFlavor::Python,
        ..WriterOptions::default()
    };
    check("rt-py.csv", &options, keeps_python_csv);
}

#[test]
fn blf_through_the_common_interface_is_lossless() {
    let frames = every_kind();
    let path = write_file("rt.blf", &frames, &WriterOptions::default());
    let (back, reader) = read_file(&path);
    assert_eq!(back, frames);
    assert_eq!(reader.start_time_ns(), Some(T0 - T0 % 1_000_000));
}

#[test]
fn named_channels_survive_a_log_round_trip() {
    let mut frames = every_kind();
    for f in &mut frames {
        f.channel %= 3;
    }
    let options = WriterOptions {
        channel_names: vec!["vcan0".into(), "can-fd".into(), "slcan9".into()],
        ..WriterOptions::default()
    };
    let path = write_file("names.log", &frames, &options);
    let (back, reader) = read_file(&path);
    assert_eq!(reader.channel_names(), options.channel_names);
    let expected: Vec<Frame> = frames.into_iter().map(keeps_log).collect();
    assert_eq!(back, expected);
}

#[test]
fn channels_named_while_writing_reach_a_log_file() {
    let path = temp("named-later.log");
    let mut w = create_writer(&path, &WriterOptions::default()).unwrap();
    w.name_channel(2, "vcan7");
    let mut a = Frame::classic(0x1, false, &[1]);
    a.channel = 2;
    let mut b = Frame::classic(0x2, false, &[2]);
    b.channel = 1;
    w.write_frames(&[a, b]).unwrap();
    w.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let channels: Vec<&str> = text.lines().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(
        channels,
        ["vcan7", "can1"],
        "unnamed indexes below a named one keep can<i>"
    );
}

#[test]
fn writers_reject_what_they_cannot_write() {
    let mut big_error = Frame::fd(0, false, &[0; 12], false);
    big_error.flags.set(FrameFlags::ERROR, true);
    let mut w = create_writer(temp("reject.trc"), &WriterOptions::default()).unwrap();
    assert_eq!(
        w.write_frame(&big_error).unwrap_err().code,
        crate::ErrorCode::InvalidArgument
    );
    let mut bad = Frame::classic(0x800, false, &[]);
    assert_eq!(
        w.write_frame(&bad).unwrap_err().code,
        crate::ErrorCode::IdOutOfRange
    );
    bad.id = 1;
    bad.channel = u32::MAX;
    assert_eq!(
        w.write_frame(&bad).unwrap_err().code,
        crate::ErrorCode::InvalidArgument
    );
    w.finish().unwrap();
    std::fs::remove_file(temp("reject.trc")).unwrap();
    let options = WriterOptions {
        channel_names: vec!["two words".into()],
        ..WriterOptions::default()
    };
    let mut w = create_writer(temp("reject.log"), &options).unwrap();
    let ok = Frame::classic(1, false, &[]);
    assert_eq!(
        w.write_frame(&ok).unwrap_err().code,
        crate::ErrorCode::InvalidArgument
    );
    w.finish().unwrap();
    std::fs::remove_file(temp("reject.log")).unwrap();
    let e = crate::logfile::detect_format(std::path::Path::new("x.blf.gz")).unwrap_err();
    assert_eq!(e.code, crate::ErrorCode::Unsupported);
    assert!(crate::logfile::detect_format(std::path::Path::new("x.txt")).is_err());
    let f = crate::logfile::detect_format(std::path::Path::new("A.ASC.GZ")).unwrap();
    assert_eq!((f.format, f.gzip), (crate::logfile::LogFormat::Asc, true));
}
