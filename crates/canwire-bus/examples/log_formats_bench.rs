//! Native log-file throughput for bench/blf/run.mjs: writes FRAMES frames of
//! one traffic kind to PATH through `create_writer` (the format by its
//! extension: `.blf` at zlib LEVEL 0..9, `.mf4` at python-can's compression
//! LEVEL 0..2 with its times in ns or us, `.db` ignores LEVEL), reads them
//! back through `open_reader`, and prints JSON figures.
//!
//! `cargo run --release -p canwire-bus --example log_formats_bench -- PATH FRAMES LEVEL realistic|random [ns|us]`

use std::time::Instant;

use canwire_bus::logfile_io::{create_writer, open_reader};
use canwire_core::Frame;
use canwire_core::blf::BlfWriterOptions;
use canwire_core::logfile::WriterOptions;
use canwire_core::mf4::{Mf4Compression, Mf4WriterOptions, TimeResolution};

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
/// ids and data (xorshift); python_can_formats.py makes the same frames.
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
    let blf = path.ends_with(".blf");
    let level: u32 = args
        .get(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(if blf { 6 } else { 2 });
    let random = args.get(4).is_some_and(|k| k == "random");
    let resolution = args.get(5).map_or("ns", String::as_str);

    let options = WriterOptions {
        blf: BlfWriterOptions {
            compression_level: level,
            ..BlfWriterOptions::default()
        },
        mf4: Mf4WriterOptions {
            compression: if blf {
                Mf4Compression::default()
            } else {
                Mf4Compression::from_level(level).expect("MF4 level 0..2")
            },
            time_resolution: TimeResolution::from_name(resolution).expect("ns or us"),
            ..Mf4WriterOptions::default()
        },
        ..WriterOptions::default()
    };
    let _ = std::fs::remove_file(&path);
    let mut writer = create_writer(&path, &options).expect("writer");
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut batch = Vec::with_capacity(8192);
    let mut rss_at_tenth = 0;
    let t0 = Instant::now();
    let mut i = 0;
    while i < frames {
        batch.clear();
        let n = 8192.min(frames - i);
        batch.extend((i..i + n).map(|j| frame(j, random, &mut state)));
        writer.write_frames(&batch).expect("write");
        i += n;
        if rss_at_tenth == 0 && i >= frames / 10 {
            rss_at_tenth = peak_rss_kb();
        }
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
        "{{\"frames\":{frames},\"level\":{level},\"traffic\":\"{}\",\"timeResolution\":\"{resolution}\",\"writeFramesPerSecond\":{:.0},\"readFramesPerSecond\":{:.0},\"bytesPerFrame\":{:.3},\"fileBytes\":{bytes},\"peakRssKbAtTenth\":{rss_at_tenth},\"peakRssKbAfterWrite\":{rss_after_write},\"peakRssKbAfterRead\":{}}}",
        if random { "random" } else { "realistic" },
        frames as f64 / write_s,
        read as f64 / read_s,
        bytes as f64 / frames as f64,
        peak_rss_kb()
    );
}
