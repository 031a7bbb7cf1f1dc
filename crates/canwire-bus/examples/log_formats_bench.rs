//! Native MF4 and SQLite log throughput for bench/blf/formats.mjs: writes
//! FRAMES frames of one traffic kind to PATH (the format by its extension,
//! `.mf4` at python-can's compression LEVEL 0..2), reads them back, and
//! prints JSON figures.
//!
//! `cargo run --release -p canwire-bus --example log_formats_bench -- PATH FRAMES LEVEL realistic|random`

use std::time::Instant;

use canwire_bus::logfile_io::{create_writer, open_reader};
use canwire_core::Frame;
use canwire_core::logfile::WriterOptions;
use canwire_core::mf4::Mf4Compression;

/// Peak resident set size of this process in kB (Linux), 0 elsewhere.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Frame `i`: 50 cyclic ids with rolling counters every 125 µs, or random
/// ids and data (xorshift), as bench/blf's BLF traffic.
fn frame(i: u64, random: bool, state: &mut u64) -> Frame {
    let mut f = if random {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        Frame::classic((*state >> 40) as u32 & 0x7FF, false, &state.to_le_bytes())
    } else {
        let k = i % 50;
        let c = ((i / 50) as u16).to_le_bytes();
        Frame::classic(
            0x100 + k as u32,
            false,
            &[c[0], c[1], k as u8, 0x11, 0x22, 0x33, 0x44, 0x55],
        )
    };
    f.timestamp_ns = 1_700_000_000_000_000_000 + i * 125_000;
    f
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "/tmp/canwire-bench.mf4".into());
    let frames: u64 = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let level: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(2);
    let random = args.get(4).is_some_and(|k| k == "random");

    let options = WriterOptions {
        mf4: canwire_core::mf4::Mf4WriterOptions {
            compression: Mf4Compression::from_level(level).expect("level 0..2"),
            ..Default::default()
        },
        ..WriterOptions::default()
    };
    let _ = std::fs::remove_file(&path);
    let mut writer = create_writer(&path, &options).expect("writer");
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut batch = Vec::with_capacity(8192);
    let t0 = Instant::now();
    let mut i = 0;
    while i < frames {
        batch.clear();
        let n = 8192.min(frames - i);
        batch.extend((i..i + n).map(|j| frame(j, random, &mut state)));
        writer.write_frames(&batch).expect("write");
        i += n;
    }
    writer.finish().expect("finish");
    let write_s = t0.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).expect("written").len();
    let rss_after_write = peak_rss_kb();

    let t1 = Instant::now();
    let mut reader = open_reader(&path).expect("reader");
    let mut read = 0u64;
    let mut out = Vec::with_capacity(16_384);
    loop {
        out.clear();
        let n = reader.read_frames(&mut out, 16_384).expect("read");
        if n == 0 {
            break;
        }
        read += n as u64;
    }
    let read_s = t1.elapsed().as_secs_f64();
    assert_eq!(read, frames, "read back every frame");
    println!(
        "{{\"frames\":{frames},\"level\":{level},\"traffic\":\"{}\",\"writeFramesPerSecond\":{:.0},\"readFramesPerSecond\":{:.0},\"bytesPerFrame\":{:.3},\"fileBytes\":{bytes},\"peakRssKbAfterWrite\":{rss_after_write},\"peakRssKbAfterRead\":{}}}",
        if random { "random" } else { "realistic" },
        frames as f64 / write_s,
        read as f64 / read_s,
        bytes as f64 / frames as f64,
        peak_rss_kb()
    );
}
