//! The fields of an element: ids, data bytes, DLCs, intervals and
//! timestamps, read leniently (whitespace-insensitive, either id convention).

use canwire_core::frame::{EXTENDED_ID_MAX, STANDARD_ID_MAX};

/// The words of an element between its `<` and `>`, split on any whitespace;
/// `None` when the element is not ASCII text.
pub fn words(element: &[u8]) -> Option<Vec<&str>> {
    let inner = element.strip_prefix(b"<").unwrap_or(element);
    let inner = inner.strip_suffix(b">").unwrap_or(inner);
    let text = std::str::from_utf8(inner).ok()?;
    Some(text.split_ascii_whitespace().collect())
}

/// EFF, as SavvyCAN sets it in the ids it sends.
const EFF_FLAG: u32 = 0x8000_0000;

/// A CAN id in hex: extended when the token has exactly 8 characters (the
/// socketcand rule), when its value is above 0x7FF (python-can 4.1 sends
/// extended ids unpadded), or when bit 31 is set (SavvyCAN). Returns
/// `(id, extended)`, or `None` for anything else than 1..8 hex digits of a
/// valid id.
pub fn parse_id(token: &str) -> Option<(u32, bool)> {
    if token.is_empty() || token.len() > 8 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let raw = u32::from_str_radix(token, 16).ok()?;
    let id = raw & !EFF_FLAG;
    if id > EXTENDED_ID_MAX {
        return None;
    }
    let extended = token.len() == 8 || raw & EFF_FLAG != 0 || id > STANDARD_ID_MAX;
    Some((id, extended))
}

/// One data byte: one or two hex digits (`1`, `f1`, `F1`).
pub fn parse_byte(token: &str) -> Option<u8> {
    if token.is_empty() || token.len() > 2 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u8::from_str_radix(token, 16).ok()
}

/// Data bytes, one token each.
pub fn parse_bytes(tokens: &[&str]) -> Option<Vec<u8>> {
    tokens.iter().map(|t| parse_byte(t)).collect()
}

/// A decimal number no greater than `max`.
pub fn parse_decimal(token: &str, max: u64) -> Option<u64> {
    if token.is_empty() || token.len() > 20 || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse::<u64>().ok().filter(|v| *v <= max)
}

/// A hex number no greater than `max`.
pub fn parse_hex(token: &str, max: u64) -> Option<u64> {
    if token.is_empty() || token.len() > 16 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(token, 16).ok().filter(|v| *v <= max)
}

/// The longest interval a cyclic job, filter or subscription may have: one day.
pub const MAX_INTERVAL_US: u64 = 86_400_000_000;

/// An interval given as `SEC USEC` (decimal), in µs, at most [`MAX_INTERVAL_US`].
pub fn parse_interval(sec: &str, usec: &str) -> Option<u64> {
    let sec = parse_decimal(sec, MAX_INTERVAL_US / 1_000_000)?;
    let usec = parse_decimal(usec, MAX_INTERVAL_US)?;
    Some(sec * 1_000_000 + usec).filter(|v| *v <= MAX_INTERVAL_US)
}

/// A hex string of whole bytes (`62F190`), at most `max` bytes.
pub fn parse_hex_string(text: &str, max: usize) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) || bytes.len() / 2 > max {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            parse_byte(pair)
        })
        .collect()
}

/// A timestamp `SECONDS.FRACTION` in ns since the epoch (the fraction is
/// read as a decimal fraction, so `.5` and `.500000` are the same).
pub fn parse_timestamp(token: &str) -> Option<u64> {
    let (sec, frac) = token.split_once('.').unwrap_or((token, ""));
    let sec = parse_decimal(sec, u64::MAX / 1_000_000_000 - 1)?;
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut ns = 0u64;
    for (i, digit) in frac.bytes().enumerate() {
        ns += u64::from(digit - b'0') * 10u64.pow(8 - i as u32);
    }
    Some(sec * 1_000_000_000 + ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_by_length_value_or_bit_31() {
        assert_eq!(parse_id("123"), Some((0x123, false)));
        assert_eq!(parse_id("7FF"), Some((0x7FF, false)));
        assert_eq!(parse_id("00000123"), Some((0x123, true)), "8 chars");
        assert_eq!(parse_id("800"), Some((0x800, true)), "value > 0x7FF");
        assert_eq!(
            parse_id("1abcdef"),
            Some((0x1AB_CDEF, true)),
            "python-can 4.1"
        );
        assert_eq!(parse_id("80000123"), Some((0x123, true)), "SavvyCAN bit 31");
        assert_eq!(parse_id("1"), Some((1, false)));
        assert_eq!(parse_id("20000000"), None, "above 29 bits");
        assert_eq!(parse_id("123456789"), None);
        assert_eq!(parse_id("12g"), None);
        assert_eq!(parse_id(""), None);
        assert_eq!(parse_id("-12"), None);
    }

    #[test]
    fn bytes_numbers_and_intervals() {
        assert_eq!(parse_bytes(&["1", "f1", "F1"]), Some(vec![1, 0xF1, 0xF1]));
        assert_eq!(parse_bytes(&["100"]), None);
        assert_eq!(parse_decimal("8", 8), Some(8));
        assert_eq!(parse_decimal("9", 8), None);
        assert_eq!(parse_decimal("+1", 8), None);
        assert_eq!(parse_interval("0", "20000"), Some(20_000));
        assert_eq!(parse_interval("1", "5"), Some(1_000_005));
        assert_eq!(parse_interval("86401", "0"), None);
        assert_eq!(
            parse_hex_string("62f190", 4095),
            Some(vec![0x62, 0xF1, 0x90])
        );
        assert_eq!(parse_hex_string("62f", 4095), None);
        assert_eq!(parse_hex_string("6262", 1), None);
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("23.424242"), Some(23_424_242_000));
        assert_eq!(parse_timestamp("1.5"), Some(1_500_000_000));
        assert_eq!(parse_timestamp("7"), Some(7_000_000_000));
        assert_eq!(parse_timestamp("1.x"), None);
    }

    #[test]
    fn words_ignore_whitespace() {
        assert_eq!(words(b"<  send\t123  0  >"), Some(vec!["send", "123", "0"]));
        assert_eq!(words(b"<frame>"), Some(vec!["frame"]));
        assert_eq!(words(b"< \xff >"), None);
    }
}
