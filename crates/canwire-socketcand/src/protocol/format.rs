//! The elements a socketcand server writes, byte for byte as socketcand 0.6
//! writes them (`%03X`/`%08X` ids, `%lld.%06lld` timestamps, and the double
//! space before `>` on empty data and in BCM frames).

use canwire_core::Frame;
use std::fmt::Write as _;

/// `< hi >`, the server's greeting.
pub const HI: &[u8] = b"< hi >";
/// `< ok >`.
pub const OK: &[u8] = b"< ok >";
/// `< echo >`.
pub const ECHO: &[u8] = b"< echo >";
/// The reply to an unknown command.
pub const UNKNOWN_COMMAND: &[u8] = b"< error unknown command >";
/// The reply to `< open BUS >` for a bus that is not exported.
pub const COULD_NOT_OPEN_BUS: &[u8] = b"< error could not open bus >";

/// An id as socketcand prints it: `%08X` extended, `%03X` standard.
pub fn push_id(out: &mut String, id: u32, extended: bool) {
    // Writing to a String cannot fail.
    let _ = if extended {
        write!(out, "{id:08X}")
    } else {
        write!(out, "{id:03X}")
    };
}

/// A timestamp in ns since the epoch as `SECONDS.MICROSECONDS` (`%lld.%06lld`).
pub fn push_timestamp(out: &mut String, timestamp_ns: u64) {
    let _ = write!(
        out,
        "{}.{:06}",
        timestamp_ns / 1_000_000_000,
        (timestamp_ns % 1_000_000_000) / 1_000
    );
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
}

/// A received frame in raw mode: `< frame 123 23.424242 1A220344 >`
/// (`< fdframe … >` for an FD frame), `< frame 123 23.424242  >` when empty.
pub fn raw_frame(out: &mut String, frame: &Frame) {
    out.push_str(if frame.is_fd() {
        "< fdframe "
    } else {
        "< frame "
    });
    push_id(out, frame.id, frame.is_extended());
    out.push(' ');
    push_timestamp(out, frame.timestamp_ns);
    out.push(' ');
    push_hex(out, frame.data());
    out.push_str(" >");
}

/// An error frame in raw mode: `< error CLASS SEC.USEC >`, CLASS the error
/// class bits as `%03X`, no data bytes.
pub fn raw_error(out: &mut String, frame: &Frame) {
    out.push_str("< error ");
    let _ = write!(out, "{:03X}", frame.id & 0x1FFF_FFFF);
    out.push(' ');
    push_timestamp(out, frame.timestamp_ns);
    out.push_str(" >");
}

/// A received frame in BCM mode: `< frame 123 23.424242 11 22 33  >`, each
/// byte followed by a space, then ` >`.
pub fn bcm_frame(out: &mut String, frame: &Frame) {
    out.push_str("< frame ");
    push_id(out, frame.id, frame.is_extended());
    out.push(' ');
    push_timestamp(out, frame.timestamp_ns);
    out.push(' ');
    for b in frame.data() {
        let _ = write!(out, "{b:02X} ");
    }
    out.push_str(" >");
}

/// A received ISO-TP payload: `< pdu SEC.USEC HEX >`.
pub fn pdu(out: &mut String, timestamp_ns: u64, payload: &[u8]) {
    out.push_str("< pdu ");
    push_timestamp(out, timestamp_ns);
    out.push(' ');
    push_hex(out, payload);
    out.push_str(" >");
}

/// Interface counters in control mode: `< stat RBYTES RPACKETS TBYTES TPACKETS >`.
pub fn stat(out: &mut String, rx_bytes: u64, rx_packets: u64, tx_bytes: u64, tx_packets: u64) {
    let _ = write!(
        out,
        "< stat {rx_bytes} {rx_packets} {tx_bytes} {tx_packets} >"
    );
}

/// A client's send in raw mode: `< send 123 3 11 22 33 >` (DLC decimal,
/// bytes as two hex digits), `< sendfd ID LEN b… >` for an FD frame.
pub fn send(out: &mut String, frame: &Frame) {
    out.push_str(if frame.is_fd() {
        "< sendfd "
    } else {
        "< send "
    });
    push_id(out, frame.id, frame.is_extended());
    let _ = write!(out, " {}", frame.data().len());
    for b in frame.data() {
        let _ = write!(out, " {b:02X}");
    }
    out.push_str(" >");
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::FrameFlags;

    fn at(mut frame: Frame, ns: u64) -> Frame {
        frame.timestamp_ns = ns;
        frame
    }

    fn text(f: impl FnOnce(&mut String)) -> String {
        let mut s = String::new();
        f(&mut s);
        s
    }

    const TS: u64 = 23_424_242_999;

    #[test]
    fn raw_frames_as_socketcand_writes_them() {
        let f = at(Frame::classic(0x123, false, &[0x1A, 0x22, 0x03, 0x44]), TS);
        assert_eq!(
            text(|s| raw_frame(s, &f)),
            "< frame 123 23.424242 1A220344 >"
        );
        let f = at(Frame::classic(0x1AAA_AAAA, true, &[0x01, 0xF1]), TS);
        assert_eq!(
            text(|s| raw_frame(s, &f)),
            "< frame 1AAAAAAA 23.424242 01F1 >"
        );
        let f = at(Frame::classic(0x5, false, &[]), 5_000_001_000);
        assert_eq!(text(|s| raw_frame(s, &f)), "< frame 005 5.000001  >");
        let f = at(Frame::classic(0x5, true, &[]), 0);
        assert_eq!(text(|s| raw_frame(s, &f)), "< frame 00000005 0.000000  >");
    }

    #[test]
    fn fd_frames_use_the_fd_branch_syntax() {
        let data: Vec<u8> = (0..12).collect();
        let f = at(Frame::fd(0x7FF, false, &data, true), TS);
        assert_eq!(
            text(|s| raw_frame(s, &f)),
            "< fdframe 7FF 23.424242 000102030405060708090A0B >"
        );
        assert_eq!(
            text(|s| send(s, &f)),
            "< sendfd 7FF 12 00 01 02 03 04 05 06 07 08 09 0A 0B >"
        );
    }

    #[test]
    fn bcm_frames_end_with_two_spaces() {
        let f = at(Frame::classic(0x123, false, &[0x11, 0x22, 0x33]), TS);
        assert_eq!(
            text(|s| bcm_frame(s, &f)),
            "< frame 123 23.424242 11 22 33  >"
        );
        let f = at(Frame::classic(0x123, false, &[]), TS);
        assert_eq!(text(|s| bcm_frame(s, &f)), "< frame 123 23.424242  >");
    }

    #[test]
    fn error_frames_carry_only_the_class() {
        let mut f = at(Frame::classic(0x004, false, &[0, 4, 0, 0, 0, 0, 0, 0]), TS);
        f.flags.set(FrameFlags::ERROR, true);
        assert_eq!(text(|s| raw_error(s, &f)), "< error 004 23.424242 >");
    }

    #[test]
    fn pdu_stat_and_send() {
        assert_eq!(
            text(|s| pdu(s, TS, &[0x62, 0xF1, 0x90])),
            "< pdu 23.424242 62F190 >"
        );
        assert_eq!(text(|s| stat(s, 10, 2, 30, 4)), "< stat 10 2 30 4 >");
        let f = Frame::classic(0x1AAA_AAAA, true, &[0x01, 0xF1]);
        assert_eq!(text(|s| send(s, &f)), "< send 1AAAAAAA 2 01 F1 >");
        let f = Frame::classic(0x123, false, &[]);
        assert_eq!(text(|s| send(s, &f)), "< send 123 0 >");
    }
}
