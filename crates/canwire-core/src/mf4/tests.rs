//! Round trips through the writer and reader, and damaged files.

use std::io::Cursor;

use super::writer::LIST_CAPACITY;
use super::*;
use crate::ErrorCode;
use crate::frame::{Frame, FrameFlags};
use crate::logfile::FrameReader;

const T0: u64 = 1_700_000_000_123_456_789;

fn sample() -> Vec<Frame> {
    let mut frames = vec![
        Frame::classic(0x123, false, &[1, 2, 3]),
        Frame::classic(0x1ABC_DEF0, true, &[0xFF; 8]),
        Frame::remote(0x7FF, false, 4),
        Frame::fd(0x456, false, &(0..64).collect::<Vec<u8>>(), true),
        Frame::fd(0x1000, true, &[9; 12], false),
        Frame::classic(0x000, false, &[]),
    ];
    let mut error = Frame::classic(0x0000_0004, false, &[0, 0x10, 0, 0, 0, 0, 0, 0]);
    error.flags.set(FrameFlags::ERROR, true);
    frames.push(error);
    frames[3].flags.set(FrameFlags::ESI, true);
    frames[1].flags.set(FrameFlags::TX, true);
    for (i, f) in frames.iter_mut().enumerate() {
        f.timestamp_ns = T0 + i as u64 * 1_000_333;
        f.channel = i as u32 % 3;
    }
    frames
}

fn write(frames: &[Frame], options: Mf4WriterOptions, finish: bool) -> Vec<u8> {
    let mut w = Mf4Writer::new(Cursor::new(Vec::new()), options);
    for f in frames {
        w.write_frame(f).unwrap();
    }
    if finish {
        w.finish().unwrap();
    } else {
        w.flush().unwrap();
    }
    w.into_inner().into_inner()
}

