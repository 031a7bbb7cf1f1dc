//! Damaged files: every frame outside the damage comes back, the damage is
//! counted with its byte offset, and the read ends with one `ERR_CORRUPT_FILE`.

use std::io::Cursor;

use super::roundtrip::every_kind;
use crate::blf::{BlfWriter, BlfWriterOptions, Damage};
use crate::error::{CanwireError, ErrorCode};
use crate::frame::Frame;
use crate::logfile::blf_adapter::BlfFrameReader;
use crate::logfile::{FrameReader, ReadStats};

/// A file of compressed containers, one per group of frames; returns the bytes
/// and the byte offset of each container.
fn containers(groups: &[&[Frame]]) -> (Vec<u8>, Vec<usize>) {
    let mut w = BlfWriter::new(Cursor::new(Vec::new()), BlfWriterOptions::default()).unwrap();
    let mut offsets = Vec::new();
    for group in groups {
        offsets.push(w.get_ref().get_ref().len());
        w.write_frames(group).unwrap();
        w.flush_container().unwrap();
    }
    let (out, _) = w.finish().unwrap();
    (out.into_inner(), offsets)
}

/// Reads a file in batches of 4096 as the binding does: the frames, the error
/// the read ended with, and the counters.
fn read_batches(bytes: &[u8]) -> (Vec<Frame>, Option<CanwireError>, ReadStats) {
    let mut reader = BlfFrameReader::new(bytes).unwrap();
    let mut frames = Vec::new();
    let error = loop {
        match reader.read_frames(&mut frames, 4096) {
            Ok(0) => break None,
            Ok(_) => {}
            Err(e) => break Some(e),
        }
    };
    let mut after = Vec::new();
    assert_eq!(
        reader.read_frames(&mut after, 4096).unwrap(),
        0,
        "done after the error"
    );
    (frames, error, reader.stats())
}

fn frames3() -> Vec<Frame> {
    every_kind()[..3].to_vec()
}

fn damage_at(stats: &ReadStats) -> Vec<(u64, u64)> {
    stats
        .damage
        .iter()
        .map(|d: &Damage| (d.file_offset, d.skipped_bytes))
        .collect()
}

#[test]
fn a_broken_last_signature_keeps_the_frames_before_it() {
    let f = frames3();
    let (mut bytes, offsets) = containers(&[&f[..2], &f[2..]]);
    let last = bytes.windows(4).rposition(|w| w == b"LOBJ").unwrap();
    assert_eq!(
        last, offsets[1],
        "the last signature is the second container's"
    );
    bytes[last..last + 4].copy_from_slice(b"XXXX");
    let (got, error, stats) = read_batches(&bytes);
    assert_eq!(got, &f[..2]);
    let error = error.expect("the damage is reported");
    assert_eq!(error.code, ErrorCode::CorruptFile);
    assert!(
        error
            .message
            .contains(&format!("byte offset {last}: no object signature")),
        "{error}"
    );
    assert_eq!(stats.frames, 2);
    assert_eq!(stats.damaged, 1);
    assert_eq!(
        damage_at(&stats),
        [(last as u64, (bytes.len() - last) as u64)]
    );
    assert_eq!(stats.truncated, None);
}

#[test]
fn a_bit_flip_in_a_later_container_loses_only_that_container() {
    let all = every_kind();
    let (a, b, c) = (&all[..10], &all[10..20], &all[20..30]);
    let (mut bytes, offsets) = containers(&[a, b, c]);
    // The middle of the second container's zlib data.
    let flip = (offsets[1] + 32 + offsets[2]) / 2;
    bytes[flip] ^= 0x55;
    let (got, error, stats) = read_batches(&bytes);
    assert_eq!(got, [a, c].concat());
    assert_eq!(error.unwrap().code, ErrorCode::CorruptFile);
    assert_eq!(
        damage_at(&stats),
        [(offsets[1] as u64, (offsets[2] - offsets[1]) as u64)]
    );
}

