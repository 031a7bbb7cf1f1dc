//! ASC header dates: `date Sat Sep 30 15:06:13.191 2017`, also with a 12-hour
//! clock (`10:44:52.480 am`) and in German (`Sam Sep 30`, `Okt`, `Mär`, `Dez`).
//!
//! CANoe writes the weekday and month names of the Windows locale. The month
//! decides the date, so the weekday is not checked. Month names read, full or
//! abbreviated: English, German, French, Spanish, Italian, Portuguese, Dutch
//! and Swedish (the first three letters decide; French juin/juillet the
//! fourth). The time has no zone; it is read and written as UTC.
//!
//! The fraction after the seconds is a decimal fraction (CANoe writes three
//! digits). python-can's writers differ: 4.1 writes the trigger block's
//! fraction as the first digits of the timestamp's decimals (`.25` is 250 ms),
//! later versions write whole milliseconds without padding (`.5` is 5 ms) in
//! both the `date` line and the trigger block. [`ShortFraction`] says which
//! reading a fraction of one or two digits gets; the ASC reader chooses
//! milliseconds for a file whose `date` line shows one.

use crate::logfile::time::{civil_from_days, days_from_civil, weekday};

const NS_PER_MS: u64 = 1_000_000;
const ENGLISH_DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const ENGLISH_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The month (1..=12) of a month name in one of the languages above.
pub fn month_number(name: &str) -> Option<u32> {
    let lower = name.trim_end_matches('.').to_lowercase();
    let prefix: String = lower.chars().take(3).collect();
    let month = match prefix.as_str() {
        "jan" | "ene" | "gen" => 1,
        "feb" | "fév" | "fev" => 2,
        "mar" | "mär" | "mrz" | "mrt" => 3,
        "apr" | "avr" | "abr" => 4,
        "may" | "mai" | "mag" | "mei" | "maj" => 5,
        "jun" | "giu" => 6,
        "jui" if lower.starts_with("juin") => 6,
        "jui" if lower.starts_with("juil") => 7,
        "jul" | "lug" => 7,
        "aug" | "aoû" | "aou" | "ago" => 8,
        "sep" | "set" => 9,
        "oct" | "okt" | "ott" | "out" => 10,
        "nov" => 11,
        "dec" | "dez" | "déc" | "dic" => 12,
        _ => return None,
    };
    Some(month)
}

/// How a fraction of one or two digits after the seconds is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShortFraction {
    /// As decimals: `.25` is 250 ms (CANoe, python-can 4.1's trigger block).
    #[default]
    Decimal,
    /// As whole milliseconds: `.25` is 25 ms (later python-can writers).
    Milliseconds,
}

/// Whether the clock in an ASC date has a fraction of one or two digits, as
/// only a writer that does not pad milliseconds writes it.
pub fn has_short_fraction(text: &str) -> bool {
    text.split_ascii_whitespace()
        .find(|t| t.contains(':'))
        .and_then(|clock| clock.split_once('.'))
        .is_some_and(|(_, frac)| (1..=2).contains(&frac.len()))
}

/// Parses the text after `date ` (or after `Begin Triggerblock `) into ns
/// since the Unix epoch, reading the clock as UTC and the fraction as decimals.
pub fn parse_asc_date(text: &str) -> Option<u64> {
    parse_asc_date_with(text, ShortFraction::Decimal)
}

/// [`parse_asc_date`] with a choice of how a short fraction is read.
pub fn parse_asc_date_with(text: &str, short: ShortFraction) -> Option<u64> {
    let tokens: Vec<&str> = text.split_ascii_whitespace().take(8).collect();
    let m_at = tokens.iter().position(|t| month_number(t).is_some())?;
    let month = month_number(tokens[m_at])?;
    let day: u32 = tokens.get(m_at + 1)?.parse().ok()?;
    let clock = *tokens.get(m_at + 2)?;
    let mut rest = tokens[m_at + 3..].iter();
    let mut next = rest.next()?;
    let meridiem = match next.to_ascii_lowercase().as_str() {
        "am" => Some(false),
        "pm" => Some(true),
        _ => None,
    };
    if meridiem.is_some() {
        next = rest.next()?;
    }
    let year: i64 = next.parse().ok()?;
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut parts = hms.split(':');
    let mut hour: u64 = parts.next()?.parse().ok()?;
    let minute: u64 = parts.next()?.parse().ok()?;
    let second: u64 = parts.next()?.parse().ok()?;
    if parts.next().is_some()
        || !(1..=31).contains(&day)
        || minute > 59
        || second > 60
        || !(1..=9999).contains(&year)
        || frac.len() > 9
        || !frac.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    match meridiem {
        Some(pm) if (1..=12).contains(&hour) => hour = hour % 12 + if pm { 12 } else { 0 },
        Some(_) => return None,
        None if hour > 23 => return None,
        None => {}
    }
    let frac_ns = match (frac.len(), short) {
        (0, _) => 0,
        (1 | 2, ShortFraction::Milliseconds) => frac.parse::<u64>().ok()? * NS_PER_MS,
        (n, _) => frac.parse::<u64>().ok()? * 10u64.pow(9 - n as u32),
    };
    let days = days_from_civil(year, month, day);
    let secs = days.checked_mul(86_400)? + (hour * 3600 + minute * 60 + second) as i64;
    if secs < 0 {
        return None;
    }
    (secs as u64)
        .checked_mul(1_000_000_000)?
        .checked_add(frac_ns)
}

