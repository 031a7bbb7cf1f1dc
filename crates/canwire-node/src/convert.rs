//! The one place where option values from JS become Rust values.
//!
//! JS numbers arrive as `f64` (a napi `u32` parameter would wrap `2**32` to
//! 0 and `-1` to 4294967295 before any check could see it). Every function
//! here either returns the exact value or an `ERR_INVALID_ARGUMENT` that
//! names the option and the allowed range; none wraps, clamps or truncates.
//!
//! | function | accepts | meaning of the edges |
//! |---|---|---|
//! | [`integer`] | whole numbers in a range | NaN, ±Infinity, fractions, out of range: error |
//! | [`duration_ms`] | milliseconds in (0, [`MAX_DURATION_MS`]] | rounds to whole ns; below 1 ns: error |
//! | [`duration_s`] | seconds in (0, [`MAX_DURATION_MS`] / 1000] | as `duration_ms` |
//! | [`timeout_ms`] | milliseconds in [0, [`MAX_DURATION_MS`]] or +Infinity | absent or Infinity: no timeout; 0: do not wait |

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::time::Duration;

use canwire_core::CanwireError;
use canwire_core::error::Result;

/// The longest duration an option may give, in milliseconds (about 31.7 years).
pub const MAX_DURATION_MS: f64 = 1e12;

/// 2^64 as an `f64`: the first value above every `u64`.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// `value` as an integer of type `T` within `range`.
pub fn integer<T>(name: &str, value: f64, range: RangeInclusive<T>) -> Result<T>
where
    T: Copy + Display + Into<u64> + TryFrom<u64>,
{
    let (lo, hi) = (*range.start(), *range.end());
    let error = || {
        CanwireError::invalid_argument(format!(
            "{name} must be an integer {lo}..={hi}, got {}",
            js_number(value)
        ))
    };
    if !value.is_finite() || value.fract() != 0.0 || !(0.0..TWO_POW_64).contains(&value) {
        return Err(error());
    }
    // exact: value is a whole number in 0..2^64
    let whole = value as u64;
    if whole < lo.into() || whole > hi.into() {
        return Err(error());
    }
    T::try_from(whole).map_err(|_| error())
}

/// An integer in `0..=max` for id-like values (ids, masks), named in hex in
/// messages (`filters[0].mask must be an integer 0..=0x1fffffff, got -1`).
pub fn id_bits(name: &str, value: f64, max: u32) -> Result<u32> {
    integer(name, value, 0..=max).map_err(|_| {
        CanwireError::invalid_argument(format!(
            "{name} must be an integer 0..={max:#x}, got {}",
            js_number(value)
        ))
    })
}

/// An optional [`integer`].
pub fn optional_integer<T>(
    name: &str,
    value: Option<f64>,
    range: RangeInclusive<T>,
) -> Result<Option<T>>
where
    T: Copy + Display + Into<u64> + TryFrom<u64>,
{
    value.map(|v| integer(name, v, range)).transpose()
}

/// A positive duration given in milliseconds, in nanoseconds.
pub fn duration_ms(name: &str, ms: f64) -> Result<u64> {
    positive_ns(name, ms, 1e6, "milliseconds", MAX_DURATION_MS)
}

/// A positive duration given in seconds, in nanoseconds.
pub fn duration_s(name: &str, seconds: f64) -> Result<u64> {
    positive_ns(name, seconds, 1e9, "seconds", MAX_DURATION_MS / 1000.0)
}

/// An optional [`duration_ms`].
pub fn optional_duration_ms(name: &str, ms: Option<f64>) -> Result<Option<u64>> {
    ms.map(|v| duration_ms(name, v)).transpose()
}

fn positive_ns(name: &str, value: f64, ns_per_unit: f64, unit: &str, max: f64) -> Result<u64> {
    if !(value > 0.0 && value <= max) {
        return Err(CanwireError::invalid_argument(format!(
            "{name} must be a number of {unit} > 0 and <= {max}, got {}",
            js_number(value)
        )));
    }
    // exact enough: max * ns_per_unit = 1e18 < 2^64
    let ns = (value * ns_per_unit).round() as u64;
    if ns == 0 {
        return Err(CanwireError::invalid_argument(format!(
            "{name} is {} {unit}, below the 1 ns resolution",
            js_number(value)
        )));
    }
    Ok(ns)
}

/// How long a wait may last: `None` (absent or `Infinity`) waits without a
/// timeout; 0 does not wait.
pub fn timeout_ms(name: &str, ms: Option<f64>) -> Result<Option<Duration>> {
    match ms {
        None => Ok(None),
        Some(v) if v == f64::INFINITY => Ok(None),
        Some(v) if (0.0..=MAX_DURATION_MS).contains(&v) => {
            Ok(Some(Duration::from_nanos((v * 1e6).round() as u64)))
        }
        Some(v) => Err(CanwireError::invalid_argument(format!(
            "{name} must be a number of milliseconds 0..={MAX_DURATION_MS} or Infinity, got {}",
            js_number(v)
        ))),
    }
}

