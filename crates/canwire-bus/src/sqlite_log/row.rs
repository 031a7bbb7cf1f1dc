//! One row of python-can's table and the frame it stands for, without an
//! allocation either way: a row borrows its data bytes, and the times convert
//! through decimal text only where a fast exact path does not apply.

use canwire_core::error::Result;
use canwire_core::logfile::time::{format_seconds, parse_decimal_ns};
use canwire_core::{CanwireError, ErrorCode, Frame, FrameFlags};

/// The columns of one row, as python-can writes them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row<'a> {
    /// Seconds since the Unix epoch.
    pub ts: f64,
    /// The id without flags.
    pub arbitration_id: i64,
    /// 29-bit id.
    pub extended: bool,
    /// Remote frame.
    pub remote: bool,
    /// Error frame.
    pub error: bool,
    /// python-can's `Message.dlc`: the data length for FD frames, the DLC otherwise.
    pub dlc: i64,
    /// The data bytes.
    pub data: &'a [u8],
}

/// The row a frame is written as (see the module table for what is lost).
pub fn frame_to_row(f: &Frame) -> Row<'_> {
    Row {
        ts: ns_to_seconds(f.timestamp_ns),
        arbitration_id: i64::from(f.id),
        extended: f.is_extended(),
        remote: f.is_remote(),
        error: f.is_error(),
        dlc: i64::from(if f.is_fd() { f.len } else { f.dlc }),
        data: f.data(),
    }
}

/// Integers up to this convert to `f64` exactly.
const EXACT_INT: u64 = 1 << 53;

/// The double nearest the exact decimal `ns / 1e9` (as Python's
/// `float("SECONDS.NNNNNNNNN")` gives). A whole number of µs under 2^53 is one
/// IEEE division of two exact doubles, so correctly rounded; other times go
/// through the decimal text.
pub fn ns_to_seconds(ns: u64) -> f64 {
    if ns.is_multiple_of(1000) && ns / 1000 < EXACT_INT {
        return (ns / 1000) as f64 / 1e6;
    }
    format_seconds(ns, 9)
        .parse::<f64>()
        .unwrap_or(ns as f64 / 1e9)
}

/// The ns of the shortest decimal that gives `ts` back (so the µs value a
/// writer stored comes back exact, with no binary noise below it); `None`
/// for a negative or non-finite `ts` or one past `u64` ns.
///
/// Fast path, for 1 <= ts < 2^33 s (until the year 2242): there a double's
/// step is under 1 µs, so at most one decimal of 6 fraction digits gives
/// `ts` back, and when the nearest one does (`m / 1e6`, both exact doubles,
/// is one correctly rounded division) it is the shortest decimal's value.
/// Anything else (more digits, or too near a tie to be sure) takes the
/// decimal text of `ts` (Rust's shortest round-trip form).
pub fn seconds_to_ns(ts: f64) -> Option<u64> {
    if !ts.is_finite() || ts < 0.0 {
        return None;
    }
    fast_seconds_to_ns(ts)
        .or_else(|| parse_decimal_ns(&format!("{ts}")).and_then(|ns| u64::try_from(ns).ok()))
}

/// [`seconds_to_ns`]'s fast path: `None` where it does not apply.
fn fast_seconds_to_ns(ts: f64) -> Option<u64> {
    if !(1.0..FAST_SECONDS_END).contains(&ts) {
        return None;
    }
    let whole = ts.trunc();
    // Exact: the fraction's bits are a subset of ts's.
    let x = (ts - whole) * 1e6;
    let r = x.round();
    // x is within 1e-9 of the exact product: only a near tie is unsure
    if ((x - r).abs() - 0.5).abs() <= 1e-6 {
        return None;
    }
    let us = whole as u64 * 1_000_000 + r as u64;
    (us as f64 / 1e6 == ts).then_some(us * 1000)
}

/// Where [`seconds_to_ns`]'s fast path ends: 2^33 s.
const FAST_SECONDS_END: f64 = 8_589_934_592.0;