fn read_all(bytes: Vec<u8>) -> (Vec<Frame>, Option<crate::CanwireError>) {
    let mut frames = Vec::new();
    let mut error = None;
    for item in Mf4Reader::new(Cursor::new(bytes)).unwrap() {
        match item {
            Ok(f) => frames.push(f),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    (frames, error)
}

#[test]
fn every_frame_kind_round_trips_at_every_compression_level() {
    for compression in [
        Mf4Compression::None,
        Mf4Compression::Deflate,
        Mf4Compression::TransposedDeflate,
    ] {
        for block_bytes in [1, 100, 1 << 20] {
            let options = Mf4WriterOptions {
                compression,
                block_bytes,
                start_time_ns: None,
                ..Mf4WriterOptions::default()
            };
            let bytes = write(&sample(), options, true);
            assert_eq!(&bytes[..8], b"MDF     ");
            let (frames, error) = read_all(bytes);
            assert!(error.is_none(), "{error:?}");
            assert_eq!(frames, sample(), "{compression:?} {block_bytes}");
        }
    }
}

#[test]
fn microsecond_times_read_back_as_the_nearest_microsecond_ties_to_even() {
    let mut frames = sample();
    // offsets from the header's start (T0 - 789): 789, 1_000_333 + 789, ...;
    // then exact ties of half a µs, odd and even
    let extra = [(1_500, 2), (2_500, 2), (3_499, 3), (10_000_500, 10_000)];
    let start = T0 - 789;
    for (offset, _) in extra {
        let mut f = Frame::classic(0x55, false, &[1]);
        f.timestamp_ns = start + 20_000_000 + offset;
        frames.push(f);
    }
    let us = TimeResolution::Us;
    let options = Mf4WriterOptions {
        time_resolution: us,
        ..Mf4WriterOptions::default()
    };
    let ns = write(&frames, Mf4WriterOptions::default(), true);
    let bytes = write(&frames, options, true);
    assert!(bytes.len() <= ns.len());
    let (back, error) = read_all(bytes);
    assert!(error.is_none(), "{error:?}");
    let mut want = frames.clone();
    for f in &mut want {
        let offset = i128::from(f.timestamp_ns - start);
        f.timestamp_ns = start + us.units(offset) as u64 * 1000;
    }
    assert_eq!(back, want);
    let times: Vec<u64> = back.iter().map(|f| f.timestamp_ns - start).collect();
    assert_eq!(times[0], 1_000, "789 ns rounds up");
    assert_eq!(times[1], 1_001_000, "1_001_122 ns rounds down");
    let tail: Vec<u64> = times[times.len() - 4..].to_vec();
    let expect: Vec<u64> = extra.iter().map(|&(_, u)| 20_000_000 + u * 1000).collect();
    assert_eq!(tail, expect);
}

#[test]
fn the_header_starts_at_the_first_frame_cut_to_microseconds() {
    let bytes = write(&sample(), Mf4WriterOptions::default(), true);
    let reader = Mf4Reader::new(Cursor::new(bytes)).unwrap();
    assert_eq!(reader.start_unix_ns(), T0 - 789);
    assert_eq!(reader.start_time_ns(), Some(T0 - 789));
}

#[test]
fn the_cycle_counts_are_patched_per_group() {
    let mut w = Mf4Writer::new(Cursor::new(Vec::new()), Mf4WriterOptions::default());
    for f in sample() {
        w.write_frame(&f).unwrap();
    }
    w.finish().unwrap();
    assert_eq!(w.cycle_counts(), [5, 1, 1]);
    let bytes = w.into_inner().into_inner();
    let (_, points) = meta::metadata(
        0,
        super::layout::TimeResolution::Ns,
        env!("CARGO_PKG_VERSION"),
    );
    let count = |at: u64| block::le_u64(&bytes, at as usize);
    assert_eq!(points.cycle_counts.map(count), [5, 1, 1]);
    assert_eq!(
        u16::from_le_bytes([bytes[60], bytes[61]]),
        0,
        "unfinished flags cleared"
    );
}

#[test]
fn many_blocks_are_listed_by_chained_dl_blocks() {
    let frames: Vec<Frame> = (0..(LIST_CAPACITY as u64 + 300))
        .map(|i| {
            let mut f = Frame::classic((i % 0x800) as u32, false, &i.to_le_bytes());
            f.timestamp_ns = T0 + i * 1000;
            f
        })
        .collect();
    let options = Mf4WriterOptions {
        compression: Mf4Compression::None,
        block_bytes: 1,
        start_time_ns: None,
        time_resolution: TimeResolution::Ns,
    };
    let bytes = write(&frames, options, true);
    let dl_count = bytes.windows(4).filter(|w| w == b"##DL").count();
    assert_eq!(dl_count, 2);
    let (back, error) = read_all(bytes);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(back, frames);
}

#[test]
fn an_unfinished_file_is_read_up_to_its_last_flushed_block() {
    let frames = sample();
    let bytes = write(
        &frames,
        Mf4WriterOptions {
            block_bytes: 200,
            ..Default::default()
        },
        false,
    );
    assert_eq!(&bytes[..8], b"UnFinMF ");
    let reader = Mf4Reader::new(Cursor::new(bytes.clone())).unwrap();
    assert!(reader.is_unfinished());
    let mut reader = Mf4Reader::new(Cursor::new(bytes)).unwrap();
    let back: Vec<Frame> = reader.by_ref().map(Result::unwrap).collect();
    assert_eq!(back, frames);
    let truncated = reader.stats().truncated.expect("reported as cut short");
    assert!(truncated.reason.contains("UnFinMF"), "{truncated:?}");
}

#[test]
fn a_cut_file_gives_the_frames_before_the_cut_then_a_truncated_file_error() {
    let frames: Vec<Frame> = (0..40u64)
        .map(|i| {
            let mut f = Frame::classic(0x100 + i as u32, false, &[i as u8; 8]);
            f.timestamp_ns = T0 + i * 1000;
            f
        })
        .collect();
    let options = Mf4WriterOptions {
        compression: Mf4Compression::None,
        block_bytes: 85 * 10,
        start_time_ns: None,
        time_resolution: TimeResolution::Ns,
    };
    for finish in [false, true] {
        let bytes = write(&frames, options, finish);
        // the last block holds frames 30..40 (850 bytes); a finished file's DL follows it
        let cut = bytes.len() - 300 - if finish { 104 } else { 0 };
        let (back, error) = read_all(bytes[..cut].to_vec());
        assert_eq!(back, frames[..30], "finished: {finish}");
        let error = error.expect("an error after the frames");
        assert_eq!(error.code, ErrorCode::TruncatedFile, "{error}");
        assert!(error.message.contains("byte offset"), "{error}");
    }
}

#[test]
fn a_damaged_block_gives_the_frames_before_it_then_a_corrupt_file_error() {
    let frames: Vec<Frame> = (0..40u64)
        .map(|i| {
            let mut f = Frame::classic(0x100, false, &[i as u8]);
            f.timestamp_ns = T0 + i * 1000;
            f
        })
        .collect();
    let options = Mf4WriterOptions {
        compression: Mf4Compression::Deflate,
        block_bytes: 85 * 10,
        start_time_ns: None,
        time_resolution: TimeResolution::Ns,
    };
    let mut bytes = write(&frames, options, true);
    let dz: Vec<usize> = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"##DZ")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(dz.len(), 4);
    let third = dz[2];
    bytes[third + 48..third + 60].fill(0x55);
    let mut reader = Mf4Reader::new(Cursor::new(bytes)).unwrap();
    let mut back = Vec::new();
    let n = reader.read_frames(&mut back, 100).unwrap();
    assert_eq!((n, &back[..]), (20, &frames[..20]));
    let error = reader.read_frames(&mut back, 100).unwrap_err();
    assert_eq!(error.code, ErrorCode::CorruptFile);
    assert!(
        error.message.contains(&format!("byte offset {third}")) && error.message.contains("##DZ"),
        "{error}"
    );
    assert!(reader.stats().truncated.is_some());
}

#[test]
fn files_that_are_no_mf4_are_typed_errors() {
    let err = Mf4Reader::new(Cursor::new(b"hello".to_vec()))
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::CorruptFile);
    let err = Mf4Reader::new(Cursor::new(vec![b'x'; 200])).err().unwrap();
    assert_eq!(err.code, ErrorCode::CorruptFile);
    assert!(err.message.contains("not an MDF file"), "{err}");
    let mut bytes = write(&sample(), Mf4WriterOptions::default(), true);
    bytes[64..66].copy_from_slice(b"xx");
    let err = Mf4Reader::new(Cursor::new(bytes)).err().unwrap();
    assert_eq!(err.code, ErrorCode::CorruptFile);
    assert!(err.message.contains("byte offset 64"), "{err}");
}