/// Formats ns since the Unix epoch (UTC) as CANoe does in English with a
/// 24-hour clock: `Sat Sep 30 15:06:13.191 2017` (milliseconds, cut).
pub fn format_asc_date(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let ms = (ns % 1_000_000_000) / NS_PER_MS;
    let days = (secs / 86_400) as i64;
    let tod = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{} {} {day:02} {:02}:{:02}:{:02}.{ms:03} {year}",
        ENGLISH_DAYS[weekday(days) as usize],
        ENGLISH_MONTHS[month as usize - 1],
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEP_30_2017: u64 = 1_506_729_600_000_000_000;

    #[test]
    fn short_fractions_as_decimals_or_unpadded_milliseconds() {
        let at = |clock: &str, short| {
            parse_asc_date_with(&format!("Sat Sep 30 {clock} 2017"), short).unwrap()
        };
        let base = SEP_30_2017 + 15 * 3_600_000_000_000 + 6 * 60_000_000_000 + 13_000_000_000;
        let ms = ShortFraction::Milliseconds;
        assert_eq!(at("15:06:13.5", ms), base + 5_000_000);
        assert_eq!(at("15:06:13.45", ms), base + 45_000_000);
        assert_eq!(at("15:06:13.5", ShortFraction::Decimal), base + 500_000_000);
        assert_eq!(
            at("15:06:13.45", ShortFraction::Decimal),
            base + 450_000_000
        );
        for short in [ms, ShortFraction::Decimal] {
            assert_eq!(at("15:06:13.045", short), base + 45_000_000);
            assert_eq!(at("15:06:13.450", short), base + 450_000_000);
            assert_eq!(at("15:06:13.123456", short), base + 123_456_000);
        }
        assert!(has_short_fraction("Mon Dec 07 04:20:01.5 PM 2026"));
        assert!(!has_short_fraction("Mon Dec 07 04:20:01.500 PM 2026"));
        assert!(!has_short_fraction("Mon Dec 07 04:20:01 PM 2026"));
    }

    #[test]
    fn languages_and_clocks() {
        let t = 15 * 3_600_000_000_000 + 6 * 60_000_000_000 + 13_191_000_000;
        assert_eq!(
            parse_asc_date("Sam Sep 30 15:06:13.191 2017"),
            Some(SEP_30_2017 + t)
        );
        assert_eq!(
            parse_asc_date("Sat Sep 30 15:06:13.191 2017"),
            Some(SEP_30_2017 + t)
        );
        let pm = parse_asc_date("Sat Sep 30 10:06:13.191 PM 2017").unwrap();
        assert_eq!(
            pm - SEP_30_2017,
            22 * 3_600_000_000_000 + 6 * 60_000_000_000 + 13_191_000_000
        );
        let am = parse_asc_date("Thu Apr 28 12:44:52.480 am 2022").unwrap();
        assert_eq!(
            am % 86_400_000_000_000,
            44 * 60_000_000_000 + 52_480_000_000
        );
        assert_eq!(month_number("Okt"), Some(10));
        assert_eq!(month_number("März"), Some(3));
        assert_eq!(month_number("Mai"), Some(5));
        assert_eq!(month_number("Dez"), Some(12));
        assert_eq!(parse_asc_date("Sat Sep 31 25:00:00 2017"), None);
        assert_eq!(parse_asc_date("nonsense"), None);
    }

    #[test]
    fn format_round_trips() {
        let t = SEP_30_2017 + 54_373_191_000_000;
        assert_eq!(format_asc_date(t), "Sat Sep 30 15:06:13.191 2017");
        assert_eq!(parse_asc_date(&format_asc_date(t)), Some(t));
        assert_eq!(format_asc_date(0), "Thu Jan 01 00:00:00.000 1970");
    }
}

#[cfg(test)]
mod locale_tests {
    use super::*;

    #[test]
    fn month_names_of_several_locales() {
        let cases = [
            ("janv.", 1),
            ("févr.", 2),
            ("Mär", 3),
            ("mrt", 3),
            ("avr.", 4),
            ("abr", 4),
            ("Mai", 5),
            ("mag", 5),
            ("maj", 5),
            ("juin", 6),
            ("giu", 6),
            ("juil.", 7),
            ("lug", 7),
            ("août", 8),
            ("ago", 8),
            ("set", 9),
            ("Okt", 10),
            ("ott", 10),
            ("out", 10),
            ("déc.", 12),
            ("dic", 12),
            ("Dez", 12),
        ];
        for (name, month) in cases {
            assert_eq!(month_number(name), Some(month), "{name}");
        }
        assert_eq!(month_number("jui"), None, "ambiguous in French");
        assert_eq!(month_number("xyz"), None);
    }

    #[test]
    fn a_french_header_date_reads_like_the_english_one() {
        let a = parse_asc_date("ven. sept. 29 15:06:13.191 2017").unwrap();
        let b = parse_asc_date("Fri Sep 29 15:06:13.191 2017").unwrap();
        assert_eq!(a, b);
    }
}
