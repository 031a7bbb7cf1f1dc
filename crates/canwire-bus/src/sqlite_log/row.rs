//! One row of python-can's table and the frame it stands for.

use canwire_core::error::Result;
use canwire_core::logfile::time::{format_seconds, parse_decimal_ns};
use canwire_core::{CanwireError, ErrorCode, Frame, FrameFlags};

/// The columns of one row, as python-can writes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
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
    pub data: Vec<u8>,
}

/// The row a frame is written as (see the module table for what is lost).
pub fn frame_to_row(f: &Frame) -> Row {
    // Through the decimal text, so the double is the one nearest the exact
    // ns value (as Python's float("...") would give).
    let ts = format_seconds(f.timestamp_ns, 9)
        .parse::<f64>()
        .unwrap_or(f.timestamp_ns as f64 / 1e9);
    Row {
        ts,
        arbitration_id: i64::from(f.id),
        extended: f.is_extended(),
        remote: f.is_remote(),
        error: f.is_error(),
        dlc: i64::from(if f.is_fd() { f.len } else { f.dlc }),
        data: f.data().to_vec(),
    }
}

/// The frame a row stands for; an error says what in the row is wrong.
pub fn row_to_frame(row: &Row) -> Result<Frame> {
    let bad = |what: String| CanwireError::new(ErrorCode::CorruptFile, what);
    if !row.ts.is_finite() || row.ts < 0.0 {
        return Err(bad(format!("ts {} is no time since the epoch", row.ts)));
    }
    // The shortest decimal that gives this double back: the µs value a
    // writer stored comes back exact, with no binary noise below it.
    let ts = parse_decimal_ns(&format!("{}", row.ts))
        .and_then(|ns| u64::try_from(ns).ok())
        .ok_or_else(|| bad(format!("ts {} is out of range", row.ts)))?;
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
        Frame::fd(id, row.extended, &row.data, false)
    } else {
        let mut f = Frame::classic(id, row.extended, &row.data);
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
        let good = frame_to_row(&Frame::classic(1, false, &[1]));
        let cases = [
            (
                Row {
                    ts: -1.0,
                    ..good.clone()
                },
                "ts -1",
            ),
            (
                Row {
                    ts: f64::NAN,
                    ..good.clone()
                },
                "ts NaN",
            ),
            (
                Row {
                    arbitration_id: -5,
                    ..good.clone()
                },
                "arbitration_id -5",
            ),
            (
                Row {
                    dlc: 300,
                    ..good.clone()
                },
                "dlc 300",
            ),
            (
                Row {
                    data: vec![0; 65],
                    ..good.clone()
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
            ..good.clone()
        })
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::IdOutOfRange);
        let e = row_to_frame(&Row {
            data: vec![0; 9],
            ..good
        })
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidFdLength);
    }
}
