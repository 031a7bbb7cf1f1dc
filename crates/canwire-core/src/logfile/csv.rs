//! CSV logs in two flavors, told apart by the header line.
//!
//! - python-can's: `timestamp,arbitration_id,extended,remote,error,dlc,data`,
//!   seconds as a decimal, the id as hex (`0x123`), flags `0`/`1`, data base64.
//!   No FD, BRS, ESI, channel or direction: frames of more than 8 bytes read
//!   back as FD (without BRS/ESI), everything reads as channel 0, received.
//! - canwire's: `timestamp_ns,channel,id,extended,remote,error,fd,brs,esi,tx,dlc,data`,
//!   integer ns, 0-based channel, hex id, flags `0`/`1`, raw DLC, data hex. Lossless.

use std::fmt::Write as _;
use std::io::BufRead;

use crate::error::Result;
use crate::frame::{Frame, FrameFlags};
use crate::logfile::gz::TextSink;
use crate::logfile::text_reader::{LineParser, Parsed, TextReader};
use crate::logfile::text_writer::LineSink;
use crate::logfile::time::{format_seconds, parse_decimal_ns};
use crate::logfile::{FrameWriter, LogFormat};

/// python-can's header line.
pub const PYTHON_HEADER: &str = "timestamp,arbitration_id,extended,remote,error,dlc,data";
/// canwire's header line.
pub const CANWIRE_HEADER: &str =
    "timestamp_ns,channel,id,extended,remote,error,fd,brs,esi,tx,dlc,data";

