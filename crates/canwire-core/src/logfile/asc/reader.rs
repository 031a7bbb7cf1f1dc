//! The ASC reader: header (`date`, `base`, `timestamps`), classic `d`/`r`
//! lines, `CANFD` lines and `ErrorFrame` lines; statistics, status, J1939 and
//! other events are skipped and counted.
//!
//! Timestamps: a frame's `timestamp_ns` is the measurement's start (UTC, see
//! [`date`](super::date)) plus the line's offset; with `timestamps relative`
//! each offset counts from the previous event. The start is the
//! `Begin Triggerblock` date, else the `date` line's, else 0: CANoe writes the
//! same date in both, python-can writes the time of writing in the `date` line
//! and its first frame's time in the trigger block, which its offsets count
//! from (python-can's reader lets the trigger block win too). A `date` line
//! with a one- or two-digit fraction comes from a writer that does not pad
//! milliseconds, so both dates of that file read it as milliseconds.
//!
//! `CANFD` lines carry Vector's flags column (0x1000 EDL, 0x2000 BRS, 0x4000
//! ESI, 0x0010 RTR): a line without EDL is a classic frame sent on an FD
//! channel, so a `CANFD` remote frame reads as a classic remote frame (python-can
//! reads it as an FD frame, which CAN FD does not have). Without the flags
//! column, or with flags 0 (hand-edited files), a `CANFD` line is FD unless its
//! data length is 0 and its DLC is not; more than 8 data bytes are always FD.

use std::io::BufRead;

use super::date::{ShortFraction, has_short_fraction, parse_asc_date_with};
use crate::dlc::{classic_dlc_to_len, fd_dlc_to_len, fd_len_to_dlc};
use crate::frame::{Frame, FrameFlags};
use crate::logfile::LogFormat;
use crate::logfile::text_reader::{LineParser, Parsed, TextReader};
use crate::logfile::time::parse_decimal_ns;

/// Vector's CAN FD flag bits in the flags column of `CANFD` lines.
pub mod fd_flags {
    /// Remote frame.
    pub const RTR: u32 = 0x0010;
    /// Extended data length: an FD frame.
    pub const EDL: u32 = 0x1000;
    /// Bit rate switch.
    pub const BRS: u32 = 0x2000;
    /// Error state indicator.
    pub const ESI: u32 = 0x4000;
}

/// Line parser for ASC files.
#[derive(Debug, Default)]
pub struct AscParser {
    decimal: bool,
    relative: bool,
    date_ns: Option<u64>,
    trigger_ns: Option<u64>,
    /// How the dates' one- or two-digit fractions read (see [`ShortFraction`]).
    short_fraction: ShortFraction,
    last_offset_ns: u64,
}

/// An ASC reader.
pub type AscReader<R> = TextReader<R, AscParser>;

/// Reads an ASC file from any `BufRead` (see [`gz::text_source`](crate::logfile::gz::text_source) for gzip).
pub fn asc_reader<R: BufRead>(src: R) -> AscReader<R> {
    TextReader::new(src, AscParser::default())
}

impl AscParser {
    /// Whether the header said `base dec`.
    pub fn is_decimal(&self) -> bool {
        self.decimal
    }

    /// Whether the header said `timestamps relative`.
    pub fn is_relative(&self) -> bool {
        self.relative
    }

    fn start_ns(&self) -> u64 {
        self.trigger_ns.or(self.date_ns).unwrap_or(0)
    }

    fn number(&self, text: &str) -> Option<u32> {
        let radix = if self.decimal { 10 } else { 16 };
        if text.is_empty() || text.len() > 10 {
            return None;
        }
        u32::from_str_radix(text, radix).ok()
    }

    fn byte(&self, text: &str) -> Option<u8> {
        self.number(text).and_then(|v| u8::try_from(v).ok())
    }

    /// Parses `123` / `1F334455x` (in the file's base).
    fn id(&self, text: &str) -> Option<(u32, bool)> {
        match text.strip_suffix(['x', 'X']) {
            Some(body) => Some((self.number(body)?, true)),
            None => Some((self.number(text)?, false)),
        }
    }

