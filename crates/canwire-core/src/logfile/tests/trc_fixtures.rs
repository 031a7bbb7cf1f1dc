//! TRC files written by PCAN-View and PEAK-Converter, read with the values
//! python-can's tests assert.

use super::read_fixture;
use crate::frame::FrameFlags;
use crate::logfile::{IssueKind, LogFormat};

/// 18.12.2021 14:28:07.062 (the files' start time).
const DEC_18_2021_14_28_07_062: u64 = 1_639_837_687_062_000_000;

/// The 11 frames all four versions hold: (offset in µs, id, extended, remote, dlc).
const FRAMES: [(u64, u32, bool, bool, u8); 11] = [
    (17_535_400, 0x100, true, false, 8),
    (17_700_300, 0x100, true, false, 8),
    (17_873_800, 0x100, true, false, 8),
    (19_295_400, 0, false, false, 8),
    (19_500_600, 0, false, false, 8),
    (19_705_200, 0, false, false, 8),
    (20_592_700, 0x100, true, false, 8),
    (20_798_600, 0x100, true, false, 8),
    (20_956_000, 0x100, true, false, 8),
    (21_097_100, 0x100, true, false, 8),
    (48_937_600, 0x704, false, true, 1),
];

/// Checks a file; `ms_only` for 1.0 (integer ms offsets, no direction).
fn check(name: &str, start_ns: u64, ms_only: bool, skipped_line: u64) {
    let Some((frames, reader)) = read_fixture(name) else {
        return;
    };
    assert_eq!(reader.format(), LogFormat::Trc);
    assert_eq!(reader.start_time_ns(), Some(start_ns), "{name}");
    assert_eq!(frames.len(), 11, "{name}");
    for (i, (f, &(us, id, ext, rtr, dlc))) in frames.iter().zip(&FRAMES).enumerate() {
        let us = if ms_only { us / 1000 * 1000 } else { us };
        assert_eq!(f.timestamp_ns, start_ns + us * 1000, "{name} frame {i}");
        assert_eq!(
            (f.id, f.is_extended(), f.is_remote(), f.dlc),
            (id, ext, rtr, dlc),
            "{name} {i}"
        );
        assert_eq!(f.channel, 0);
        let tx = !ms_only && !rtr;
        assert_eq!(f.flags.has(FrameFlags::TX), tx, "{name} {i}");
        if !rtr {
            assert_eq!(f.data(), [0; 8]);
        }
    }
    let s = reader.stats();
    assert_eq!((s.skipped, s.unknown), (1, 0), "{name}");
    assert_eq!(s.issue_lines(IssueKind::Skipped), [skipped_line], "{name}");
}

/// `$STARTTIME=44548.6028595139` is 14:28:07.062001 to the µs (PEAK prints
/// `.062.001` in the comment); 1.0 has no `$STARTTIME`, its comment says .062.
#[test]
fn all_versions() {
    let with_starttime = DEC_18_2021_14_28_07_062 + 1_000;
    check(
        "test_CanMessage_V1_0_BUS1.trc",
        DEC_18_2021_14_28_07_062,
        true,
        19,
    );
    check("test_CanMessage_V1_1.trc", with_starttime, false, 16);
    check("test_CanMessage_V2_0_BUS1.trc", with_starttime, false, 19);
    check("test_CanMessage_V2_1.trc", with_starttime, false, 20);
}

#[test]
fn converted_from_asc() {
    let Some((frames, reader)) = read_fixture("test_CanMessage.trc") else {
        return;
    };
    // $STARTTIME=43008.920986006946: 30.09.2017 22:06:13.191
    assert_eq!(reader.start_time_ns(), Some(1_506_809_173_191_000_000));
    assert_eq!(frames.len(), 2);
    let f = &frames[0];
    assert_eq!(
        (f.id, f.channel, f.flags.0, f.dlc),
        (0xC8, 1, FrameFlags::TX, 8)
    );
    assert_eq!(f.data(), [9, 8, 7, 6, 5, 4, 3, 2]);
    assert_eq!(f.timestamp_ns - 1_506_809_173_191_000_000, 2_501_000_000);
    let f = &frames[1];
    assert_eq!((f.id, f.channel, f.flags.0), (0x6F9, 0, 0));
    assert_eq!(f.timestamp_ns - 1_506_809_173_191_000_000, 17_876_708_000);
}

/// Version 1.3 (from PEAK's description; no fixture): a bus column and a reserved `-`.
#[test]
fn version_1_3_and_1_2() {
    let text = ";$FILEVERSION=1.3\n;$STARTTIME=25569.5\n\
                1)      1059.9  2  Rx         0001  -  8  00 11 22 33 44 55 66 77\n\
                2)      1060.9  1  Tx     18FEF100  -  2  AA BB\n\
                3)      1061.0  1  Rx         0003  -  4  RTR\n\
                4)      1346.834 1  Warng FFFFFFFF  -  4  00 00 00 04 BUSLIGHT\n\
                5)      1349.222 1  Error     0008  -  4  00 19 08 08\n";
    let mut r = crate::logfile::trc::trc_reader(text.as_bytes());
    let frames: Vec<_> = r.by_ref().map(Result::unwrap).collect();
    let noon = 43_200_000_000_000u64;
    assert_eq!(frames.len(), 4);
    assert_eq!((frames[0].channel, frames[0].id, frames[0].len), (1, 1, 8));
    assert_eq!(frames[0].timestamp_ns, noon + 1_059_900_000);
    assert_eq!(frames[1].flags.0, FrameFlags::EXTENDED | FrameFlags::TX);
    assert_eq!(frames[1].data(), [0xAA, 0xBB]);
    assert_eq!((frames[2].is_remote(), frames[2].dlc), (true, 4));
    assert!(frames[3].is_error());
    assert_eq!(crate::logfile::FrameReader::stats(&r).skipped, 1);

    let absurd = ";   Start time: 31.12.4294967295 23:59:59.999\n 1) 1.0 0001 1 00\n";
    let mut r = crate::logfile::trc::trc_reader(absurd.as_bytes());
    assert_eq!(r.by_ref().count(), 1);
    assert_eq!(crate::logfile::FrameReader::start_time_ns(&r), None);

    let v12 = ";$FILEVERSION=1.2\n;$STARTTIME=25569.5\n 1)  1059.9  2  Rx  0001  2  00 11\n";
    let f: Vec<_> = crate::logfile::trc::trc_reader(v12.as_bytes())
        .map(Result::unwrap)
        .collect();
    assert_eq!((f[0].channel, f[0].data()), (1, &[0x00, 0x11][..]));
}
