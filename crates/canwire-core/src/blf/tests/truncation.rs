//! Files cut at every byte offset, appends to them, and objects with impossible sizes.

use std::io::Cursor;

use super::read_all;
use super::roundtrip::{T0, every_kind, write};
use crate::blf::can_objects::encode_frame;
use crate::blf::{BlfItem, BlfReader, BlfWriter, BlfWriterOptions, Truncation};
use crate::error::ErrorCode;
use crate::frame::Frame;

fn opts(level: u32, container: usize) -> BlfWriterOptions {
    BlfWriterOptions {
        compression_level: level,
        max_container_size: container,
        ..BlfWriterOptions::default()
    }
}

fn small_set() -> Vec<Frame> {
    let all = every_kind();
    all.iter().step_by(4).copied().collect()
}

/// Reads a cut file: the frames, and the truncation (which must be the last item).
fn read_cut(bytes: &[u8]) -> (Vec<Frame>, Option<Truncation>) {
    let items = read_all(bytes).unwrap_or_else(|e| panic!("cut at {}: {e}", bytes.len()));
    let mut frames = Vec::new();
    let mut truncation = None;
    for item in items {
        assert!(truncation.is_none(), "truncation is the last item");
        match item {
            BlfItem::Frame(f) | BlfItem::Error(f, _) => frames.push(f),
            BlfItem::Truncated(t) => truncation = Some(t),
            other => panic!("{other:?}"),
        }
    }
    (frames, truncation)
}

/// File offset one past the last byte of each object, for a level-0 file.
fn object_ends(bytes: &[u8], frames: &[Frame]) -> Vec<usize> {
    // Map each inner-stream byte to its file offset by walking the containers.
    let mut file_of = Vec::new();
    let mut off = 144;
    while off + 32 <= bytes.len() {
        assert_eq!(&bytes[off..off + 4], b"LOBJ");
        let size = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
        file_of.extend(off + 32..off + size);
        off += size + size % 4;
    }
    let mut ends = Vec::new();
    let mut logical = 0;
    for f in frames {
        let mut obj = Vec::new();
        encode_frame(f, 0, &mut obj).unwrap();
        let size = u32::from_le_bytes(obj[8..12].try_into().unwrap()) as usize;
        ends.push(file_of[logical + size - 1] + 1);
        logical += obj.len();
    }
    ends
}

#[test]
fn cut_at_every_offset_reads_the_whole_objects_before_the_cut() {
    let frames = small_set();
    for level in [0, 6] {
        let bytes = write(&frames, opts(level, 100));
        let ends = (level == 0).then(|| object_ends(&bytes, &frames));
        let mut previous = 0;
        for cut in 0..=bytes.len() {
            let part = &bytes[..cut];
            if cut < 144 {
                let err = BlfReader::new(part).err().expect("header is cut");
                assert_eq!(err.code, ErrorCode::TruncatedFile, "cut {cut}");
                continue;
            }
            let (got, truncation) = read_cut(part);
            assert_eq!(
                got[..],
                frames[..got.len()],
                "level {level} cut {cut}: a prefix comes back"
            );
            assert!(
                got.len() >= previous,
                "level {level} cut {cut}: more bytes never give fewer frames"
            );
            previous = got.len();
            if let Some(ends) = &ends {
                let whole = ends.iter().filter(|&&e| e <= cut).count();
                assert_eq!(
                    got.len(),
                    whole,
                    "level 0 cut {cut}: every whole object comes back"
                );
            }
            if cut < bytes.len() {
                let t = truncation
                    .unwrap_or_else(|| panic!("level {level} cut {cut}: truncation reported"));
                assert_eq!(t.file_len, cut as u64);
                assert!(
                    t.object_offset >= 144 && t.object_offset <= cut as u64,
                    "{t:?}"
                );
            } else {
                assert_eq!((got.len(), truncation), (frames.len(), None));
            }
        }
    }
}

