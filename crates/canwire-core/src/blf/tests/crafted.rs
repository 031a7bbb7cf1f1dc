//! Hand-built files for what our writer never emits: v2 headers, 10 µs
//! timestamps, CAN_ERROR, CAN_FD_MESSAGE remote frames, unknown types, bare
//! objects at top level, odd padding, and a source that returns one byte per read.

use std::io::Read;

use super::read_all;
use crate::blf::header::{FileHeader, SystemTime};
use crate::blf::object::object_type as ty;
use crate::blf::{BlfItem, BlfReader, encode_container};
use crate::frame::FrameFlags;

const START: u64 = 1_600_000_000_250_000_000;

fn object(version: u16, object_type: u32, flags: u32, ts: u64, payload: &[u8]) -> Vec<u8> {
    let header_size: u16 = if version == 2 { 40 } else { 32 };
    let mut b = b"LOBJ".to_vec();
    b.extend_from_slice(&header_size.to_le_bytes());
    b.extend_from_slice(&version.to_le_bytes());
    b.extend_from_slice(&(u32::from(header_size) + payload.len() as u32).to_le_bytes());
    b.extend_from_slice(&object_type.to_le_bytes());
    b.extend_from_slice(&flags.to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&ts.to_le_bytes());
    if version == 2 {
        b.extend_from_slice(&[0; 8]);
    }
    b.extend_from_slice(payload);
    b
}

fn file() -> Vec<u8> {
    let mut inner = Vec::new();
    // CAN_MESSAGE, v2 header, ns, channel 2, Tx, extended.
    let mut p = vec![2, 0, 0x01, 2];
    p.extend_from_slice(&(0x8000_0123u32).to_le_bytes());
    p.extend_from_slice(&[0xAB, 0xCD, 0, 0, 0, 0, 0, 0]);
    inner.extend(object(2, ty::CAN_MESSAGE, 2, 1_000, &p));
    // CAN_FD_MESSAGE remote (flags 0x80), v1 10 µs, followed by 3 bytes of odd padding.
    let mut p = vec![1, 0, 0x80, 5];
    p.extend_from_slice(&0x55u32.to_le_bytes());
    p.extend_from_slice(&[0; 76]);
    p[13] = 0x01;
    inner.extend(object(1, ty::CAN_FD_MESSAGE, 1, 7, &p));
    inner.extend_from_slice(&[0, 0, 0]);
    // An unknown type and an unsupported header version, both skipped.
    inner.extend(object(1, 999, 2, 0, &[1, 2, 3, 4]));
    let mut v3 = object(1, ty::CAN_MESSAGE, 2, 0, &[0; 16]);
    v3[6] = 3;
    inner.extend(v3);
    // CAN_ERROR, channel 4.
    inner.extend(object(1, ty::CAN_ERROR, 2, 5_000, &[4, 0, 6, 0]));
    // APP_TEXT.
    let mut p = vec![0u8; 16];
    p[8] = 5;
    p.extend_from_slice(b"hello\0\0\0");
    inner.extend(object(1, ty::APP_TEXT, 2, 9, &p));
    let header = FileHeader {
        start_time: SystemTime::from_unix_ns(START),
        ..FileHeader::default()
    };
    let mut bytes = header.to_bytes().to_vec();
    let (a, b) = inner.split_at(70);
    bytes.extend(encode_container(a, 6).unwrap().bytes);
    bytes.extend(encode_container(b, 0).unwrap().bytes);
    // A bare CAN_MESSAGE at top level after the containers.
    let mut p = vec![1, 0, 0, 1];
    p.extend_from_slice(&0x7u32.to_le_bytes());
    p.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend(object(1, ty::CAN_MESSAGE, 2, 20, &p));
    bytes
}

fn check(items: &[BlfItem]) {
    assert_eq!(items.len(), 5, "{items:?}");
    let BlfItem::Frame(f) = &items[0] else {
        panic!()
    };
    assert_eq!(
        (f.timestamp_ns, f.id, f.channel, f.dlc, f.data()),
        (START + 1_000, 0x123, 1, 2, &[0xAB, 0xCD][..])
    );
    assert_eq!(f.flags.0, FrameFlags::EXTENDED | FrameFlags::TX);
    let BlfItem::Frame(f) = &items[1] else {
        panic!()
    };
    assert_eq!(
        (f.timestamp_ns, f.id, f.len, f.dlc),
        (START + 70_000, 0x55, 0, 5),
        "10 µs units"
    );
    assert_eq!(f.flags.0, FrameFlags::REMOTE | FrameFlags::FD);
    let BlfItem::Error(f, d) = &items[2] else {
        panic!()
    };
    assert_eq!(
        (f.channel, f.flags.0, d.object_type, d.length),
        (3, FrameFlags::ERROR, 2, 6)
    );
    let BlfItem::AppText(t) = &items[3] else {
        panic!()
    };
    assert_eq!((t.text.as_str(), t.timestamp_ns), ("hello", START + 9));
    let BlfItem::Frame(f) = &items[4] else {
        panic!()
    };
    assert_eq!((f.id, f.data()), (7, &[9][..]));
}

#[test]
fn hand_built_file_reads_every_object_kind() {
    let bytes = file();
    check(&read_all(&bytes).unwrap());
    let mut reader = BlfReader::new(&bytes[..]).unwrap();
    for item in reader.by_ref() {
        item.unwrap();
    }
    let stats = reader.stats();
    assert_eq!(
        (stats.objects_read, stats.frames, stats.containers),
        (7, 4, 3)
    );
    assert_eq!(
        (
            stats.skipped_by_type.get(&999),
            stats.skipped_header_version
        ),
        (Some(&1), 1)
    );
    assert_eq!(stats.skipped(), 2);
}

struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some((&first, rest)) = self.0.split_first() else {
            return Ok(0);
        };
        match buf.first_mut() {
            Some(b) => {
                *b = first;
                self.0 = rest;
                Ok(1)
            }
            None => Ok(0),
        }
    }
}

#[test]
fn one_byte_reads_give_the_same_items() {
    let bytes = file();
    let items: Vec<BlfItem> = BlfReader::new(Trickle(&bytes))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    check(&items);
}