    fn header(&mut self, first: &str, line: &str) -> Option<Parsed> {
        match first.to_ascii_lowercase().as_str() {
            "date" => {
                let text = line.trim_start()[4..].trim();
                if has_short_fraction(text) {
                    self.short_fraction = ShortFraction::Milliseconds;
                }
                return Some(match parse_asc_date_with(text, self.short_fraction) {
                    Some(ns) => {
                        self.date_ns = Some(ns);
                        Parsed::Structure
                    }
                    None => Parsed::Unknown(format!("unreadable date '{text}'")),
                });
            }
            "base" => {
                let lower = line.to_ascii_lowercase();
                let mut words = lower.split_ascii_whitespace();
                while let Some(w) = words.next() {
                    match (w, words.clone().next()) {
                        ("base", Some("dec")) => self.decimal = true,
                        ("base", Some("hex")) => self.decimal = false,
                        ("timestamps", Some("relative")) => self.relative = true,
                        ("timestamps", Some("absolute")) => self.relative = false,
                        _ => {}
                    }
                }
            }
            "begin" => {
                let lower = line.to_ascii_lowercase();
                if let Some(at) = lower.find("triggerblock") {
                    let text = &line[at + "triggerblock".len()..];
                    self.trigger_ns = parse_asc_date_with(text, self.short_fraction);
                }
            }
            "end" | "internal" | "no" => {}
            _ if first.starts_with("//") => {}
            _ => return None,
        }
        Some(Parsed::Structure)
    }

    fn event(&mut self, offset_ns: u64, tokens: &[&str]) -> Parsed {
        let offset = if self.relative {
            self.last_offset_ns.saturating_add(offset_ns)
        } else {
            offset_ns
        };
        self.last_offset_ns = offset;
        let timestamp_ns = self.start_ns().saturating_add(offset);
        let Some(&kind) = tokens.first() else {
            return Parsed::Unknown("a timestamp and nothing else".into());
        };
        let lower = kind.to_ascii_lowercase();
        let result = if lower == "canfd" {
            self.fd_line(&tokens[1..])
        } else if lower == "can" {
            Err(Parsed::Skipped(format!(
                "CAN {} event",
                tokens[1..].join(" ")
            )))
        } else if kind.bytes().all(|c| c.is_ascii_digit()) {
            self.classic_line(kind, &tokens[1..])
        } else if lower == "start" {
            Err(Parsed::Structure)
        } else {
            Err(Parsed::Unknown(format!("unknown event '{kind}'")))
        };
        match result {
            Ok(mut frame) => {
                frame.timestamp_ns = timestamp_ns;
                if !frame.is_fd() {
                    frame.flags.set(FrameFlags::BRS, false);
                    frame.flags.set(FrameFlags::ESI, false);
                }
                match frame.validate() {
                    Ok(()) => Parsed::Frame(frame),
                    Err(e) => Parsed::Unknown(e.message),
                }
            }
            Err(p) => p,
        }
    }

    fn channel(text: &str) -> Result<u32, Parsed> {
        match text.parse::<u32>() {
            Ok(ch) if ch >= 1 => Ok(ch - 1),
            _ => Err(Parsed::Unknown(format!("bad channel '{text}' (1-based)"))),
        }
    }

    fn classic_line(&self, channel: &str, t: &[&str]) -> Result<Frame, Parsed> {
        let channel = Self::channel(channel)?;
        let Some(&what) = t.first() else {
            return Err(Parsed::Unknown("a channel and nothing else".into()));
        };
        let lower = what.to_ascii_lowercase();
        if lower.starts_with("errorframe") {
            let mut f = Frame::default();
            f.flags.set(FrameFlags::ERROR, true);
            f.channel = channel;
            return Ok(f);
        }
        if lower.starts_with("statistic") || lower.starts_with("j1939") {
            return Err(Parsed::Skipped(format!("{what} line")));
        }
        let bad = |why: &str| Parsed::Unknown(why.to_string());
        let (id, extended) = self.id(what).ok_or_else(|| bad("bad id"))?;
        // an optional symbolic name sits between the id and the direction
        let dir_at = (1..t.len().min(3))
            .find(|&i| t[i].eq_ignore_ascii_case("rx") || t[i].eq_ignore_ascii_case("tx"))
            .ok_or_else(|| bad("missing Rx/Tx"))?;
        let tx = t[dir_at].eq_ignore_ascii_case("tx");
        let kind = t.get(dir_at + 1).ok_or_else(|| bad("missing d/r"))?;
        let rest = &t[dir_at + 2..];
        let mut frame = if kind.eq_ignore_ascii_case("r") {
            let dlc = match rest {
                [d, next, ..] if *next != "=" => self.byte(d),
                [d] => self.byte(d),
                _ => None,
            };
            Frame::remote(id, extended, dlc.unwrap_or(0))
        } else if kind.eq_ignore_ascii_case("d") {
            let dlc = rest
                .first()
                .and_then(|d| self.byte(d))
                .ok_or_else(|| bad("bad DLC"))?;
            let len = classic_dlc_to_len(dlc).ok_or_else(|| bad("classic DLC above 15"))?;
            let data = self.data(&rest[1..], len)?;
            let mut f = Frame::classic(id, extended, &data);
            f.dlc = dlc;
            f
        } else {
            return Err(bad("expected d or r after the direction"));
        };
        frame.flags.set(FrameFlags::TX, tx);
        frame.channel = channel;
        Ok(frame)
    }

