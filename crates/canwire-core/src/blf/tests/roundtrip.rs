//! Write → read identity for every frame kind, timestamps, channels, levels and
//! container cuts in the middle of objects.

use std::io::Cursor;

use super::read_all;
use crate::blf::{BlfItem, BlfReader, BlfWriter, BlfWriterOptions, GlobalMarker};
use crate::dlc::FD_LENGTHS;
use crate::error::ErrorCode;
use crate::frame::{Frame, FrameFlags};
use crate::test_fixtures::error_frame;

pub(super) use crate::test_fixtures::T0;

/// One frame of every kind BLF holds (remote DLCs up to 15, classic and FD
/// error frames with data; see [`crate::test_fixtures::every_kind`]).
pub(super) fn every_kind() -> Vec<Frame> {
    let mut errors = vec![
        error_frame(0x1FFF_FFFF, true, &[1, 2, 3, 4, 5, 6, 7, 8]),
        error_frame(0x7, false, &[]),
    ];
    for len in [0u8, 12, 64] {
        let mut e = Frame::fd(0x55, false, &vec![0xEE; len as usize], len == 12);
        e.flags.set(FrameFlags::ERROR, true);
        e.flags.set(FrameFlags::ESI, len == 64);
        errors.push(e);
    }
    crate::test_fixtures::every_kind(15, &errors)
}

pub(super) fn write(frames: &[Frame], options: BlfWriterOptions) -> Vec<u8> {
    let mut w = BlfWriter::new(Cursor::new(Vec::new()), options).unwrap();
    w.write_frames(frames).unwrap();
    let (out, len) = w.finish().unwrap();
    let bytes = out.into_inner();
    assert_eq!(len, bytes.len() as u64);
    bytes
}

pub(super) fn frames_of(bytes: &[u8]) -> Vec<Frame> {
    read_all(bytes)
        .unwrap()
        .into_iter()
        .filter_map(|item| match item {
            BlfItem::Frame(f) | BlfItem::Error(f, _) => Some(f),
            BlfItem::Truncated(t) => panic!("unexpected truncation {t:?}"),
            _ => None,
        })
        .collect()
}

fn opts(level: u32, container: usize) -> BlfWriterOptions {
    BlfWriterOptions {
        compression_level: level,
        max_container_size: container,
        ..BlfWriterOptions::default()
    }
}

#[test]
fn every_kind_round_trips_at_every_level_and_container_size() {
    let frames = every_kind();
    for level in [0, 1, 6, 9] {
        for container in [1, 7, 33, 100, 4096, 128 * 1024] {
            let bytes = write(&frames, opts(level, container));
            assert_eq!(
                frames_of(&bytes),
                frames,
                "level {level}, container {container}"
            );
            let reader = BlfReader::new(&bytes[..]).unwrap();
            let h = *reader.header();
            assert_eq!(h.object_count as usize, frames.len());
            assert_eq!(h.file_size, bytes.len() as u64);
            assert_eq!(
                h.start_unix_ns(),
                T0 - T0 % 1_000_000,
                "start = first frame truncated to ms"
            );
            let last = frames.last().unwrap().timestamp_ns;
            assert_eq!(h.stop_time.to_unix_ns(), Some(last - last % 1_000_000));
        }
    }
}

#[test]
fn objects_span_container_boundaries() {
    let frames = every_kind();
    let bytes = write(&frames, opts(0, 50));
    let mut reader = BlfReader::new(&bytes[..]).unwrap();
    let mut out = Vec::new();
    while reader.read_frames(&mut out, 3).unwrap() > 0 {}
    assert_eq!(out, frames);
    let stats = reader.stats();
    assert!(stats.containers as usize > frames.len(), "{stats:?}");
    // The uncompressed size adds up: header + Σ(32 + block) over the containers.
    let raw: u64 = bytes.len() as u64; // level 0: container payloads are raw
    let h = reader.header();
    assert!(h.uncompressed_size <= raw && h.uncompressed_size > raw - 4 * stats.containers);
}

#[test]
fn all_65_fd_lengths_valid_ones_written_others_rejected() {
    let mut w = BlfWriter::new(Cursor::new(Vec::new()), opts(6, 1000)).unwrap();
    let mut written = Vec::new();
    for len in 0..=64u8 {
        let data: Vec<u8> = (0..len).collect();
        let mut f = Frame::fd(0x42, false, &data, true);
        f.timestamp_ns = T0 + u64::from(len);
        f.channel = 3;
        let pending = w.pending_len();
        match w.write_frame(&f) {
            Ok(()) => written.push(f),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::InvalidFdLength, "len {len}");
                assert_eq!(
                    w.pending_len(),
                    pending,
                    "nothing written for a rejected frame"
                );
                assert!(!FD_LENGTHS.contains(&len));
            }
        }
    }
    assert_eq!(written.len(), 16);
    let (out, _) = w.finish().unwrap();
    let read = frames_of(out.get_ref());
    assert_eq!(read, written);
    for f in &read {
        assert_eq!(Some(f.dlc), crate::dlc::fd_len_to_dlc(f.len));
    }
}

