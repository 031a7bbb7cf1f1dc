//! can-utils' compact frame syntax and `candump -L` log lines.
//!
//! Frames: `123#DEADBEEF` (standard), `1F334455#11` (extended, 8 hex digits),
//! `123#R` / `123#R3` (remote, optional requested length), `123##1DEADBEEF`
//! (FD; the hex digit after `##` holds BRS = 1 and ESI = 2), `123#1122334455667788_E`
//! (classic 8 bytes with raw DLC 9..15), `20000080#0000000000000000` (error
//! frame: the error flag 0x20000000 in an 8-digit id). Data bytes may be
//! separated by `.`. Lines: `(1699999999.123456) vcan0 123#DEADBEEF`, an
//! optional trailing `T` marking a transmitted frame.

use crate::error::{CanwireError, ErrorCode, Result};
use crate::frame::{Frame, FrameFlags};

/// The error flag bit as it appears in can-utils' 8-digit ids.
pub const CAN_ERR_FLAG: u32 = 0x2000_0000;
const FD_FLAG_BRS: u8 = 0x1;
const FD_FLAG_ESI: u8 = 0x2;
/// CANFD_FDF, set by recent kernels on every FD frame; accepted and ignored.
const FD_FLAG_FDF: u8 = 0x4;

fn syntax(text: &str, why: &str) -> CanwireError {
    CanwireError::new(
        ErrorCode::InvalidFrameSyntax,
        format!(
            "'{text}' is not a frame: {why} (expected e.g. 123#DEADBEEF, 1F334455#11, 123#R, 123##1DEADBEEF)"
        ),
    )
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|v| v as u8)
}

/// Parses one frame in can-utils syntax and validates it.
pub fn parse_frame(text: &str) -> Result<Frame> {
    let (id_text, rest) = text
        .split_once('#')
        .ok_or_else(|| syntax(text, "missing '#'"))?;
    if !id_text.bytes().all(|c| c.is_ascii_hexdigit()) || id_text.is_empty() {
        return Err(syntax(text, "the id must be hexadecimal"));
    }
    let raw_id =
        u32::from_str_radix(id_text, 16).map_err(|_| syntax(text, "the id is too large"))?;
    let mut frame = Frame::default();
    match id_text.len() {
        3 => frame.id = raw_id,
        8 if raw_id & CAN_ERR_FLAG != 0 => {
            frame.id = raw_id & !CAN_ERR_FLAG;
            frame.flags.set(FrameFlags::ERROR, true);
        }
        8 => {
            frame.id = raw_id;
            frame.flags.set(FrameFlags::EXTENDED, true);
        }
        _ => {
            return Err(syntax(
                text,
                "the id takes 3 hex digits (standard) or 8 (extended)",
            ));
        }
    }

    let rest = rest.as_bytes();
    if let Some(fd) = rest.strip_prefix(b"#") {
        let (&flag_char, data) = fd
            .split_first()
            .ok_or_else(|| syntax(text, "an FD frame needs a flags digit after '##'"))?;
        let fd_flags = hex_value(flag_char)
            .ok_or_else(|| syntax(text, "the FD flags digit must be hexadecimal"))?;
        if fd_flags & !(FD_FLAG_BRS | FD_FLAG_ESI | FD_FLAG_FDF) != 0 {
            return Err(syntax(text, "FD flags allow BRS (1), ESI (2), FDF (4)"));
        }
        frame.flags.set(FrameFlags::FD, true);
        frame
            .flags
            .set(FrameFlags::BRS, fd_flags & FD_FLAG_BRS != 0);
        frame
            .flags
            .set(FrameFlags::ESI, fd_flags & FD_FLAG_ESI != 0);
        frame
            .flags
            .set(FrameFlags::FDF, fd_flags & FD_FLAG_FDF != 0);
        let (len, tail) = parse_data(text, data, &mut frame.data, 64)?;
        if !tail.is_empty() {
            return Err(syntax(text, "unexpected text after the data"));
        }
        frame.len = len;
        frame.dlc = crate::dlc::fd_len_to_dlc(len)
            .ok_or_else(|| crate::frame::invalid_fd_length(len.into()))?;
    } else if let Some(remote) = rest.strip_prefix(b"R").or_else(|| rest.strip_prefix(b"r")) {
        frame.flags.set(FrameFlags::REMOTE, true);
        let (len, tail) = match remote.split_first() {
            Some((&c, tail)) if c.is_ascii_digit() => (c - b'0', tail),
            _ => (0, remote),
        };
        if len > 8 {
            return Err(syntax(text, "a remote length is 0..8"));
        }
        frame.dlc = parse_len8_dlc(text, tail, len)?.unwrap_or(len);
    } else {
        let (len, tail) = parse_data(text, rest, &mut frame.data, 8)?;
        frame.len = len;
        frame.dlc = parse_len8_dlc(text, tail, len)?.unwrap_or(len);
    }
    frame.validate()?;
    Ok(frame)
}

