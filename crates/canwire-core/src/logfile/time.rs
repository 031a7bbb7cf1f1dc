//! Calendar arithmetic for log headers (UTC, proleptic Gregorian) and exact
//! decimal timestamps. No clock reads, no time zone database.

/// Nanoseconds per second.
pub const NS_PER_SEC: u64 = 1_000_000_000;
/// Nanoseconds per day.
pub const NS_PER_DAY: u64 = 86_400 * NS_PER_SEC;
/// Days from 1899-12-30 (the OLE automation date epoch) to 1970-01-01.
pub const OLE_EPOCH_TO_UNIX_DAYS: i64 = 25_569;

/// Days since 1970-01-01 of a civil date (month 1..=12).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day of the week, 0 = Sunday.
pub fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

/// Parses `[-]SECONDS[.FRACTION]` exactly into ns; fraction digits past the
/// ninth are cut. `None` for anything else or on overflow.
pub fn parse_decimal_ns(text: &str) -> Option<i128> {
    match text.strip_prefix('+') {
        Some(rest) if rest.starts_with('-') => None,
        Some(rest) => parse_scaled_ns(rest, 1_000_000_000),
        None => parse_scaled_ns(text, 1_000_000_000),
    }
}

/// Scales a decimal number of `unit_ns` units (e.g. ms = 1e6) into ns exactly,
/// cutting below 1 ns. `None` if it does not parse.
pub fn parse_scaled_ns(text: &str, unit_ns: u64) -> Option<i128> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || int.len() > 20
        || !int.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let int: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac = &frac[..frac.len().min(24)];
    let digits: i128 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    let scale = 10i128.pow(frac.len() as u32);
    let unit = i128::from(unit_ns);
    let ns = int.checked_mul(unit)?.checked_add(digits * unit / scale)?;
    Some(if neg { -ns } else { ns })
}

/// Like [`parse_scaled_ns`] but rounds to the nearest multiple of `round_ns`.
pub fn parse_scaled_rounded(text: &str, unit_ns: u64, round_ns: u64) -> Option<i128> {
    let body = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let frac = &frac[..frac.len().min(24)];
    let whole = parse_scaled_ns(&format!("{int}.{frac}"), unit_ns)?;
    // the remainder below 1 ns does not matter for rounding to >= 1 µs
    let r = i128::from(round_ns);
    let rounded = (whole + r / 2).div_euclid(r) * r;
    Some(if text.starts_with('-') {
        -rounded
    } else {
        rounded
    })
}

/// Formats ns as `SECONDS.FRACTION` with `digits` (0..=9) fraction digits, cut.
pub fn format_seconds(ns: u64, digits: u32) -> String {
    let secs = ns / NS_PER_SEC;
    if digits == 0 {
        return secs.to_string();
    }
    let frac = (ns % NS_PER_SEC) / 10u64.pow(9 - digits.min(9));
    format!("{secs}.{frac:0width$}", width = digits as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2017, 9, 30), 17_439);
        assert_eq!(weekday(17_439), 6, "2017-09-30 was a Saturday");
        for d in [-800_000i64, -1, 0, 59, 11_016, 17_439, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal_ns("2.5010"), Some(2_501_000_000));
        assert_eq!(parse_decimal_ns("-0.000000001"), Some(-1));
        assert_eq!(parse_decimal_ns("1.1234567891"), Some(1_123_456_789));
        assert_eq!(parse_decimal_ns("x"), None);
        assert_eq!(parse_decimal_ns("."), None);
        assert_eq!(parse_scaled_ns("17535.4", 1_000_000), Some(17_535_400_000));
        assert_eq!(parse_scaled_ns("0.0001", 1_000_000), Some(100));
        assert_eq!(
            parse_scaled_rounded("0.6028595139", NS_PER_DAY, 1_000),
            Some(52_087_062_001_000)
        );
        assert_eq!(format_seconds(1_500_000_000, 6), "1.500000");
    }
}
