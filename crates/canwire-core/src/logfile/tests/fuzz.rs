//! Random and broken input: every reader counts what it cannot read and never
//! panics; lines are capped, so memory stays bounded.

use std::io::Write;

use super::roundtrip::every_kind;
use crate::logfile::csv::CsvFlavor;
use crate::logfile::formats::{read_text, text_writer};
use crate::logfile::gz::gzip_sink;
use crate::logfile::{IssueKind, LogFormat, MAX_LINE_BYTES, WriterOptions};

use crate::test_rng::XorShift;

const TEXT_FORMATS: [LogFormat; 4] = [
    LogFormat::Asc,
    LogFormat::CandumpLog,
    LogFormat::Trc,
    LogFormat::Csv,
];

fn written(format: LogFormat, flavor: CsvFlavor) -> Vec<u8> {
    let options = WriterOptions {
        csv_flavor: flavor,
        ..WriterOptions::default()
    };
    let mut buf = Vec::new();
    {
        let mut w = text_writer(&mut buf, format, &options).unwrap();
        w.write_frames(&every_kind()).unwrap();
        w.finish().unwrap();
    }
    buf
}

fn seeds(format: LogFormat) -> Vec<Vec<u8>> {
    let mut seeds = vec![written(format, CsvFlavor::Python)];
    if format == LogFormat::Csv {
        seeds.push(written(format, CsvFlavor::Canwire));
    }
    let ext = match format {
        LogFormat::Asc => ".asc",
        LogFormat::Trc => ".trc",
        _ => return seeds,
    };
    if let Some(dir) = super::fixture_dir() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(ext) {
                seeds.push(std::fs::read(path).unwrap());
            }
        }
    }
    seeds
}

fn mutate(rng: &mut XorShift, input: &mut Vec<u8>) {
    const TOKENS: [&[u8]; 12] = [
        b" ",
        b"\n",
        b"x",
        b"CANFD",
        b"ErrorFrame",
        b";$FILEVERSION=2.0",
        b"#",
        b"##",
        b"FFFFFFFFFFFFFFFFFFFFFFFF",
        b"-",
        b",",
        b"99999999999999999999.9",
    ];
    for _ in 0..1 + rng.index(8) {
        let at = rng.index(input.len() + 1);
        match rng.index(6) {
            0 if !input.is_empty() => {
                let i = at.min(input.len() - 1);
                input[i] = rng.next() as u8;
            }
            1 => input
                .splice(at..at, TOKENS[rng.index(TOKENS.len())].iter().copied())
                .for_each(drop),
            2 => {
                let end = (at + rng.index(40)).min(input.len());
                input.drain(at..end);
            }
            3 => input.truncate(at),
            4 => {
                let n = rng.index(64);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                input.splice(at..at, bytes).for_each(drop);
            }
            _ => {
                let end = (at + rng.index(200)).min(input.len());
                let copy = input[at..end].to_vec();
                input.splice(at..at, copy).for_each(drop);
            }
        }
    }
}

fn read_all(bytes: Vec<u8>, format: LogFormat) -> crate::logfile::ReadStats {
    let mut r = read_text(std::io::Cursor::new(bytes), format).unwrap();
    let mut out = Vec::new();
    loop {
        out.clear();
        match r.read_frames(&mut out, 64) {
            Ok(0) => break,
            Ok(_) => out.iter().for_each(|f| f.validate().unwrap()),
            Err(e) => panic!("text readers only fail on I/O errors: {e}"),
        }
    }
    r.stats()
}

#[test]
fn mutated_inputs_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let started = std::time::Instant::now();
    for format in TEXT_FORMATS {
        let seeds = seeds(format);
        for i in 0..2_500 {
            let mut input = seeds[i % seeds.len()].clone();
            mutate(&mut rng, &mut input);
            if i % 10 == 0 {
                // the same bytes behind gzip, sometimes cut short
                let mut gz = gzip_sink(Vec::new(), 1);
                gz.write_all(&input).unwrap();
                let mut gz = gz.finish().unwrap();
                if i % 20 == 0 {
                    gz.truncate(rng.index(gz.len()));
                }
                read_all(gz, format);
            }
            let stats = read_all(input, format);
            assert!(stats.issues.len() <= 2 * crate::logfile::MAX_RECORDED_ISSUES);
        }
    }
    assert!(
        started.elapsed().as_secs() < 120,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn random_bytes_and_huge_lines_stay_bounded() {
    let mut rng = XorShift(42);
    for format in TEXT_FORMATS {
        let noise: Vec<u8> = (0..200_000).map(|_| rng.next() as u8).collect();
        read_all(noise, format);
        // 4 MB without a newline: one line, capped, counted as unknown
        let stats = read_all(vec![b'7'; 4 << 20], format);
        assert_eq!(stats.lines, 1);
        assert!(
            stats.unknown == 1 || stats.truncated.is_some(),
            "{format:?} {stats:?}"
        );
        let _ = MAX_LINE_BYTES;
    }
}

#[test]
fn cut_files_report_truncation_with_the_line() {
    for format in TEXT_FORMATS {
        let full = written(format, CsvFlavor::Canwire);
        let lines = full.iter().filter(|&&b| b == b'\n').count() as u64;
        // cut inside the last frame line (before the trailer for ASC)
        let cut_at = full.len() - if format == LogFormat::Asc { 30 } else { 12 };
        let stats = read_all(full[..cut_at].to_vec(), format);
        let t = stats
            .truncated
            .clone()
            .unwrap_or_else(|| panic!("{format:?}: {stats:?}"));
        assert_eq!(t.line, Some(stats.lines), "{format:?}");
        assert!(stats.lines <= lines);
        assert_eq!(stats.issue_lines(IssueKind::Unknown), Vec::<u64>::new());

        let mut gz = gzip_sink(Vec::new(), 6);
        gz.write_all(&full).unwrap();
        let gz = gz.finish().unwrap();
        let stats = read_all(gz[..gz.len() - 20].to_vec(), format);
        assert!(stats.truncated.is_some(), "{format:?} gzip cut: {stats:?}");
        assert!(stats.frames > 0);
    }
}