/// Reads hex byte pairs up to `max` bytes; one '.' may come before each
/// byte (as can-utils' `parse_canframe` allows: `DE.AD`, never `DE..AD`).
/// Returns the byte count and the unparsed tail (starting at `_` if any).
fn parse_data<'a>(
    text: &str,
    mut data: &'a [u8],
    out: &mut [u8; 64],
    max: usize,
) -> Result<(u8, &'a [u8])> {
    let mut n = 0usize;
    let mut after_dot = false;
    loop {
        match data {
            [b'.', ..] if after_dot => {
                return Err(syntax(text, "bytes are separated by at most one '.'"));
            }
            [b'.', tail @ ..] => {
                after_dot = true;
                data = tail;
                continue;
            }
            [hi, lo, tail @ ..] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                if n == max {
                    let protocol = if max == 8 {
                        "a classic frame carries at most 8 bytes; use ## for FD"
                    } else {
                        "an FD frame carries at most 64 bytes"
                    };
                    return Err(CanwireError::new(
                        ErrorCode::DataTooLong,
                        format!("'{text}': {protocol}"),
                    ));
                }
                out[n] = (hex_value(*hi).unwrap_or(0) << 4) | hex_value(*lo).unwrap_or(0);
                n += 1;
                data = tail;
                after_dot = false;
            }
            [] | [b'_', ..] => return Ok((n as u8, data)),
            _ => return Err(syntax(text, "data must be pairs of hex digits")),
        }
    }
}

