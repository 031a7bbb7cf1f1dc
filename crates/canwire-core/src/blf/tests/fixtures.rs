//! The BLF files from python-can's test data (written by Vector's binlog library
//! for vector_blf), read with the values python-can's test suite expects.

use super::{fixture_dir, read_all};
use crate::blf::{BlfItem, BlfReader};
use crate::frame::{Frame, FrameFlags};

/// 0x2222222222222222 ns after a zero start time: python-can's 2459565876.494607 s.
const TS: u64 = 0x2222_2222_2222_2222;

fn frames(name: &str) -> Option<Vec<Frame>> {
    let dir = fixture_dir()?;
    let bytes = std::fs::read(dir.join(name)).expect("fixture readable");
    let mut reader = BlfReader::new(&bytes[..]).expect("header");
    let mut out = Vec::new();
    while reader.read_frames(&mut out, 1).expect("read") == 1 {}
    assert_eq!(reader.truncation(), None, "{name} is whole");
    let stats = reader.stats();
    // Each file also holds two RESTORE_POINT_CONTAINER (115) objects, skipped and counted.
    assert_eq!(
        stats.skipped_by_type.get(&115),
        Some(&2),
        "{name}: {stats:?}"
    );
    assert_eq!(stats.objects_read, 4, "{name}");
    assert_eq!(stats.containers, 2, "{name}");
    assert_eq!(reader.header().object_count, 2, "{name}");
    assert!(reader.header().start_time.is_zero());
    assert_eq!(reader.header().file_size, bytes.len() as u64);
    Some(out)
}

fn flags(f: &Frame) -> u32 {
    f.flags.0
}

#[test]
fn can_message_keeps_raw_dlc_and_one_based_channel() {
    for name in ["test_CanMessage.blf", "test_CanMessage2.blf"] {
        let Some(frames) = frames(name) else { return };
        assert_eq!(frames.len(), 2);
        for f in &frames {
            assert_eq!(f.timestamp_ns, TS);
            assert_eq!(f.id, 0x444_4444);
            assert_eq!(flags(f), 0, "standard id, Rx, not remote");
            assert_eq!(f.dlc, 0x33, "raw DLC kept");
            assert_eq!(f.len, 8);
            assert_eq!(f.channel, 0x1110);
            assert_eq!(f.data(), [0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC]);
        }
    }
}

#[test]
fn can_fd_message_has_64_bytes_brs_and_esi() {
    let Some(frames) = frames("test_CanFdMessage.blf") else {
        return;
    };
    assert_eq!(frames.len(), 2);
    let data: Vec<u8> = (0..64).collect();
    for f in &frames {
        assert_eq!(f.timestamp_ns, TS);
        assert_eq!(f.id, 0x444_4444);
        assert_eq!(flags(f), FrameFlags::FD | FrameFlags::BRS | FrameFlags::ESI);
        assert_eq!(f.dlc, 0x33);
        assert_eq!(f.channel, 0x1110);
        assert_eq!(f.data(), &data[..]);
    }
}

#[test]
fn can_fd_message_64_is_a_tx_remote_frame() {
    let Some(frames) = frames("test_CanFdMessage64.blf") else {
        return;
    };
    assert_eq!(frames.len(), 2);
    for f in &frames {
        assert_eq!(f.timestamp_ns, TS);
        assert_eq!(
            f.id, 0x1555_5555,
            "bit 31 clear: standard format, masked to 29 bits"
        );
        let want = FrameFlags::REMOTE
            | FrameFlags::FD
            | FrameFlags::BRS
            | FrameFlags::ESI
            | FrameFlags::TX;
        assert_eq!(flags(f), want);
        assert_eq!(f.dlc, 0x22);
        assert_eq!(f.len, 0, "a remote frame carries no data");
        assert_eq!(f.channel, 0x10);
    }
}

#[test]
fn can_error_frame_ext_keeps_id_dlc_and_details() {
    let Some(dir) = fixture_dir() else { return };
    let bytes = std::fs::read(dir.join("test_CanErrorFrameExt.blf")).unwrap();
    let items = read_all(&bytes).unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        let BlfItem::Error(f, d) = item else {
            panic!("{item:?}")
        };
        assert_eq!(f.timestamp_ns, TS);
        assert_eq!(f.id, 0x1999_9999);
        assert_eq!(
            flags(&f),
            FrameFlags::ERROR | FrameFlags::EXTENDED,
            "flagsExt 0xAAAA: Rx"
        );
        assert_eq!(f.dlc, 0x66);
        assert_eq!(f.channel, 0x1110);
        assert_eq!(f.data(), [0xCC, 0xDD, 0xEE, 0xFF, 0x11, 0x22, 0x33, 0x44]);
        assert_eq!(
            (d.object_type, d.length, d.flags),
            (73, 0x2222, 0x3333_3333)
        );
        assert_eq!(
            (d.ecc, d.position, d.frame_length_ns, d.flags_ext),
            (0x44, 0x55, 0x8888_8888, 0xAAAA)
        );
    }
}
