//! Compression level measurement (run on purpose, not in CI):
//! `cargo test -p canwire-core --release blf::tests::levels -- --ignored --nocapture`

use std::io::Cursor;
use std::time::Instant;

use crate::blf::{BlfReader, BlfWriter, BlfWriterOptions};
use crate::frame::Frame;

/// Bus-like traffic: 60 periodic ids with counters and slowly moving signals,
/// a fifth of them FD, 1 ms ± jitter apart.
fn traffic(n: usize) -> Vec<Frame> {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut ts = 1_700_000_000_000_000_000u64;
    (0..n)
        .map(|i| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            ts += 200_000 + rng % 50_000;
            let k = (i % 60) as u32;
            let counter = (i / 60) as u8;
            let mut data = [0u8; 64];
            data[0] = counter;
            data[1] = (counter / 16).wrapping_add(k as u8);
            data[2..4].copy_from_slice(&((i as u16 / 100).wrapping_mul(3)).to_le_bytes());
            data[4] = (rng >> 32) as u8 & 0x0F;
            let mut f = if k.is_multiple_of(5) {
                Frame::fd(0x100 + k, false, &data[..32], true)
            } else {
                Frame::classic(0x100 + k, false, &data[..8])
            };
            f.timestamp_ns = ts;
            f.channel = k % 2;
            f
        })
        .collect()
}

#[test]
#[ignore = "measurement; run with --ignored --nocapture, ideally with --release"]
fn compression_levels() {
    let frames = traffic(300_000);
    let mut raw = 0;
    for level in [0, 1, 3, 6, 9] {
        let started = Instant::now();
        let mut w = BlfWriter::new(
            Cursor::new(Vec::new()),
            BlfWriterOptions {
                compression_level: level,
                ..Default::default()
            },
        )
        .unwrap();
        w.write_frames(&frames).unwrap();
        let (out, size) = w.finish().unwrap();
        let write = started.elapsed();
        let started = Instant::now();
        let mut reader = BlfReader::new(&out.get_ref()[..]).unwrap();
        let mut batch = Vec::with_capacity(4096);
        let mut n = 0;
        while reader.read_frames(&mut batch, 4096).unwrap() > 0 {
            n += batch.len();
            batch.clear();
        }
        let read = started.elapsed();
        assert_eq!(n, frames.len());
        if level == 0 {
            raw = size;
        }
        let mfps = |d: std::time::Duration| frames.len() as f64 / d.as_secs_f64() / 1e6;
        println!(
            "level {level}: {size} bytes ({:.1}% of level 0), write {write:?} ({:.2} Mframes/s), read {read:?} ({:.2} Mframes/s)",
            100.0 * size as f64 / raw as f64,
            mfps(write),
            mfps(read)
        );
    }
}
