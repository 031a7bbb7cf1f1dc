//! Native BLF throughput for bench/blf: writes FRAMES frames of one traffic
//! kind at LEVEL into PATH, reads them back, and prints JSON figures.
//!
//! `cargo run --release -p canwire-core --example blf_bench -- PATH FRAMES LEVEL realistic|random`

use std::fs::File;
use std::io::BufWriter;
use std::time::Instant;

use canwire_core::Frame;
use canwire_core::blf::{BlfReader, BlfWriter, BlfWriterOptions};

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

/// Frame `i` of the traffic: 50 cyclic ids with rolling counters, or random ids and data.
fn frame(i: u64, random: bool, state: &mut u64) -> Frame {
    let t = 1_700_000_000_000_000_000 + i * 125_000;
    let mut f = if random {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let bytes = state.to_le_bytes();
        Frame::classic((*state >> 40) as u32 & 0x7FF, false, &bytes)
    } else {
        let k = i % 50;
        let counter = (i / 50) as u16;
        let c = counter.to_le_bytes();
        Frame::classic(
            0x100 + k as u32,
            false,
            &[c[0], c[1], k as u8, 0x11, 0x22, 0x33, 0x44, 0x55],
        )
    };
    f.timestamp_ns = t;
    f
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "/tmp/canwire-bench.blf".into());
    let frames: u64 = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let level: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(6);
    let random = args.get(4).is_some_and(|k| k == "random");

    let options = BlfWriterOptions {
        compression_level: level,
        ..BlfWriterOptions::default()
    };
    let file = BufWriter::new(File::create(&path).expect("create"));
    let mut writer = BlfWriter::new(file, options).expect("writer");
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut batch = Vec::with_capacity(4096);
    let mut rss_at_tenth = 0;
    let t0 = Instant::now();
    let mut i = 0;
    while i < frames {
        batch.clear();
        let n = 4096.min(frames - i);
        batch.extend((i..i + n).map(|j| frame(j, random, &mut state)));
        writer.write_frames(&batch).expect("write");
        i += n;
        if rss_at_tenth == 0 && i >= frames / 10 {
            rss_at_tenth = peak_rss_kb();
        }
    }
    let (_, bytes) = writer.finish().expect("finish");
    let write_s = t0.elapsed().as_secs_f64();
    let rss_after_write = peak_rss_kb();

    let t1 = Instant::now();
    let mut reader =
        BlfReader::new(std::io::BufReader::new(File::open(&path).expect("open"))).expect("reader");
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
        "{{\"frames\":{frames},\"level\":{level},\"traffic\":\"{}\",\"writeFramesPerSecond\":{:.0},\"readFramesPerSecond\":{:.0},\"bytesPerFrame\":{:.3},\"fileBytes\":{bytes},\"peakRssKbAtTenth\":{rss_at_tenth},\"peakRssKbAfterWrite\":{rss_after_write},\"peakRssKbAfterRead\":{}}}",
        if random { "random" } else { "realistic" },
        frames as f64 / write_s,
        read as f64 / read_s,
        bytes as f64 / frames as f64,
        peak_rss_kb()
    );
}