#[test]
fn writer_rejects_what_blf_cannot_hold() {
    let mut w = BlfWriter::new(Cursor::new(Vec::new()), opts(6, 1000)).unwrap();
    let mut f = Frame::fd(1, false, &[0; 8], false);
    f.channel = 255;
    assert_eq!(
        w.write_frame(&f).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    let mut f = Frame::classic(1, false, &[0; 8]);
    f.channel = 65535;
    assert_eq!(
        w.write_frame(&f).unwrap_err().code,
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        w.write_frame(&Frame::classic(1 << 29, true, &[]))
            .unwrap_err()
            .code,
        ErrorCode::IdOutOfRange
    );
    let mut f = Frame::classic(1, false, &[1, 2]);
    f.dlc = 1;
    assert_eq!(w.write_frame(&f).unwrap_err().code, ErrorCode::DlcMismatch);
    assert_eq!(w.header().object_count, 0);
    assert!(BlfWriter::new(Cursor::new(Vec::new()), opts(10, 1000)).is_err());
    assert!(BlfWriter::new(Cursor::new(Vec::new()), opts(1, 0)).is_err());
}

#[test]
fn nanoseconds_survive_and_start_time_can_be_given() {
    let mut frames = Vec::new();
    for (i, ns) in [T0, T0 + 1, T0 + 999_999, T0 + 86_400_000_000_001]
        .into_iter()
        .enumerate()
    {
        let mut f = Frame::classic(i as u32, false, &[i as u8]);
        f.timestamp_ns = ns;
        frames.push(f);
    }
    assert_eq!(frames_of(&write(&frames, opts(6, 128 * 1024))), frames);
    let start = T0 - 5_000_000_000;
    let bytes = write(
        &frames,
        BlfWriterOptions {
            start_time_ns: Some(start),
            ..opts(1, 4096)
        },
    );
    assert_eq!(frames_of(&bytes), frames);
    assert_eq!(
        BlfReader::new(&bytes[..]).unwrap().start_unix_ns(),
        start - start % 1_000_000
    );
}

#[test]
fn metadata_round_trips_and_is_set_aside_in_batches() {
    let marker = GlobalMarker {
        timestamp_ns: T0 + 5,
        event_type: 1,
        foreground_color: 0xFF,
        background_color: 0xFF00,
        relocatable: true,
        group_name: "group".into(),
        marker_name: "mark".into(),
        description: "a marker, ünïcode".into(),
    };
    let mut w = BlfWriter::new(Cursor::new(Vec::new()), opts(6, 64)).unwrap();
    let mut f = Frame::classic(0x10, false, &[1]);
    f.timestamp_ns = T0;
    w.write_frame(&f).unwrap();
    w.write_app_text(T0 + 3, 0, "comment text").unwrap();
    w.write_marker(&marker).unwrap();
    w.flush_container().unwrap();
    w.write_frame(&f).unwrap();
    let (out, _) = w.finish().unwrap();
    let items = read_all(out.get_ref()).unwrap();
    assert_eq!(items.len(), 4);
    let BlfItem::AppText(t) = &items[1] else {
        panic!("{items:?}")
    };
    assert_eq!(
        (t.timestamp_ns, t.source, t.text.as_str()),
        (T0 + 3, 0, "comment text")
    );
    assert_eq!(items[2], BlfItem::Marker(marker));
    let mut reader = BlfReader::new(&out.get_ref()[..]).unwrap();
    let mut frames = Vec::new();
    assert_eq!(reader.read_frames(&mut frames, 10).unwrap(), 2);
    assert!(matches!(reader.pop_event(), Some(BlfItem::AppText(_))));
    assert!(matches!(reader.pop_event(), Some(BlfItem::Marker(_))));
    assert_eq!(reader.pop_event(), None);
    assert_eq!(reader.stats().objects_read, 4);
}

#[test]
fn flush_container_makes_a_readable_file_before_finish() {
    let frames = every_kind();
    let mut w = BlfWriter::new(Cursor::new(Vec::new()), opts(6, 128 * 1024)).unwrap();
    w.write_frames(&frames[..10]).unwrap();
    w.flush_container().unwrap();
    assert_eq!(w.pending_len(), 0);
    // What a crash would leave on disk now: whole, with a current header.
    let snapshot = w.get_ref().get_ref().clone();
    assert_eq!(frames_of(&snapshot), &frames[..10]);
    assert_eq!(
        BlfReader::new(&snapshot[..]).unwrap().header().object_count,
        10
    );
    w.write_frames(&frames[10..]).unwrap();
    let (out, _) = w.finish().unwrap();
    assert_eq!(frames_of(out.get_ref()), frames);
}
