//! The TRC reader for PEAK file versions 1.0, 1.1, 1.2, 1.3, 2.0 and 2.1.
//!
//! Line layouts (after the message number `N` or `N)` and the offset in ms):
//!
//! | version | columns |
//! |---|---|
//! | 1.0 | `ID DLC data` (no type: every line a received frame) |
//! | 1.1 | `Type ID DLC data` |
//! | 1.2 | `Bus Type ID DLC data` |
//! | 1.3 | `Bus Type ID - DLC data` (a reserved column) |
//! | 2.x | as `;$COLUMNS=` says (default 2.0 `N,O,T,I,d,l,D`, 2.1 `N,O,T,B,I,d,R,L,D`) |
//!
//! 1.x types: `Rx`, `Tx`, `Error` (an error frame), `Warng` (skipped); data `RTR`
//! marks a remote frame; id `FFFFFFFF` is a bus-info line (skipped). 2.x types:
//! `DT` data, `FD` FD, `FB` FD+BRS, `FE` FD+ESI, `BI` FD+BRS+ESI, `RR` remote,
//! `ER` error frame; `ST`, `EC`, `EV` and others are skipped. Ids of more than 4
//! hex digits are extended. Channels: `Bus` is 1-based; files without it are channel 0.
//!
//! Time: `;$STARTTIME` (days since 1899-12-30, read as UTC, rounded to the µs,
//! its precision in PEAK's files) plus the offset; a 1.0 file has no
//! `$STARTTIME`, so its `;   Start time: dd.mm.yyyy hh:mm:ss.mmm` comment is used.

use std::io::BufRead;

use crate::dlc::{classic_dlc_to_len, fd_dlc_to_len, fd_len_to_dlc};
use crate::frame::{Frame, FrameFlags};
use crate::logfile::LogFormat;
use crate::logfile::text_reader::{LineParser, Parsed, TextReader};
use crate::logfile::time::{
    NS_PER_DAY, OLE_EPOCH_TO_UNIX_DAYS, days_from_civil, parse_scaled_ns, parse_scaled_rounded,
};

const NS_PER_MS: u64 = 1_000_000;

/// Line parser for TRC files.
#[derive(Debug)]
pub struct TrcParser {
    version: (u8, u8),
    columns: Option<Vec<u8>>,
    start_ns: Option<u64>,
    comment_start_ns: Option<u64>,
}

impl Default for TrcParser {
    fn default() -> Self {
        Self {
            version: (1, 0),
            columns: None,
            start_ns: None,
            comment_start_ns: None,
        }
    }
}

/// A TRC reader.
pub type TrcReader<R> = TextReader<R, TrcParser>;

/// Reads a TRC file from any `BufRead` (see [`gz::text_source`](crate::logfile::gz::text_source) for gzip).
pub fn trc_reader<R: BufRead>(src: R) -> TrcReader<R> {
    TextReader::new(src, TrcParser::default())
}

/// Parses `$STARTTIME` (OLE automation days) into ns since the Unix epoch, rounded to the µs.
pub fn parse_start_time(text: &str) -> Option<u64> {
    let ns = parse_scaled_rounded(text.trim().trim_end_matches(';'), NS_PER_DAY, 1_000)?;
    let unix = ns - i128::from(OLE_EPOCH_TO_UNIX_DAYS) * i128::from(NS_PER_DAY);
    u64::try_from(unix).ok()
}

/// Parses a `Start time:` comment: `dd.mm.yyyy hh:mm:ss[.mmm[.u]]` (UTC).
fn parse_comment_start(text: &str) -> Option<u64> {
    let mut parts = text.split_ascii_whitespace();
    let date: Vec<u32> = parts
        .next()?
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [day, month, year] = date[..] else {
        return None;
    };
    let clock: Vec<&str> = parts.next()?.split(['.', ':']).collect();
    let num = |i: usize| clock.get(i).map_or(Some(0), |s| s.parse::<u64>().ok());
    let (h, m, s, ms, tenth) = (num(0)?, num(1)?, num(2)?, num(3)?, num(4)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    if !(1..=9999).contains(&year) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = u64::try_from(days * 86_400).ok()? + h * 3600 + m * 60 + s;
    let ns = secs.checked_mul(1_000_000_000)?;
    ns.checked_add(ms.min(999) * NS_PER_MS + tenth.min(9) * 100_000)
}

fn hex_id(text: &str) -> Option<(u32, bool)> {
    if text.is_empty() || text.len() > 8 {
        return None;
    }
    Some((u32::from_str_radix(text, 16).ok()?, text.len() > 4))
}

fn hex_bytes(tokens: &[&str], len: usize) -> Result<Vec<u8>, Parsed> {
    if tokens.len() < len {
        return Err(Parsed::Unknown(format!("{len} data bytes expected")));
    }
    tokens[..len]
        .iter()
        .map(|b| {
            (b.len() <= 2)
                .then(|| u8::from_str_radix(b, 16).ok())
                .flatten()
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| Parsed::Unknown("bad data byte".into()))
}

/// The fields of one frame line, whatever the version.
#[derive(Default)]
struct Fields<'a> {
    offset: &'a str,
    kind: &'a str,
    bus: Option<&'a str>,
    id: &'a str,
    dir: Option<&'a str>,
    dlc: Option<&'a str>,
    len: Option<&'a str>,
    data: &'a [&'a str],
}

