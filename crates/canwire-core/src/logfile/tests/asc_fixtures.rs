//! ASC files written by CANoe (and python-can), read with the values
//! python-can's tests assert, plus where canwire follows the format instead.

use super::read_fixture;
use crate::frame::{Frame, FrameFlags};
use crate::logfile::{IssueKind, LogFormat};

/// `date Sam Sep 30 15:06:13.191 2017`, read as UTC.
const SEP_30_2017_15_06_13_191: u64 = 1_506_783_973_191_000_000;

const EXT: u32 = FrameFlags::EXTENDED;
const RTR: u32 = FrameFlags::REMOTE;
const ERR: u32 = FrameFlags::ERROR;
const FD: u32 = FrameFlags::FD;
const BRS: u32 = FrameFlags::BRS;
const ESI: u32 = FrameFlags::ESI;
const TX: u32 = FrameFlags::TX;

/// (offset in µs from the header date, id, flags, channel, dlc, data)
type Expect = (u64, u32, u32, u32, u8, Vec<u8>);

fn check(name: &str, expected: &[Expect]) -> Option<Vec<Frame>> {
    let (frames, reader) = read_fixture(name)?;
    assert_eq!(reader.format(), LogFormat::Asc);
    let start = reader.start_time_ns().expect("date header");
    assert_eq!(frames.len(), expected.len(), "{name}: {frames:#?}");
    for (i, (f, e)) in frames.iter().zip(expected).enumerate() {
        let got = (
            (f.timestamp_ns - start) / 1_000,
            f.id,
            f.flags.0,
            f.channel,
            f.dlc,
            f.data().to_vec(),
        );
        assert_eq!(&got, e, "{name} frame {i}");
        f.validate().unwrap();
    }
    assert_eq!(reader.stats().frames, expected.len() as u64);
    Some(frames)
}

fn fd64(first: u8) -> Vec<u8> {
    let mut d = vec![0u8; 64];
    d[..4].copy_from_slice(&[first, 2, 3, 4]);
    d[63] = 0x64;
    d
}

#[test]
fn can_message_german_date_and_gzip() {
    let expected = [
        (2_501_000, 0xC8, TX, 1, 8, vec![9, 8, 7, 6, 5, 4, 3, 2]),
        (17_876_708, 0x6F9, 0, 0, 8, vec![5, 0xC, 0, 0, 0, 0, 0, 0]),
    ];
    for name in ["test_CanMessage.asc", "test_CanMessage.asc.gz"] {
        let Some(frames) = check(name, &expected) else {
            return;
        };
        // The file's `date` line says 15:06:13.191, its trigger block
        // 10:06:13.191 PM: the trigger block is the measurement's start.
        assert_eq!(
            frames[0].timestamp_ns,
            SEP_30_2017_15_06_13_191 + 7 * 3_600_000_000_000 + 2_501_000_000
        );
    }
}

#[test]
fn remote_frames_in_three_syntaxes() {
    check(
        "test_CanRemoteMessage.asc",
        &[
            (2_510_001, 0x100, RTR, 1, 0, vec![]),
            (2_520_002, 0x200, RTR | TX, 2, 0, vec![]),
            (2_584_921, 0x300, RTR, 3, 8, vec![]),
        ],
    );
}

#[test]
fn fd_frames_with_brs_esi_and_symbolic_names() {
    check(
        "test_CanFdMessage.asc",
        &[
            (
                30_005_021,
                0x300,
                FD | BRS,
                0,
                8,
                vec![0x11, 0xC2, 3, 4, 5, 6, 7, 8],
            ),
            (
                30_005_041,
                0x1C4D_80A7,
                EXT | FD | ESI | TX,
                1,
                8,
                vec![0x12, 0xC2, 3, 4, 5, 6, 7, 8],
            ),
            (
                30_005_071,
                0x30A,
                FD | BRS | ESI,
                2,
                8,
                vec![1, 2, 3, 4, 5, 6, 7, 8],
            ),
        ],
    );
    check(
        "test_CanFdMessage64.asc",
        &[
            (30_506_898, 0x4EE, FD | ESI, 3, 15, fd64(0xA1)),
            (31_506_898, 0x1C4D_80A7, EXT | FD | BRS, 3, 15, fd64(0xB1)),
        ],
    );
}

