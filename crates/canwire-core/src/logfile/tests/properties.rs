//! Property tests (proptest) for every reader: any bytes, and valid files
//! with bytes flipped, cut or inserted, are read without a panic; text
//! readers only hand out valid frames and never fail (bad lines are counted),
//! the BLF reader ends in a frame stream, a truncation report or a typed error.

use proptest::prelude::*;

use super::roundtrip::every_kind;
use crate::logfile::csv::CsvFlavor;
use crate::logfile::formats::{read_text, text_writer};
use crate::logfile::{LogFormat, WriterOptions};

const TEXT_FORMATS: [LogFormat; 4] = [
    LogFormat::Asc,
    LogFormat::CandumpLog,
    LogFormat::Trc,
    LogFormat::Csv,
];

fn valid_file(format: LogFormat) -> Vec<u8> {
    let mut buf = Vec::new();
    if format == LogFormat::Blf {
        let mut cursor = std::io::Cursor::new(Vec::new());
        let mut w =
            crate::blf::BlfWriter::new(&mut cursor, crate::blf::BlfWriterOptions::default())
                .unwrap();
        w.write_frames(&every_kind()).unwrap();
        w.finish().unwrap();
        return cursor.into_inner();
    }
    let options = WriterOptions {
        csv_flavor: CsvFlavor::Canwire,
        ..WriterOptions::default()
    };
    let mut w = text_writer(&mut buf, format, &options).unwrap();
    w.write_frames(&every_kind()).unwrap();
    w.finish().unwrap();
    drop(w);
    buf
}

/// Reads everything; panics only if a text reader errors or hands out an invalid frame.
fn read_everything(bytes: Vec<u8>, format: LogFormat) {
    let Ok(mut reader) = read_text(std::io::Cursor::new(bytes), format) else {
        assert_eq!(
            format,
            LogFormat::Blf,
            "only a BLF header can be refused up front"
        );
        return;
    };
    let mut out = Vec::new();
    for _ in 0..100_000 {
        out.clear();
        match reader.read_frames(&mut out, 256) {
            Ok(0) => return,
            Ok(_) if format != LogFormat::Blf => out.iter().for_each(|f| f.validate().unwrap()),
            Ok(_) => {}
            Err(e) => {
                assert_eq!(format, LogFormat::Blf, "text readers count bad lines: {e}");
                return;
            }
        }
    }
    panic!("the reader did not end");
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, bits)| Mutation::Flip(at, bits)),
        any::<usize>().prop_map(Mutation::Cut),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..32)
        )
            .prop_map(|(at, b)| Mutation::Insert(at, b)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        match m {
            Mutation::Flip(at, bits) => {
                let i = at % bytes.len();
                bytes[i] ^= bits;
            }
            Mutation::Cut(at) => bytes.truncate(at % bytes.len()),
            Mutation::Insert(at, b) => {
                let i = at % bytes.len();
                bytes.splice(i..i, b.iter().copied());
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_are_read_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), which in 0usize..5) {
        let format = [LogFormat::Blf, TEXT_FORMATS[0], TEXT_FORMATS[1], TEXT_FORMATS[2], TEXT_FORMATS[3]][which];
        read_everything(bytes, format);
    }

    #[test]
    fn mutated_valid_files_are_read_without_panic(which in 0usize..5, mutations in proptest::collection::vec(mutation(), 1..6)) {
        let format = [LogFormat::Blf, TEXT_FORMATS[0], TEXT_FORMATS[1], TEXT_FORMATS[2], TEXT_FORMATS[3]][which];
        read_everything(mutate(valid_file(format), &mutations), format);
    }
}