impl TrcParser {
    /// The file version as `(major, minor)`; 1.0 until a `$FILEVERSION` line says otherwise.
    pub fn version(&self) -> (u8, u8) {
        self.version
    }

    fn comment(&mut self, body: &str) -> Parsed {
        if let Some(v) = body.strip_prefix("$FILEVERSION=") {
            let mut it = v.trim().split('.');
            let major = it.next().and_then(|s| s.parse().ok());
            let minor = it.next().and_then(|s| s.parse().ok());
            match (major, minor) {
                (Some(a), Some(b)) => self.version = (a, b),
                _ => return Parsed::Unknown(format!("unreadable file version '{v}'")),
            }
        } else if let Some(t) = body.strip_prefix("$STARTTIME=") {
            match parse_start_time(t) {
                Some(ns) => self.start_ns = Some(ns),
                None => return Parsed::Unknown(format!("unreadable start time '{t}'")),
            }
        } else if let Some(c) = body.strip_prefix("$COLUMNS=") {
            let cols: Vec<u8> = c
                .trim()
                .split(',')
                .filter_map(|s| s.trim().bytes().next())
                .take(16)
                .collect();
            self.columns = Some(cols);
        } else if let Some(t) = body.trim_start().strip_prefix("Start time:") {
            self.comment_start_ns = parse_comment_start(t);
        }
        Parsed::Structure
    }

