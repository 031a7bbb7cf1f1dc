//! Small inline samples for what the fixtures do not cover (ASC `base dec` and
//! relative timestamps, candump logs), and the ASC writer's layout against
//! python-can's expected outputs.

use super::fixture_dir;
use crate::frame::{Frame, FrameFlags};
use crate::logfile::asc::{AscWriter, asc_reader};
use crate::logfile::candump_log::candump_log_reader;
use crate::logfile::{FrameReader, FrameWriter, IssueKind};

const SEP_30_2017_15_06_13_191: u64 = 1_506_783_973_191_000_000;

#[test]
fn asc_decimal_base_and_relative_timestamps() {
    let text = "date Mo Okt 02 08:00:00.000 2017\nbase dec  timestamps relative\n\
                Begin Triggerblock\n   0.000000 Start of measurement\n\
                   1.000000 1  291             Rx   d 2 10 255\n\
                   0.500000 2  291x            Tx   d 8 1 2 3 4 5 6 7 8\n\
                   0.250000 1  Statistic: D 0 R 0\n\
                   0.250000 1  bogus line\n\
                   0.000001 1  100             Rx   r 3\n\
                End TriggerBlock\n";
    let mut r = asc_reader(text.as_bytes());
    let frames: Vec<Frame> = r.by_ref().map(Result::unwrap).collect();
    let start = r.start_time_ns().unwrap();
    assert_eq!(start % 86_400_000_000_000, 8 * 3_600_000_000_000);
    assert!(r.parser().is_decimal() && r.parser().is_relative());
    let offsets: Vec<u64> = frames.iter().map(|f| f.timestamp_ns - start).collect();
    assert_eq!(offsets, [1_000_000_000, 1_500_000_000, 2_000_001_000]);
    assert_eq!((frames[0].id, frames[0].data()), (291, &[10, 255][..]));
    assert_eq!(frames[1].flags.0, FrameFlags::EXTENDED | FrameFlags::TX);
    assert_eq!((frames[2].is_remote(), frames[2].dlc), (true, 3));
    let s = r.stats();
    assert_eq!((s.skipped, s.unknown), (1, 1));
    assert_eq!(s.issue_lines(IssueKind::Unknown), [8]);
}

/// An ASC file as python-can's writer lays it out: the `date` line is when the
/// file was written (12-hour clock, milliseconds not zero-padded), the trigger
/// block is the first frame's time, and the offsets count from it.
#[test]
fn asc_written_by_python_can_counts_from_the_trigger_block() {
    let text = "date Mon Dec 07 04:20:01.5 PM 2026\nbase hex  timestamps absolute\n\
                internal events logged\n// version 9.0.0\n\
                Begin Triggerblock Mon Dec 07 04:15:00.12 PM 2026\n\
                   0.000000 Start of measurement\n\
                   0.000000 1  123             Rx   d 2 01 02\n\
                   1.250000 1  124             Rx   d 1 03\n\
                End TriggerBlock\n";
    // 2026-12-07 16:15:00.012 UTC
    const TRIGGER: u64 = 1_796_660_100_012_000_000;
    let mut r = asc_reader(text.as_bytes());
    let frames: Vec<Frame> = r.by_ref().map(Result::unwrap).collect();
    assert_eq!(r.start_time_ns(), Some(TRIGGER));
    let times: Vec<u64> = frames.iter().map(|f| f.timestamp_ns).collect();
    assert_eq!(times, [TRIGGER, TRIGGER + 1_250_000_000]);
    assert_eq!((frames[1].id, frames[1].data()), (0x124, &[3][..]));
}

#[test]
fn candump_log_lines_from_can_utils() {
    let text = "(1699999999.123456) vcan0 123#DEADBEEF\n\
                (1699999999.123457) can1 1F334455##3001122 T\n\
                (1699999999.123458) vcan0 20000080#0000000000000000 R\n\
                # a comment\n\
                (1699999999.123459) vcan0 123#R7\n\
                (1699999999.1234) can1 800#00\n\
                garbage\n";
    let mut r = candump_log_reader(text.as_bytes());
    let frames: Vec<Frame> = r.by_ref().map(Result::unwrap).collect();
    assert_eq!(r.channel_names(), ["vcan0", "can1"]);
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[0].timestamp_ns, 1_699_999_999_123_456_000);
    let f = &frames[1];
    assert_eq!((f.channel, f.len, f.is_fd()), (1, 3, true));
    assert!(
        f.flags
            .has(FrameFlags::ESI | FrameFlags::BRS | FrameFlags::TX)
    );
    assert!(frames[2].is_error() && !frames[2].flags.has(FrameFlags::TX));
    assert_eq!((frames[3].dlc, frames[3].is_remote()), (7, true));
    let s = r.stats();
    assert_eq!(
        (s.unknown, s.issue_lines(IssueKind::Unknown)),
        (2, vec![6, 7])
    );
    assert!(s.issues[0].reason.contains("11-bit"), "{:?}", s.issues);
}

fn write_asc(frame: &Frame) -> String {
    let mut w = AscWriter::new(Vec::new(), None);
    w.write_frame(frame).unwrap();
    w.finish().unwrap();
    String::from_utf8(w.into_inner()).unwrap()
}

/// Our ASC writer produces python-can's expected file byte for byte.
#[test]
fn asc_writer_matches_python_cans_layout() {
    let Some(dir) = fixture_dir() else { return };
    let mut f = Frame::classic(0x123, true, &[0x68]);
    f.timestamp_ns = SEP_30_2017_15_06_13_191;
    let expected = std::fs::read_to_string(dir.join("single_frame_us_locale.asc")).unwrap();
    assert_eq!(write_asc(&f), expected);
}

/// python-can writes 64 bytes of a non-FD message as `d 40`, which no ASC
/// reader can take (a classic DLC is 0..15). An FD frame is a `CANFD` line:
/// everything else is the same file.
#[test]
fn asc_writer_differs_from_python_can_only_where_it_is_wrong() {
    let Some(dir) = fixture_dir() else { return };
    let data: Vec<u8> = (0..64).collect();
    let mut f = Frame::fd(0x123, true, &data, false);
    f.timestamp_ns = SEP_30_2017_15_06_13_191;
    let ours = write_asc(&f);
    let theirs = std::fs::read_to_string(dir.join("single_frame.asc")).unwrap();
    let diff: Vec<(&str, &str)> = ours
        .lines()
        .zip(theirs.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert!(
        diff[0].0.starts_with(" 0.000000 CANFD   1 Rx       123x "),
        "{}",
        diff[0].0
    );
    assert!(diff[0].0.contains(" 0 0 f 64 00 01 02"), "{}", diff[0].0);
    assert!(
        diff[0]
            .1
            .starts_with(" 0.000000 1  123x            Rx   d 40 00 01")
    );
    let back: Vec<Frame> = asc_reader(ours.as_bytes()).map(Result::unwrap).collect();
    assert_eq!(back, [f]);
}