#[test]
fn the_writer_refuses_what_the_format_cannot_hold() {
    let mut w = Mf4Writer::new(Cursor::new(Vec::new()), Mf4WriterOptions::default());
    let mut f = Frame::classic(1, false, &[1]);
    f.channel = 256;
    let err = w.write_frame(&f).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains("255"), "{err}");
    let bad = Frame::classic(0x800, false, &[]);
    assert_eq!(
        w.write_frame(&bad).unwrap_err().code,
        ErrorCode::IdOutOfRange
    );
    w.finish().unwrap();
    w.finish().unwrap();
    assert_eq!(
        w.write_frame(&Frame::classic(1, false, &[]))
            .unwrap_err()
            .code,
        ErrorCode::Closed
    );
    assert_eq!(
        Mf4Compression::from_level(3).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
}

#[test]
fn an_empty_log_is_a_valid_file_with_no_frames() {
    let bytes = write(&[], Mf4WriterOptions::default(), true);
    assert_eq!(&bytes[..8], b"MDF     ");
    let (frames, error) = read_all(bytes);
    assert!(frames.is_empty() && error.is_none());
}

#[test]
fn damaged_and_cut_files_never_panic() {
    let mut rng = crate::test_rng::XorShift(0x9E37_79B9_7F4A_7C15);
    let frames: Vec<Frame> = (0..300u64)
        .map(|i| {
            let mut f = sample()[i as usize % 7];
            f.timestamp_ns = T0 + i * 1000;
            f
        })
        .collect();
    for compression in [
        Mf4Compression::None,
        Mf4Compression::Deflate,
        Mf4Compression::TransposedDeflate,
    ] {
        for finish in [true, false] {
            let options = Mf4WriterOptions {
                compression,
                block_bytes: 2000,
                start_time_ns: None,
                time_resolution: TimeResolution::Ns,
            };
            let whole = write(&frames, options, finish);
            for _ in 0..300 {
                let mut bytes = whole.clone();
                if rng.chance(30) {
                    bytes.truncate(rng.index(bytes.len()));
                }
                for _ in 0..1 + rng.index(8) {
                    if bytes.is_empty() {
                        break;
                    }
                    let at = rng.index(bytes.len());
                    bytes[at] = rng.next() as u8;
                }
                if let Ok(reader) = Mf4Reader::new(Cursor::new(bytes)) {
                    // every item is a frame or a typed error; the iteration ends
                    let n = reader.take(10_000).count();
                    assert!(n <= 10_000);
                }
            }
        }
    }
}
