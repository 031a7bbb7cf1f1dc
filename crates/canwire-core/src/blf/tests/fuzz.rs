//! Pseudo-random inputs: the reader never panics, always ends, and holds bounded memory.

use crate::test_rng::XorShift;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;
use std::time::{Duration, Instant};

use super::roundtrip::{every_kind, write};
use crate::blf::{BlfItem, BlfReader, BlfWriter, BlfWriterOptions};
use crate::frame::Frame;

/// Counts the bytes each thread holds, and the peak since the last reset.
struct CountingAlloc;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = CURRENT.try_with(|c| {
        let now = c.get() + delta;
        c.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call forwards to the system allocator with the same arguments;
// the bookkeeping touches only const-initialized thread-locals.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Peak bytes allocated by this thread while `f` runs, above what it held before.
fn peak_during(f: impl FnOnce()) -> isize {
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    f();
    PEAK.with(Cell::get) - base
}

const MAX_PEAK: isize = 64 << 20;

/// Reads `input` to the end; the number of items is bounded by the input size.
fn read_to_end(input: &[u8]) {
    let Ok(reader) = BlfReader::new(input) else {
        return;
    };
    let mut n = 0;
    for item in reader {
        n += 1;
        assert!(
            n <= input.len() / 16 + 2,
            "more items than the input can hold"
        );
        if item.is_err() {
            break;
        }
    }
}

/// Appends a frame to `input` (if it opens) and reads the result back.
fn append_and_read(input: &[u8]) {
    let Ok(mut w) = BlfWriter::append(Cursor::new(input.to_vec()), BlfWriterOptions::default())
    else {
        return;
    };
    let mut f = Frame::classic(0x7DF, false, &[2, 1, 0]);
    f.timestamp_ns = 1_800_000_000_000_000_000;
    w.write_frame(&f).unwrap();
    let (out, _) = w.finish().unwrap();
    read_to_end(out.get_ref());
    // What the file held before, plus the new frame, reads back without error.
    let items: Vec<_> = BlfReader::new(out.get_ref().as_slice())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        matches!(items.last(), Some(BlfItem::Frame(g)) if *g == f),
        "appended frame is last: {:?}",
        items.last()
    );
}

fn mutate(rng: &mut XorShift, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    let specials = [
        0u32,
        1,
        15,
        16,
        31,
        32,
        0xFFFF_FFFF,
        1 << 31,
        (16 << 20) + 1,
        16 << 20,
    ];
    for _ in 0..1 + rng.index(8) {
        let at = rng.index(v.len());
        match rng.index(4) {
            0 => v[at] ^= 1 << rng.index(8),
            1 => v[at] = rng.next() as u8,
            2 if at + 4 <= v.len() => {
                let value = specials[rng.index(specials.len())];
                v[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
            _ => {
                let len = rng.index(v.len() + 1);
                v.truncate(len.max(1));
            }
        }
    }
    v
}

#[test]
fn random_inputs_never_panic_and_memory_stays_bounded() {
    let frames = every_kind();
    let mut seeds: Vec<Vec<u8>> = [(0, 100), (6, 100), (1, 128 * 1024), (9, 37)]
        .iter()
        .map(|&(level, container)| {
            write(
                &frames,
                BlfWriterOptions {
                    compression_level: level,
                    max_container_size: container,
                    ..Default::default()
                },
            )
        })
        .collect();
    if let Some(dir) = super::fixture_dir() {
        for name in [
            "test_CanMessage.blf",
            "test_CanFdMessage64.blf",
            "test_CanErrorFrameExt.blf",
        ] {
            seeds.push(std::fs::read(dir.join(name)).unwrap());
        }
    }
    let header = seeds[0][..144].to_vec();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let mut worst = 0;
    for i in 0..5000 {
        let input = match i % 3 {
            0 | 1 => {
                let base = &seeds[rng.index(seeds.len())];
                mutate(&mut rng, base)
            }
            _ => {
                // A valid header, then an object header with random fields and random bytes.
                let mut v = header.clone();
                v.extend_from_slice(b"LOBJ");
                let len = rng.index(600);
                v.extend((0..len).map(|_| rng.next() as u8));
                if len >= 12 && rng.index(2) == 0 {
                    v[144 + 12..144 + 16].copy_from_slice(&10u32.to_le_bytes());
                }
                v
            }
        };
        let peak = peak_during(|| read_to_end(&input));
        if i % 5 == 0 {
            append_and_read(&input);
        }
        worst = worst.max(peak);
        assert!(peak < MAX_PEAK, "input {i}: peak {peak} bytes");
    }
    let elapsed = started.elapsed();
    println!("5000 random inputs in {elapsed:?}, worst peak {worst} bytes");
    assert!(elapsed < Duration::from_secs(120), "took {elapsed:?}");
}