    fn fields<'a>(&self, t: &'a [&'a str]) -> Result<Fields<'a>, Parsed> {
        let short = || Parsed::Unknown("too few columns".into());
        let mut f = Fields::default();
        match self.version {
            (1, minor) => {
                let n = match minor {
                    0 => 3,
                    1 => 4,
                    2 => 5,
                    _ => 6,
                };
                if t.len() < n + 1 {
                    return Err(short());
                }
                f.offset = t[1];
                let mut i = 2;
                if minor >= 2 {
                    f.bus = Some(t[i]);
                    i += 1;
                }
                f.kind = if minor >= 1 { t[i] } else { "Rx" };
                i += usize::from(minor >= 1);
                f.id = t[i];
                i += 1 + usize::from(minor >= 3);
                f.dlc = Some(t[i]);
                f.data = &t[i + 1..];
            }
            (2, minor) => {
                let default: &[u8] = if minor == 0 { b"NOTIdlD" } else { b"NOTBIdRLD" };
                let cols = self.columns.as_deref().unwrap_or(default);
                for (i, &c) in cols.iter().enumerate() {
                    if c == b'D' {
                        f.data = t.get(i..).unwrap_or(&[]);
                        break;
                    }
                    let Some(&v) = t.get(i) else { break };
                    match c {
                        b'O' => f.offset = v,
                        b'T' => f.kind = v,
                        b'B' => f.bus = Some(v),
                        b'I' => f.id = v,
                        b'd' => f.dir = Some(v),
                        b'L' => f.dlc = Some(v),
                        b'l' => f.len = Some(v),
                        _ => {}
                    }
                }
                if f.offset.is_empty() || f.kind.is_empty() {
                    return Err(short());
                }
            }
            (major, minor) => {
                return Err(Parsed::Unknown(format!(
                    "unsupported file version {major}.{minor}"
                )));
            }
        }
        Ok(f)
    }

    fn frame_line(&self, t: &[&str]) -> Result<Frame, Parsed> {
        let f = self.fields(t)?;
        let bad = |why: &str| Parsed::Unknown(why.to_string());
        let (mut frame, tx) = match f.kind {
            "Warng" | "ST" | "EC" | "EV" => {
                return Err(Parsed::Skipped(format!("{} line", f.kind)));
            }
            "Rx" | "Tx" | "Error" => self.v1_frame(&f)?,
            "DT" | "FD" | "FB" | "FE" | "BI" | "RR" | "ER" => self.v2_frame(&f)?,
            other if self.version.0 == 2 => {
                return Err(Parsed::Skipped(format!("message type {other}")));
            }
            _ => return Err(bad("unknown message type")),
        };
        let offset = parse_scaled_ns(f.offset, NS_PER_MS)
            .filter(|o| *o >= 0)
            .ok_or_else(|| bad("bad time offset"))?;
        let start = self.start_time_ns().unwrap_or(0);
        frame.timestamp_ns =
            u64::try_from(i128::from(start) + offset).map_err(|_| bad("huge time"))?;
        frame.flags.set(FrameFlags::TX, tx);
        if let Some(bus) = f.bus {
            frame.channel = match bus.parse::<u32>() {
                Ok(b) if b >= 1 => b - 1,
                _ => return Err(bad("bad bus number (1-based)")),
            };
        }
        frame.validate().map_err(|e| Parsed::Unknown(e.message))?;
        Ok(frame)
    }

    fn v1_frame(&self, f: &Fields) -> Result<(Frame, bool), Parsed> {
        if f.id == "FFFFFFFF" {
            return Err(Parsed::Skipped("bus info line (id FFFFFFFF)".into()));
        }
        let (id, extended) = hex_id(f.id).ok_or_else(|| Parsed::Unknown("bad id".into()))?;
        let dlc: u8 = f
            .dlc
            .and_then(|d| d.parse().ok())
            .filter(|d| *d <= 15)
            .ok_or_else(|| Parsed::Unknown("bad DLC".into()))?;
        let mut frame = if f.data.first() == Some(&"RTR") {
            Frame::remote(id, extended, dlc)
        } else {
            let len = classic_dlc_to_len(dlc).unwrap_or(8);
            let mut fr = Frame::classic(id, extended, &hex_bytes(f.data, usize::from(len))?);
            fr.dlc = dlc;
            fr
        };
        if f.kind == "Error" {
            frame.flags.set(FrameFlags::ERROR, true);
            frame.flags.set(FrameFlags::EXTENDED, false);
        }
        Ok((frame, f.kind == "Tx"))
    }

    fn v2_frame(&self, f: &Fields) -> Result<(Frame, bool), Parsed> {
        let bad = |why: &str| Parsed::Unknown(why.to_string());
        let (id, extended) = match f.id {
            "-" | "" if f.kind == "ER" => (0, false),
            id => hex_id(id).ok_or_else(|| bad("bad id"))?,
        };
        let fd = matches!(f.kind, "FD" | "FB" | "FE" | "BI");
        let number = |s: Option<&str>| s.and_then(|v| v.parse::<u8>().ok());
        let (dlc, len) = match (number(f.dlc), number(f.len)) {
            (Some(dlc), _) if fd => (dlc, fd_dlc_to_len(dlc).ok_or_else(|| bad("bad DLC"))?),
            (Some(dlc), _) => (dlc, classic_dlc_to_len(dlc).ok_or_else(|| bad("bad DLC"))?),
            (None, Some(len)) if fd => (fd_len_to_dlc(len).ok_or_else(|| bad("bad length"))?, len),
            (None, Some(len)) => (len, len.min(8)),
            (None, None) => return Err(bad("missing DLC")),
        };
        let mut frame = match f.kind {
            "RR" => Frame::remote(id, extended, dlc),
            _ if fd => {
                let mut fr = Frame::fd(id, extended, &hex_bytes(f.data, usize::from(len))?, false);
                fr.flags.set(FrameFlags::BRS, matches!(f.kind, "FB" | "BI"));
                fr.flags.set(FrameFlags::ESI, matches!(f.kind, "FE" | "BI"));
                fr
            }
            _ => {
                let mut fr = Frame::classic(id, extended, &hex_bytes(f.data, usize::from(len))?);
                fr.dlc = dlc;
                fr
            }
        };
        if f.kind == "ER" {
            frame.flags.set(FrameFlags::ERROR, true);
        }
        Ok((frame, f.dir == Some("Tx")))
    }
}

impl LineParser for TrcParser {
    fn format(&self) -> LogFormat {
        LogFormat::Trc
    }

    fn parse(&mut self, line: &str) -> Parsed {
        let trimmed = line.trim();
        if let Some(body) = trimmed.strip_prefix(';') {
            return self.comment(body);
        }
        if trimmed.is_empty() {
            return Parsed::Structure;
        }
        let tokens: Vec<&str> = trimmed.split_ascii_whitespace().take(80).collect();
        match self.frame_line(&tokens) {
            Ok(frame) => Parsed::Frame(frame),
            Err(p) => p,
        }
    }

    fn start_time_ns(&self) -> Option<u64> {
        self.start_ns.or(self.comment_start_ns)
    }
}