/// A JS number as JS prints it (`NaN`, `Infinity`, `4294967296`), for messages.
pub fn js_number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value == 0.0 {
        "0".into()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if value.abs() >= 1e21 || (value != 0.0 && value.abs() < 1e-6) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::ErrorCode;

    fn message<T: std::fmt::Debug>(result: Result<T>) -> String {
        let error = result.expect_err("an error");
        assert_eq!(error.code, ErrorCode::InvalidArgument);
        error.message
    }

    #[test]
    fn integers_are_exact_or_refused() {
        assert_eq!(
            integer::<u32>("id", 4_294_967_295.0, 0..=u32::MAX),
            Ok(u32::MAX)
        );
        assert_eq!(integer::<u8>("stmin", 0.0, 0..=255), Ok(0));
        assert_eq!(integer::<u8>("stmin", -0.0, 0..=255), Ok(0));
        assert_eq!(
            message(integer::<u32>("id", 4_294_967_296.0, 0..=u32::MAX)),
            "id must be an integer 0..=4294967295, got 4294967296"
        );
        assert_eq!(
            message(integer::<u32>("max", -1.0, 1..=1000)),
            "max must be an integer 1..=1000, got -1"
        );
        assert_eq!(
            message(integer::<u32>("max", f64::NAN, 1..=1000)),
            "max must be an integer 1..=1000, got NaN"
        );
        assert_eq!(
            message(integer::<u32>("max", 1.5, 1..=1000)),
            "max must be an integer 1..=1000, got 1.5"
        );
        assert_eq!(
            message(integer::<u64>("n", 1e300, 0..=u64::MAX)),
            "n must be an integer 0..=18446744073709551615, got 1e300"
        );
        assert_eq!(
            message(integer::<u64>("n", TWO_POW_64, 0..=u64::MAX)),
            "n must be an integer 0..=18446744073709551615, got 18446744073709552000"
        );
        assert_eq!(
            message(integer::<u32>("n", f64::INFINITY, 0..=9)),
            "n must be an integer 0..=9, got Infinity"
        );
        assert_eq!(optional_integer::<u8>("x", None, 0..=1), Ok(None));
        assert_eq!(id_bits("mask", 0x7FF.into(), 0x7FF), Ok(0x7FF));
        assert_eq!(
            message(id_bits("filters[0].id", 2f64.powi(32), 0x1FFF_FFFF)),
            "filters[0].id must be an integer 0..=0x1fffffff, got 4294967296"
        );
    }

    #[test]
    fn durations_round_to_whole_nanoseconds_and_refuse_the_rest() {
        assert_eq!(duration_ms("periodMs", 10.0), Ok(10_000_000));
        assert_eq!(duration_ms("periodMs", 0.0000015), Ok(2));
        assert_eq!(
            duration_ms("periodMs", MAX_DURATION_MS),
            Ok(1_000_000_000_000_000_000)
        );
        assert_eq!(duration_s("rateLimitWindowSize", 0.2), Ok(200_000_000));
        for bad in [
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            1e300,
            MAX_DURATION_MS * 1.01,
        ] {
            let text = message(duration_ms("periodMs", bad));
            assert!(
                text.starts_with(
                    "periodMs must be a number of milliseconds > 0 and <= 1000000000000, got "
                ),
                "{text}"
            );
        }
        assert_eq!(
            message(duration_ms("periodMs", 1e-7)),
            "periodMs is 1e-7 milliseconds, below the 1 ns resolution"
        );
        assert_eq!(
            message(duration_s("overrideReceiverStmin", -1.0)),
            "overrideReceiverStmin must be a number of seconds > 0 and <= 1000000000, got -1"
        );
    }

    #[test]
    fn timeouts_know_infinity_and_zero() {
        assert_eq!(timeout_ms("timeoutMs", None), Ok(None));
        assert_eq!(timeout_ms("timeoutMs", Some(f64::INFINITY)), Ok(None));
        assert_eq!(timeout_ms("timeoutMs", Some(0.0)), Ok(Some(Duration::ZERO)));
        assert_eq!(
            timeout_ms("timeoutMs", Some(1.5)),
            Ok(Some(Duration::from_micros(1500)))
        );
        assert_eq!(
            message(timeout_ms("timeoutMs", Some(-1.0))),
            "timeoutMs must be a number of milliseconds 0..=1000000000000 or Infinity, got -1"
        );
        message(timeout_ms("timeoutMs", Some(f64::NAN)));
        message(timeout_ms("timeoutMs", Some(1e300)));
    }

    #[test]
    fn numbers_print_as_js_prints_them() {
        assert_eq!(js_number(2f64.powi(32)), "4294967296");
        assert_eq!(js_number(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(js_number(0.25), "0.25");
        assert_eq!(js_number(-0.0), "0");
        assert_eq!(js_number(1e300), "1e300");
    }
}