/// python-can reads this line as an FD remote frame with ESI. CAN FD has no
/// remote frames, and the line's flags column (0x200050) has RTR but not EDL:
/// it is a classic remote frame on an FD channel, so BRS/ESI do not apply.
#[test]
fn fd_remote_line_is_a_classic_remote_frame() {
    check(
        "test_CanFdRemoteMessage.asc",
        &[(30_300_981, 0x50005, EXT | RTR | TX, 2, 5, vec![])],
    );
}

/// Error frames keep channel, time and (CANFD syntax) direction; ASC gives no id or data.
#[test]
fn error_frames_classic_and_fd() {
    check(
        "test_CanErrorFrames.asc",
        &[
            (2_501_000, 0, ERR, 0, 0, vec![]),
            (3_501_000, 0, ERR, 0, 0, vec![]),
            (4_501_000, 0, ERR, 1, 0, vec![]),
            (30_806_898, 0, ERR | FD | TX, 4, 0, vec![]),
        ],
    );
}

#[test]
fn classic_dlc_above_eight_and_am_clock() {
    let Some((frames, reader)) = read_fixture("issue_1299.asc") else {
        return;
    };
    assert_eq!(frames.len(), 4);
    assert!(frames.iter().all(|f| f.flags.0 == TX && f.len == 8));
    assert_eq!(
        frames.iter().map(|f| f.id).collect::<Vec<_>>(),
        [0x180, 0x221, 0x3FF, 0xF4]
    );
    assert_eq!(frames[2].dlc, 0xD);
    assert_eq!(frames[2].data(), [0x55, 0xAA, 1, 2, 3, 4, 5, 6]);
    // date Thu Apr 28 10:44:52.480 am 2022
    assert_eq!(reader.start_time_ns(), Some(1_651_142_692_480_000_000));
    assert_eq!(
        frames[0].timestamp_ns,
        1_651_142_692_480_000_000 + 13_258_199_000
    );
}

#[test]
fn canoe_log_with_everything_mixed_in() {
    let Some((frames, reader)) = read_fixture("logfile.asc") else {
        return;
    };
    assert_eq!(frames.len(), 20, "python-can reads 20 messages");
    let s = reader.stats();
    // 3 CAN status lines, 6 statistics, 2 J1939TP
    assert_eq!((s.skipped, s.unknown, s.truncated.clone()), (11, 0, None));
    assert_eq!(
        s.issue_lines(IssueKind::Skipped),
        [8, 9, 10, 11, 12, 23, 24, 27]
    );
    let kinds: Vec<u32> = frames.iter().map(|f| f.flags.0).collect();
    assert_eq!(&kinds[..6], [ERR, ERR, ERR, RTR | TX, RTR | TX, RTR | TX]);
    assert_eq!(frames[6].id, 0x18EB_FF00);
    assert_eq!(frames[16].flags.0, FD | BRS);
    assert_eq!(frames[17].flags.0, EXT | RTR | TX);
    assert_eq!((frames[18].len, frames[18].flags.0), (64, FD));
    assert_eq!(frames[19].flags.0, ERR | FD | TX);

    let Some((frames, reader)) = read_fixture("logfile_errorframes.asc") else {
        return;
    };
    assert_eq!(frames.len(), 12, "python-can reads 12 messages");
    assert_eq!(reader.stats().skipped, 2);
}

/// python-can's expected writer outputs. `single_frame.asc` holds `d 40`, a
/// classic DLC of 64: not valid ASC (classic DLCs are 0..15), so the line is
/// counted as unknown rather than read as a frame no bus can carry.
#[test]
fn python_can_writer_outputs() {
    check(
        "single_frame_us_locale.asc",
        &[(0, 0x123, EXT, 0, 1, vec![0x68])],
    );
    let Some((frames, reader)) = read_fixture("single_frame.asc") else {
        return;
    };
    assert!(frames.is_empty());
    let s = reader.stats();
    assert_eq!((s.unknown, s.issue_lines(IssueKind::Unknown)), (1, vec![6]));
}