/// The frame a row stands for; an error says what in the row is wrong.
pub fn row_to_frame(row: &Row<'_>) -> Result<Frame> {
    let bad = |what: String| CanwireError::new(ErrorCode::CorruptFile, what);
    if !row.ts.is_finite() || row.ts < 0.0 {
        return Err(bad(format!("ts {} is no time since the epoch", row.ts)));
    }
    let ts = seconds_to_ns(row.ts).ok_or_else(|| bad(format!("ts {} is out of range", row.ts)))?;
    let id = u32::try_from(row.arbitration_id).map_err(|_| {
        bad(format!(
            "arbitration_id {} is out of range",
            row.arbitration_id
        ))
    })?;
    let dlc = u8::try_from(row.dlc).map_err(|_| bad(format!("dlc {} is out of range", row.dlc)))?;
    if row.data.len() > 64 {
        return Err(bad(format!(
            "{} data bytes: at most 64 allowed",
            row.data.len()
        )));
    }
    let mut f = if row.remote {
        Frame::remote(id, row.extended, dlc)
    } else if row.data.len() > 8 {
        Frame::fd(id, row.extended, row.data, false)
    } else {
        let mut f = Frame::classic(id, row.extended, row.data);
        if row.data.len() == 8 && dlc > 8 {
            f.dlc = dlc;
        }
        f
    };
    f.flags.set(FrameFlags::ERROR, row.error);
    f.timestamp_ns = ts;
    f.validate()?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(f: &Frame) -> Frame {
        row_to_frame(&frame_to_row(f)).unwrap()
    }

    #[test]
    fn classic_extended_remote_and_error_frames_survive() {
        let mut std = Frame::classic(0x123, false, &[1, 2, 3]);
        std.timestamp_ns = 1_700_000_000_123_456_000;
        let ext = Frame::classic(0x1ABC_DEF0, true, &[0xFF; 8]);
        let rtr = Frame::remote(0x7FF, false, 5);
        let mut err = Frame::classic(0x20, true, &[0, 0, 4, 0, 0, 0, 0, 0]);
        err.flags.set(FrameFlags::ERROR, true);
        let mut dlc12 = Frame::classic(0x10, false, &[9; 8]);
        dlc12.dlc = 12;
        for f in [std, ext, rtr, err, dlc12] {
            assert_eq!(round_trip(&f), f);
        }
        let row = frame_to_row(&rtr);
        assert_eq!((row.remote, row.dlc, row.data.len()), (true, 5, 0));
        assert_eq!(frame_to_row(&dlc12).dlc, 12);
    }

    #[test]
    fn the_double_keeps_microseconds_of_todays_times() {
        let mut f = Frame::classic(1, false, &[]);
        f.timestamp_ns = 1_765_000_000_123_456_000;
        let row = frame_to_row(&f);
        assert_eq!(row.ts, 1_765_000_000.123_456);
        let back = row_to_frame(&row).unwrap().timestamp_ns;
        assert_eq!(back, f.timestamp_ns);
        f.timestamp_ns = 1_765_000_000_123_456_789;
        let back = row_to_frame(&frame_to_row(&f)).unwrap().timestamp_ns;
        assert!(back.abs_diff(f.timestamp_ns) < 250, "{back}");
    }

    /// The slow path: the shortest round-trip text, parsed.
    fn seconds_to_ns_by_text(ts: f64) -> Option<u64> {
        parse_decimal_ns(&format!("{ts}")).and_then(|ns| u64::try_from(ns).ok())
    }

    #[test]
    fn the_fast_time_paths_agree_with_the_decimal_text() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let base = 1_765_000_000_000_000_000u64;
        for i in 0..200_000u64 {
            let r = next();
            // µs, ms, whole seconds, ns, and times near 1 s and below 2^33 s
            let ns = match i % 6 {
                0 => base + (r % 10_000_000_000_000) / 1000 * 1000,
                1 => base + r % 100_000_000_000 / 1_000_000 * 1_000_000,
                2 => r % 4_000_000_000 * 1_000_000_000,
                3 => base + r % 10_000_000_000,
                4 => 1_000_000_000 + r % 3_000_000_000,
                _ => (1u64 << 33) * 1_000_000_000 - r % 10_000_000_000 / 1000 * 1000,
            };
            let ts = ns_to_seconds(ns);
            assert_eq!(ts, format_seconds(ns, 9).parse::<f64>().unwrap(), "{ns}");
            if i % 6 < 3 {
                assert_eq!(
                    fast_seconds_to_ns(ts),
                    Some(ns),
                    "whole µs take the fast path"
                );
            }
            assert_eq!(seconds_to_ns(ts), seconds_to_ns_by_text(ts), "{ns} {ts}");
            // any double, also python-can's float seconds of time.time()
            let any = f64::from_bits(0x41D0_0000_0000_0000 | (r & 0x000F_FFFF_FFFF_FFFF));
            assert_eq!(seconds_to_ns(any), seconds_to_ns_by_text(any), "{any}");
        }
        for ts in [
            0.0,
            0.5,
            1.0,
            0.000_125,
            1e-9,
            2.5e-10,
            8_589_934_592.0,
            9.1e9,
            1.8e10,
        ] {
            assert_eq!(seconds_to_ns(ts), seconds_to_ns_by_text(ts), "{ts}");
        }
        assert_eq!(
            seconds_to_ns(1_765_000_000.000_125),
            Some(1_765_000_000_000_125_000)
        );
        assert_eq!(seconds_to_ns(f64::NAN), None);
        assert_eq!(seconds_to_ns(-1.0), None);
    }

    #[test]
    fn fd_frames_lose_their_flags_as_the_layout_says() {
        let mut long = Frame::fd(0x18DA_F110, true, &[7; 24], true);
        long.flags.set(FrameFlags::ESI, true);
        let row = frame_to_row(&long);
        assert_eq!((row.dlc, row.data.len()), (24, 24));
        let back = row_to_frame(&row).unwrap();
        assert_eq!(back.flags.0, FrameFlags::FD | FrameFlags::EXTENDED);
        assert_eq!((back.len, back.dlc, back.data()), (24, 12, &[7; 24][..]));

        let short = Frame::fd(0x55, false, &[1, 2], true);
        let back = row_to_frame(&frame_to_row(&short)).unwrap();
        assert_eq!(back, Frame::classic(0x55, false, &[1, 2]));
    }

    #[test]
    fn bad_rows_say_what_is_wrong() {
        let one = Frame::classic(1, false, &[1]);
        let good = frame_to_row(&one);
        let cases = [
            (Row { ts: -1.0, ..good }, "ts -1"),
            (
                Row {
                    ts: f64::NAN,
                    ..good
                },
                "ts NaN",
            ),
            (
                Row {
                    arbitration_id: -5,
                    ..good
                },
                "arbitration_id -5",
            ),
            (Row { dlc: 300, ..good }, "dlc 300"),
            (
                Row {
                    data: &[0; 65],
                    ..good
                },
                "65 data bytes",
            ),
        ];
        for (row, text) in cases {
            let e = row_to_frame(&row).unwrap_err();
            assert_eq!(e.code, ErrorCode::CorruptFile, "{text}");
            assert!(e.message.contains(text), "{e}");
        }
        let e = row_to_frame(&Row {
            arbitration_id: 0x800,
            ..good
        })
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::IdOutOfRange);
        let e = row_to_frame(&Row {
            data: &[0; 9],
            ..good
        })
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidFdLength);
    }
}