/// Which columns a CSV file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CsvFlavor {
    /// python-can's seven columns.
    Python,
    /// canwire's lossless columns.
    #[default]
    Canwire,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` if invalid or longer than `max` bytes.
pub fn base64_decode(text: &str, max: usize) -> Option<Vec<u8>> {
    let body = text.trim_end_matches('=');
    if body.len() % 4 == 1 || body.len() > max.div_ceil(3) * 4 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in body.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    (out.len() <= max).then_some(out)
}

fn flag(text: &str) -> Option<bool> {
    match text {
        "1" | "True" | "true" => Some(true),
        "0" | "False" | "false" | "" => Some(false),
        _ => None,
    }
}

/// Line parser for CSV files.
#[derive(Debug, Default)]
pub struct CsvParser {
    flavor: Option<CsvFlavor>,
}

/// A CSV reader.
pub type CsvReader<R> = TextReader<R, CsvParser>;

/// Reads a CSV file from any `BufRead` (see [`gz::text_source`](crate::logfile::gz::text_source) for gzip).
pub fn csv_reader<R: BufRead>(src: R) -> CsvReader<R> {
    TextReader::new(src, CsvParser::default())
}

impl CsvParser {
    /// The flavor the header named (python-can's if the first line was no known header).
    pub fn flavor(&self) -> Option<CsvFlavor> {
        self.flavor
    }

    fn python(cols: &[&str]) -> Option<Frame> {
        let [ts, id, ext, rtr, err, dlc, data] = cols[..] else {
            return None;
        };
        let ts = u64::try_from(parse_decimal_ns(ts)?).ok()?;
        let id =
            u32::from_str_radix(id.trim_start_matches("0x").trim_start_matches("0X"), 16).ok()?;
        let (ext, rtr, err) = (flag(ext)?, flag(rtr)?, flag(err)?);
        let dlc: u8 = dlc.parse().ok()?;
        let bytes = base64_decode(data, 64)?;
        let mut f = if rtr {
            Frame::remote(id, ext, dlc)
        } else if bytes.len() > 8 {
            Frame::fd(id, ext, &bytes, false)
        } else {
            let mut f = Frame::classic(id, ext, &bytes);
            if bytes.len() == 8 && dlc > 8 {
                f.dlc = dlc;
            }
            f
        };
        f.flags.set(FrameFlags::ERROR, err);
        f.timestamp_ns = ts;
        Some(f)
    }

    fn canwire(cols: &[&str]) -> Option<Frame> {
        let [ts, ch, id, ext, rtr, err, fd, brs, esi, tx, dlc, data] = cols[..] else {
            return None;
        };
        let mut f = Frame {
            timestamp_ns: ts.parse().ok()?,
            channel: ch.parse().ok()?,
            id: u32::from_str_radix(id, 16).ok()?,
            dlc: dlc.parse().ok()?,
            ..Frame::default()
        };
        for (bit, text) in [
            (FrameFlags::EXTENDED, ext),
            (FrameFlags::REMOTE, rtr),
            (FrameFlags::ERROR, err),
            (FrameFlags::FD, fd),
            (FrameFlags::BRS, brs),
            (FrameFlags::ESI, esi),
            (FrameFlags::TX, tx),
        ] {
            f.flags.set(bit, flag(text)?);
        }
        if data.len() % 2 != 0 || data.len() > 128 {
            return None;
        }
        for (i, pair) in data.as_bytes().chunks(2).enumerate() {
            f.data[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        f.len = (data.len() / 2) as u8;
        Some(f)
    }
}

impl LineParser for CsvParser {
    fn format(&self) -> LogFormat {
        LogFormat::Csv
    }

    fn parse(&mut self, line: &str) -> Parsed {
        let line = line.trim();
        if line.is_empty() {
            return Parsed::Structure;
        }
        let Some(flavor) = self.flavor else {
            let (flavor, parsed) = match line {
                PYTHON_HEADER => (CsvFlavor::Python, Parsed::Structure),
                CANWIRE_HEADER => (CsvFlavor::Canwire, Parsed::Structure),
                _ => (
                    CsvFlavor::Python,
                    Parsed::Unknown("not a known CSV header".into()),
                ),
            };
            self.flavor = Some(flavor);
            return parsed;
        };
        let cols: Vec<&str> = line.split(',').take(13).map(str::trim).collect();
        let frame = match flavor {
            CsvFlavor::Python => Self::python(&cols),
            CsvFlavor::Canwire => Self::canwire(&cols),
        };
        match frame.map(|f| f.validate().map(|()| f)) {
            Some(Ok(f)) => Parsed::Frame(f),
            Some(Err(e)) => Parsed::Unknown(e.message),
            None => Parsed::Unknown(format!("not a {flavor:?} CSV row")),
        }
    }
}

/// Writes CSV files in either flavor.
pub struct CsvWriter<W: TextSink> {
    sink: LineSink<W>,
    flavor: CsvFlavor,
    header_written: bool,
}

impl<W: TextSink> CsvWriter<W> {
    /// A writer of `flavor`'s columns.
    pub fn new(out: W, flavor: CsvFlavor) -> Self {
        Self {
            sink: LineSink::new(out, "CSV"),
            flavor,
            header_written: false,
        }
    }

    /// The sink, after [`finish`](FrameWriter::finish).
    pub fn into_inner(self) -> W {
        self.sink.into_inner()
    }

    fn header(&mut self) -> Result<()> {
        if !self.header_written {
            self.header_written = true;
            let h = match self.flavor {
                CsvFlavor::Python => PYTHON_HEADER,
                CsvFlavor::Canwire => CANWIRE_HEADER,
            };
            self.sink.write(&format!("{h}\n"))?;
        }
        Ok(())
    }
}

impl<W: TextSink> FrameWriter for CsvWriter<W> {
    fn write_frame(&mut self, f: &Frame) -> Result<()> {
        self.sink.check_open()?;
        f.validate()?;
        self.header()?;
        let b = |bit: u32| u8::from(f.flags.has(bit));
        let flavor = self.flavor;
        self.sink.write_line(|line| match flavor {
            CsvFlavor::Python => {
                let dlc = if f.is_fd() { f.len } else { f.dlc };
                let _ = write!(
                    line,
                    "{},{:#x},{},{},{},{dlc},{}",
                    format_seconds(f.timestamp_ns, 9),
                    f.id,
                    b(FrameFlags::EXTENDED),
                    b(FrameFlags::REMOTE),
                    b(FrameFlags::ERROR),
                    base64_encode(f.data())
                );
            }
            CsvFlavor::Canwire => {
                let _ = write!(
                    line,
                    "{},{},{:X},{},{},{},{},{},{},{},{},",
                    f.timestamp_ns,
                    f.channel,
                    f.id,
                    b(FrameFlags::EXTENDED),
                    b(FrameFlags::REMOTE),
                    b(FrameFlags::ERROR),
                    b(FrameFlags::FD),
                    b(FrameFlags::BRS),
                    b(FrameFlags::ESI),
                    b(FrameFlags::TX),
                    f.dlc
                );
                for byte in f.data() {
                    let _ = write!(line, "{byte:02X}");
                }
            }
        })
    }

    fn flush(&mut self) -> Result<()> {
        self.sink.flush()
    }

    fn finish(&mut self) -> Result<()> {
        if self.sink.is_finished() {
            return Ok(());
        }
        self.header()?;
        self.sink.finish("")
    }

    fn format(&self) -> LogFormat {
        LogFormat::Csv
    }
}