#[test]
fn append_continues_after_the_last_whole_object_of_a_cut_file() {
    let frames = small_set();
    let mut extra = vec![
        Frame::classic(0x7E8, false, &[1, 2, 3]),
        Frame::fd(0x7E0, true, &[9; 12], true),
    ];
    for (i, f) in extra.iter_mut().enumerate() {
        f.timestamp_ns = T0 + 10_000_000_000 + i as u64;
    }
    for level in [0, 6] {
        let bytes = write(&frames, opts(level, 100));
        for cut in 144..=bytes.len() {
            let (kept, _) = read_cut(&bytes[..cut]);
            let mut w =
                BlfWriter::append(Cursor::new(bytes[..cut].to_vec()), opts(level, 64)).unwrap();
            w.write_frames(&extra).unwrap();
            let (out, len) = w.finish().unwrap();
            let full = out.into_inner();
            let want: Vec<Frame> = kept.iter().chain(&extra).copied().collect();
            for data in [&full[..], &full[..len as usize]] {
                let (got, truncation) = read_cut(data);
                assert_eq!(truncation, None, "level {level} cut {cut}");
                assert_eq!(got, want, "level {level} cut {cut}");
                let h = *BlfReader::new(data).unwrap().header();
                assert_eq!(h.object_count as usize, want.len());
                assert_eq!(h.file_size, len);
            }
        }
    }
}

#[test]
fn append_to_a_finished_file_keeps_counts_and_start_time() {
    let frames = small_set();
    let bytes = write(&frames, opts(6, 128 * 1024));
    let mut w = BlfWriter::append(Cursor::new(bytes.clone()), BlfWriterOptions::default()).unwrap();
    let mut f = Frame::classic(1, false, &[]);
    f.timestamp_ns = T0 + 99;
    w.write_frame(&f).unwrap();
    let (out, _) = w.finish().unwrap();
    let reader = BlfReader::new(&out.get_ref()[..]).unwrap();
    assert_eq!(reader.header().object_count as usize, frames.len() + 1);
    assert_eq!(reader.start_unix_ns(), T0 - T0 % 1_000_000);
    let (got, _) = read_cut(out.get_ref());
    assert_eq!(got.last(), Some(&f));
}

fn patch_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn zero_and_huge_object_sizes_are_skipped_then_an_error_naming_the_offset() {
    let frames = small_set();
    let bytes = write(&frames, opts(0, 128 * 1024));
    // Inner objects: the first starts at 144 + 32; the second right after it.
    let mut first = Vec::new();
    encode_frame(&frames[0], 0, &mut first).unwrap();
    let second = 144 + 32 + first.len();
    for (at, size, place) in [
        (
            144 + 32,
            0,
            "inner byte offset 0 of the container at byte offset 144",
        ),
        (
            second,
            0,
            &format!(
                "inner byte offset {} of the container at byte offset 144",
                first.len()
            ),
        ),
        (second, 1 << 31, "of the container at byte offset 144"),
        (144, 0, "byte offset 144"),
        (144, 1 << 31, "byte offset 144"),
    ] {
        let mut bad = bytes.clone();
        patch_u32(&mut bad, at + 8, size);
        let mut reader = BlfReader::new(&bad[..]).unwrap();
        let mut items = Vec::new();
        let err = loop {
            match reader.next() {
                Some(Ok(item)) => items.push(item),
                Some(Err(e)) => break e,
                None => panic!("size {size} at {at} accepted"),
            }
        };
        assert_eq!(err.code, ErrorCode::CorruptFile);
        assert!(err.message.contains(place), "{err}");
        assert!(reader.next().is_none(), "the reader stops after an error");
        // Every object but the damaged one comes back: those before it, then
        // those after it, found again at their signatures.
        let expected: Vec<Frame> = frames
            .iter()
            .enumerate()
            .filter(|&(i, _)| match at {
                144 => true,
                a if a == second => i != 1,
                _ => i != 0,
            })
            .map(|(_, f)| *f)
            .collect();
        let got: Vec<Frame> = items
            .iter()
            .map(|item| match item {
                BlfItem::Frame(f) | BlfItem::Error(f, _) => *f,
                other => panic!("not a frame: {other:?}"),
            })
            .collect();
        assert_eq!(got, expected, "size {size} at {at}");
        assert_eq!(reader.stats().damaged, 1);
    }
}