#[test]
fn any_flipped_bit_of_a_containers_zlib_data_loses_that_container_only() {
    let all = every_kind();
    let (a, b, c) = (&all[..10], &all[10..20], &all[20..30]);
    let (bytes, offsets) = containers(&[a, b, c]);
    let size_at = offsets[1] + 8;
    let size = u32::from_le_bytes(bytes[size_at..size_at + 4].try_into().unwrap()) as usize;
    for at in offsets[1] + 32..offsets[1] + size {
        for bit in [0x01u8, 0x10, 0x80] {
            let mut bad = bytes.clone();
            bad[at] ^= bit;
            let (got, error, stats) = read_batches(&bad);
            let what = format!("bit {bit:#x} of byte {at}");
            if stats.damaged == 0 {
                // A padding bit after the last block: the stream is intact.
                assert!(error.is_none(), "{what}");
                assert_eq!(got, all[..30], "{what}");
                continue;
            }
            assert_eq!(
                error.map(|e| e.code),
                Some(ErrorCode::CorruptFile),
                "{what}"
            );
            assert_eq!(stats.damaged, 1, "{what}");
            let damage = &stats.damage[0];
            assert_eq!(damage.file_offset, offsets[1] as u64, "{what}");
            if damage.skipped_bytes == 0 {
                // The flip broke only the end of the stream (e.g. the final-block
                // bit): every byte it held decoded before the break.
                assert!(damage.reason.contains("does not end"), "{what}: {damage:?}");
                assert_eq!(got, all[..30], "{what}");
            } else {
                assert_eq!(got, [a, c].concat(), "{what}");
            }
        }
    }
}

#[test]
fn garbage_appended_after_the_last_container_is_skipped() {
    let all = every_kind();
    let (mut bytes, _) = containers(&[&all[..5], &all[5..9]]);
    let end = bytes.len();
    bytes.extend((0..100u8).map(|i| i.wrapping_mul(13) | 1));
    let (got, error, stats) = read_batches(&bytes);
    assert_eq!(got, &all[..9]);
    let error = error.unwrap();
    assert_eq!(error.code, ErrorCode::CorruptFile);
    assert!(
        error.message.contains(&format!("byte offset {end}")),
        "{error}"
    );
    assert_eq!(damage_at(&stats), [(end as u64, 100)]);
}

#[test]
fn a_bad_size_field_in_the_second_container() {
    let all = every_kind();
    let (a, b, c) = (&all[..10], &all[10..20], &all[20..30]);
    let (bytes, offsets) = containers(&[a, b, c]);
    let size_at = offsets[1] + 8;
    let real = u32::from_le_bytes(bytes[size_at..size_at + 4].try_into().unwrap());
    let patched = |size: u32| {
        let mut bad = bytes.clone();
        bad[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
        read_batches(&bad)
    };
    // Impossible: the container is skipped, the third is found again.
    let (got, error, stats) = patched(0x7FFF_0000);
    assert_eq!(got, [a, c].concat());
    assert_eq!(error.unwrap().code, ErrorCode::CorruptFile);
    assert_eq!(
        damage_at(&stats),
        [(offsets[1] as u64, (offsets[2] - offsets[1]) as u64)]
    );
    // Too large but possible: the zlib data ends first, so nothing is lost.
    let (got, error, stats) = patched(real + 100);
    assert_eq!(got, all[..30]);
    assert!(error.unwrap().message.contains(&format!(
        "container at byte offset {} claims {} bytes but its data ends after {real}",
        offsets[1],
        real + 100
    )));
    assert_eq!(damage_at(&stats), [(offsets[1] as u64, 0)]);
    // Too small: the 8 bytes of zlib data left give no frame and no end; the
    // rest of the second container is skipped up to the third.
    let (got, error, stats) = patched(40);
    assert_eq!(got, [a, c].concat());
    assert_eq!(error.unwrap().code, ErrorCode::CorruptFile);
    let cut = offsets[1] + 40;
    assert_eq!(
        damage_at(&stats),
        [
            (offsets[1] as u64, 0),
            (cut as u64, (offsets[2] - cut) as u64)
        ]
    );
    assert!(stats.damage[0].reason.contains("does not end"));
}

#[test]
fn an_undamaged_file_reads_without_error() {
    let all = every_kind();
    let (bytes, _) = containers(&[&all[..10], &all[10..]]);
    let (got, error, stats) = read_batches(&bytes);
    assert_eq!(got, all);
    assert!(error.is_none());
    assert_eq!((stats.damaged, stats.damaged_bytes), (0, 0));
}
