//! What a socketcand server sends, read by canwire's client, leniently:
//! any whitespace, data as one hex string (raw mode) or byte by byte (BCM
//! mode), ids in either convention.

use canwire_core::{Frame, FrameFlags};

use super::tokens::{parse_bytes, parse_hex_string, parse_id, parse_timestamp, words};

/// One element from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerElement {
    /// `< hi >`.
    Hi,
    /// `< ok >`.
    Ok,
    /// `< echo >`.
    Echo,
    /// `< frame … >` or `< fdframe … >`, with its timestamp.
    Frame(Frame),
    /// `< error CLASS SEC.USEC >` (raw mode) or `< error ID SEC.USEC XX … >`
    /// (BCM mode, ID with `CAN_ERR_FLAG`): an error frame.
    ErrorFrame(Frame),
    /// `< error TEXT >`: the server refused something.
    Error(String),
    /// Anything else (logged, never fatal).
    Other(String),
}

fn frame(args: &[&str], fd: bool) -> Option<Frame> {
    let [id, ts, data @ ..] = args else {
        return None;
    };
    let (id, extended) = parse_id(id)?;
    let timestamp_ns = parse_timestamp(ts)?;
    let hex: String = data.concat();
    let data = parse_hex_string(&hex, 64)?;
    let mut frame = if fd {
        Frame::fd(id, extended, &data, false)
    } else {
        if data.len() > 8 {
            return None;
        }
        Frame::classic(id, extended, &data)
    };
    frame.timestamp_ns = timestamp_ns;
    Some(frame)
}

fn error_frame(args: &[&str]) -> Option<Frame> {
    let [class, ts, data @ ..] = args else {
        return None;
    };
    if class.len() > 8 || !class.bytes().all(|b| b.is_ascii_hexdigit()) || data.len() > 8 {
        return None;
    }
    let class = u32::from_str_radix(class, 16).ok()? & 0x1FFF_FFFF;
    // raw mode sends no data: the 8 bytes of an error frame, unknown, read as zeros
    let data = if data.is_empty() {
        vec![0; 8]
    } else {
        parse_bytes(data)?
    };
    let mut frame = Frame::classic(class, false, &data);
    frame.flags.set(FrameFlags::ERROR, true);
    frame.timestamp_ns = parse_timestamp(ts)?;
    Some(frame)
}

/// Reads one element a server sent.
pub fn parse_server_element(element: &[u8]) -> ServerElement {
    let text = || String::from_utf8_lossy(element).into_owned();
    let Some(words) = words(element) else {
        return ServerElement::Other(text());
    };
    match words.as_slice() {
        ["hi"] => ServerElement::Hi,
        ["ok"] => ServerElement::Ok,
        ["echo"] => ServerElement::Echo,
        ["frame", args @ ..] => {
            frame(args, false).map_or_else(|| ServerElement::Other(text()), ServerElement::Frame)
        }
        ["fdframe", args @ ..] => {
            frame(args, true).map_or_else(|| ServerElement::Other(text()), ServerElement::Frame)
        }
        ["error", args @ ..] => error_frame(args).map_or_else(
            || ServerElement::Error(args.join(" ")),
            ServerElement::ErrorFrame,
        ),
        _ => ServerElement::Other(text()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(mut f: Frame, ns: u64) -> Frame {
        f.timestamp_ns = ns;
        f
    }

    #[test]
    fn frames_in_raw_and_bcm_form() {
        assert_eq!(
            parse_server_element(b"< frame 123 23.424242 1A220344 >"),
            ServerElement::Frame(at(
                Frame::classic(0x123, false, &[0x1A, 0x22, 0x03, 0x44]),
                23_424_242_000
            ))
        );
        assert_eq!(
            parse_server_element(b"<frame 123 23.424242 11 22 33  >"),
            ServerElement::Frame(at(
                Frame::classic(0x123, false, &[0x11, 0x22, 0x33]),
                23_424_242_000
            ))
        );
        assert_eq!(
            parse_server_element(b"< frame 1AAAAAAA 1.000001  >"),
            ServerElement::Frame(at(Frame::classic(0x1AAA_AAAA, true, &[]), 1_000_001_000))
        );
        assert_eq!(
            parse_server_element(b"< frame 80000123 1.0 01 >"),
            ServerElement::Frame(at(Frame::classic(0x123, true, &[1]), 1_000_000_000))
        );
        assert_eq!(
            parse_server_element(b"< fdframe 123 1.0 000102030405060708090A0B >"),
            ServerElement::Frame(at(
                Frame::fd(0x123, false, &(0..12).collect::<Vec<u8>>(), false),
                1_000_000_000
            ))
        );
        assert!(matches!(
            parse_server_element(b"< frame 123 1.0 0102030405060708AA >"),
            ServerElement::Other(_)
        ));
        assert!(matches!(
            parse_server_element(b"< frame 123 >"),
            ServerElement::Other(_)
        ));
    }

    #[test]
    fn errors_and_replies() {
        assert_eq!(parse_server_element(b"< hi >"), ServerElement::Hi);
        assert_eq!(parse_server_element(b"<ok>"), ServerElement::Ok);
        assert_eq!(
            parse_server_element(b"< error unknown command >"),
            ServerElement::Error("unknown command".into())
        );
        let ServerElement::ErrorFrame(f) = parse_server_element(b"< error 004 23.424242 >") else {
            panic!("not an error frame")
        };
        assert_eq!(
            (f.id, f.is_error(), f.timestamp_ns),
            (4, true, 23_424_242_000)
        );
        let ServerElement::ErrorFrame(f) =
            parse_server_element(b"< error 2000000C 1.000002 00 10 80 19 00 00 7F 01  >")
        else {
            panic!("not a BCM error frame")
        };
        assert_eq!(
            (f.id, f.is_error(), f.data(), f.timestamp_ns),
            (
                0xC,
                true,
                &[0, 0x10, 0x80, 0x19, 0, 0, 0x7F, 1][..],
                1_000_002_000
            )
        );
        assert_eq!(
            parse_server_element(b"< error could not open bus >"),
            ServerElement::Error("could not open bus".into())
        );
        assert_eq!(
            parse_server_element(b"< stat 1 2 3 4 >"),
            ServerElement::Other("< stat 1 2 3 4 >".into())
        );
    }
}