/// Parses an optional `_X` suffix carrying a classic raw DLC 9..15.
fn parse_len8_dlc(text: &str, tail: &[u8], len: u8) -> Result<Option<u8>> {
    match tail {
        [] => Ok(None),
        [b'_', c] if len == 8 => match hex_value(*c) {
            Some(code @ 9..=15) => Ok(Some(code)),
            _ => Err(syntax(text, "the raw DLC after '_' is 9..F")),
        },
        [b'_', ..] => Err(syntax(text, "a raw DLC suffix '_X' needs 8 data bytes")),
        _ => Err(syntax(text, "unexpected text after the data")),
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_hex_byte(out: &mut String, byte: u8) {
    out.push(HEX[(byte >> 4) as usize] as char);
    out.push(HEX[(byte & 0xF) as usize] as char);
}

/// Formats a frame in can-utils syntax, exactly as `candump -L` prints it.
pub fn format_frame(frame: &Frame) -> String {
    let mut out = String::with_capacity(16 + 2 * frame.len as usize);
    if frame.is_error() {
        out.push_str(&format!("{:08X}", frame.id | CAN_ERR_FLAG));
    } else if frame.is_extended() {
        out.push_str(&format!("{:08X}", frame.id));
    } else {
        out.push_str(&format!("{:03X}", frame.id));
    }
    out.push('#');
    if frame.is_fd() {
        let mut flags = 0u8;
        if frame.flags.has(FrameFlags::BRS) {
            flags |= FD_FLAG_BRS;
        }
        if frame.flags.has(FrameFlags::ESI) {
            flags |= FD_FLAG_ESI;
        }
        if frame.flags.has(FrameFlags::FDF) {
            flags |= FD_FLAG_FDF;
        }
        out.push('#');
        out.push(HEX[flags as usize] as char);
        frame
            .data()
            .iter()
            .for_each(|b| push_hex_byte(&mut out, *b));
        return out;
    }
    if frame.is_remote() {
        out.push('R');
        let len = frame.requested_len();
        if len > 0 {
            out.push((b'0' + len) as char);
        }
        if len == 8 && frame.dlc > 8 {
            out.push('_');
            out.push(HEX[frame.dlc as usize & 0xF] as char);
        }
        return out;
    }
    frame
        .data()
        .iter()
        .for_each(|b| push_hex_byte(&mut out, *b));
    if frame.len == 8 && frame.dlc > 8 {
        out.push('_');
        out.push(HEX[frame.dlc as usize & 0xF] as char);
    }
    out
}

/// Formats a `candump -L` line: `(SECONDS.MICROS) CHANNEL FRAME`.
/// The format keeps microseconds; the nanoseconds below are cut, not rounded,
/// as candump does.
pub fn format_log_line(frame: &Frame, channel: &str) -> String {
    let secs = frame.timestamp_ns / 1_000_000_000;
    let micros = (frame.timestamp_ns % 1_000_000_000) / 1_000;
    format!("({secs:010}.{micros:06}) {channel} {}", format_frame(frame))
}

/// One parsed `candump -L` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The frame, with its timestamp and the TX flag from a trailing `T`.
    pub frame: Frame,
    /// The channel name as written.
    pub channel: String,
}

/// Parses a `candump -L` line. Fractions of any length up to 9 digits are read exactly.
pub fn parse_log_line(line: &str) -> Result<LogLine> {
    let bad = |why: &str| {
        CanwireError::new(
            ErrorCode::InvalidFrameSyntax,
            format!("'{line}' is not a candump -L line: {why}"),
        )
    };
    let mut parts = line.split_ascii_whitespace();
    let stamp = parts
        .next()
        .and_then(|p| p.strip_prefix('('))
        .and_then(|p| p.strip_suffix(')'))
        .ok_or_else(|| bad("it must start with (SECONDS.FRACTION)"))?;
    let timestamp_ns = parse_timestamp(stamp).ok_or_else(|| bad("bad timestamp"))?;
    let channel = parts.next().ok_or_else(|| bad("missing channel"))?;
    let mut frame = parse_frame(parts.next().ok_or_else(|| bad("missing frame"))?)?;
    match parts.next() {
        None | Some("R") => {}
        Some("T") => frame.flags.set(FrameFlags::TX, true),
        Some(_) => return Err(bad("unexpected text after the frame")),
    }
    frame.timestamp_ns = timestamp_ns;
    Ok(LogLine {
        frame,
        channel: channel.to_string(),
    })
}

fn parse_timestamp(text: &str) -> Option<u64> {
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    if secs.is_empty()
        || frac.len() > 9
        || !secs.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let secs: u64 = secs.parse().ok()?;
    let frac_ns = if frac.is_empty() {
        0
    } else {
        frac.parse::<u64>().ok()? * 10u64.pow(9 - frac.len() as u32)
    };
    secs.checked_mul(1_000_000_000)?.checked_add(frac_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> Frame {
        let frame = parse_frame(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(format_frame(&frame), text);
        frame
    }

    #[test]
    fn standard_extended_remote_fd_error() {
        let f = round_trip("123#DEADBEEF");
        assert_eq!(
            (f.id, f.is_extended(), f.data()),
            (0x123, false, &[0xDE, 0xAD, 0xBE, 0xEF][..])
        );
        let f = round_trip("1F334455#11");
        assert_eq!((f.id, f.is_extended(), f.len), (0x1F33_4455, true, 1));
        let f = round_trip("123#R");
        assert!(f.is_remote());
        assert_eq!(f.dlc, 0);
        let f = round_trip("123#R3");
        assert_eq!((f.dlc, f.len), (3, 0));
        let f = round_trip("123##1DEADBEEF");
        assert!(f.is_fd() && f.flags.has(FrameFlags::BRS) && !f.flags.has(FrameFlags::ESI));
        let f = round_trip("123##3");
        assert!(f.flags.has(FrameFlags::ESI));
        let f = round_trip("20000080#0000000000000000");
        assert!(f.is_error());
        assert_eq!((f.id, f.len), (0x80, 8));
        let f = round_trip("123#1122334455667788_E");
        assert_eq!((f.len, f.dlc), (8, 14));
        round_trip("123#");
    }

    #[test]
    fn dots_are_accepted_and_the_fdf_mark_is_kept() {
        let f = parse_frame("123#DE.AD.BE.EF").unwrap();
        assert_eq!(format_frame(&f), "123#DEADBEEF");
        let f = parse_frame("123##511").unwrap();
        assert!(f.flags.has(FrameFlags::FDF | FrameFlags::BRS) && !f.flags.has(FrameFlags::ESI));
        assert_eq!(format_frame(&f), "123##511");
        let f = parse_frame("123##411").unwrap();
        assert_eq!(format_frame(&f), "123##411");
        assert!(!parse_frame("123##111").unwrap().flags.has(FrameFlags::FDF));
    }

    #[test]
    fn fd_lengths_and_sixty_four_bytes() {
        let hex: String = (0..64).map(|i| format!("{i:02X}")).collect();
        let f = round_trip(&format!("7FF##0{hex}"));
        assert_eq!((f.len, f.dlc), (64, 15));
        let err = parse_frame("123##0112233445566778899").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidFdLength);
        // 9..15 and 17 bytes: a length no DLC encodes, not a DLC code
        for n in [9, 13, 15, 17, 63] {
            let err = parse_frame(&format!("123##1{}", "AA".repeat(n))).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidFdLength, "{n} bytes");
            assert_eq!(
                err.message,
                format!(
                    "an FD frame cannot carry {n} bytes: allowed lengths are 0..8, 12, 16, 20, 24, 32, 48, 64"
                )
            );
        }
    }

    #[test]
    fn one_dot_at_most_between_bytes_as_cansend() {
        assert_eq!(parse_frame("123#.DE.AD").unwrap().data(), &[0xDE, 0xAD]);
        assert_eq!(parse_frame("123#DEAD.").unwrap().data(), &[0xDE, 0xAD]);
        for text in ["123#DE..AD", "123#..DE", "123##1DE..AD", "123#DEAD.."] {
            assert_eq!(
                parse_frame(text).unwrap_err().code,
                ErrorCode::InvalidFrameSyntax,
                "{text}"
            );
        }
    }

    #[test]
    fn errors_have_codes() {
        let code = |t: &str| parse_frame(t).unwrap_err().code;
        assert_eq!(code("123DEAD"), ErrorCode::InvalidFrameSyntax);
        assert_eq!(code("12#00"), ErrorCode::InvalidFrameSyntax);
        assert_eq!(code("123#0"), ErrorCode::InvalidFrameSyntax);
        assert_eq!(code("123#GG"), ErrorCode::InvalidFrameSyntax);
        assert_eq!(code("800#00"), ErrorCode::IdOutOfRange);
        assert_eq!(code("123#001122334455667788"), ErrorCode::DataTooLong);
        assert_eq!(code("123#R9"), ErrorCode::InvalidFrameSyntax);
        assert_eq!(code("123#11_E"), ErrorCode::InvalidFrameSyntax);
        assert_eq!(code("123##"), ErrorCode::InvalidFrameSyntax);
    }

    #[test]
    fn log_lines_keep_microseconds() {
        let mut f = parse_frame("123#DEADBEEF").unwrap();
        f.timestamp_ns = 1_699_999_999_123_456_789;
        let line = format_log_line(&f, "vcan0");
        assert_eq!(line, "(1699999999.123456) vcan0 123#DEADBEEF");
        let back = parse_log_line(&line).unwrap();
        assert_eq!(back.channel, "vcan0");
        assert_eq!(back.frame.timestamp_ns, 1_699_999_999_123_456_000);
        let tx = parse_log_line("(0.000000001) can0 123#00 T").unwrap();
        assert_eq!(tx.frame.timestamp_ns, 1);
        assert!(tx.frame.flags.has(FrameFlags::TX));
        assert!(parse_log_line("1.0 can0 123#00").is_err());
    }
}