    fn data(&self, tokens: &[&str], len: u8) -> Result<Vec<u8>, Parsed> {
        let len = usize::from(len);
        if tokens.len() < len {
            return Err(Parsed::Unknown(format!("{len} data bytes expected")));
        }
        tokens[..len]
            .iter()
            .map(|b| self.byte(b))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| Parsed::Unknown("bad data byte".into()))
    }

    fn fd_line(&self, t: &[&str]) -> Result<Frame, Parsed> {
        let bad = |why: &str| Parsed::Unknown(format!("CANFD line: {why}"));
        let [channel, dir, rest @ ..] = t else {
            return Err(bad("missing channel or direction"));
        };
        let channel = Self::channel(channel)?;
        let tx = dir.eq_ignore_ascii_case("tx");
        if !tx && !dir.eq_ignore_ascii_case("rx") {
            return Err(bad("missing Rx/Tx"));
        }
        let first = rest.first().ok_or_else(|| bad("missing id"))?;
        let mut frame = if first.to_ascii_lowercase().starts_with("errorframe") {
            let mut f = Frame::default();
            f.flags.set(FrameFlags::ERROR, true);
            f.flags.set(FrameFlags::FD, true);
            f
        } else {
            let (id, extended) = self.id(first).ok_or_else(|| bad("bad id"))?;
            let named = rest
                .get(1)
                .is_some_and(|s| !s.bytes().all(|c| c.is_ascii_digit()));
            let f = &rest[1 + usize::from(named)..];
            let [brs, esi, dlc, len, data @ ..] = f else {
                return Err(bad("missing BRS, ESI, DLC or data length"));
            };
            let dlc = self
                .byte(dlc)
                .filter(|d| *d <= 15)
                .ok_or_else(|| bad("bad DLC"))?;
            let len: u8 = len.parse().map_err(|_| bad("bad data length"))?;
            let bytes = self.data(data, len)?;
            let flags = data
                .get(usize::from(len) + 2)
                .and_then(|s| u32::from_str_radix(s, 16).ok())
                .filter(|&fl| fl != 0);
            let remote = match flags {
                Some(fl) => fl & fd_flags::RTR != 0,
                None => len == 0 && dlc > 0,
            };
            let fd = len > 8 || flags.map_or(!remote, |fl| fl & fd_flags::EDL != 0);
            let mut f = if remote {
                Frame::remote(id, extended, dlc)
            } else if fd {
                let mut f = Frame::fd(id, extended, &bytes, *brs == "1");
                if fd_dlc_to_len(dlc) == Some(len) {
                    f.dlc = dlc;
                } else if fd_len_to_dlc(len).is_none() {
                    return Err(bad("an FD data length no DLC encodes"));
                }
                f.flags.set(FrameFlags::ESI, *esi == "1");
                f
            } else {
                let mut f = Frame::classic(id, extended, &bytes);
                if len == 8 && dlc > 8 {
                    f.dlc = dlc;
                }
                f
            };
            f.flags.set(FrameFlags::BRS, fd && *brs == "1");
            f
        };
        frame.flags.set(FrameFlags::TX, tx);
        frame.channel = channel;
        Ok(frame)
    }
}

impl LineParser for AscParser {
    fn format(&self) -> LogFormat {
        LogFormat::Asc
    }

    fn parse(&mut self, line: &str) -> Parsed {
        let mut tokens = line.split_ascii_whitespace();
        let Some(first) = tokens.next() else {
            return Parsed::Structure;
        };
        if let Some(offset) = parse_decimal_ns(first) {
            if offset < 0 || offset > i128::from(u64::MAX) {
                return Parsed::Unknown("negative or huge timestamp".into());
            }
            let rest: Vec<&str> = tokens.collect();
            return self.event(offset as u64, &rest);
        }
        self.header(first, line)
            .unwrap_or_else(|| Parsed::Unknown(format!("unknown line starting '{first}'")))
    }

    fn start_time_ns(&self) -> Option<u64> {
        self.trigger_ns.or(self.date_ns)
    }
}
