//! The numeric steps python-can's bit timing takes, reproduced exactly:
//! integer inputs, IEEE double division, Python's `round` (half to even) and
//! `int` (toward zero).

use crate::CanwireError;

/// Python's `round(x)` for a float: to the nearest integer, ties to even.
pub fn py_round(x: f64) -> i64 {
    x.round_ties_even() as i64
}

/// Python's `a / b` on two integers, as a double.
pub fn py_div(a: i64, b: i64) -> f64 {
    a as f64 / b as f64
}

/// The bitrate a clock gives for `quanta_per_bit * brp` clock periods, rounded as python-can does.
pub fn bitrate_of(f_clock: u64, quanta_per_bit: u32, brp: u32) -> u32 {
    let periods = u64::from(quanta_per_bit) * u64::from(brp);
    py_round(f_clock as f64 / periods as f64) as u32
}

/// One time quantum in nanoseconds, rounded as python-can does.
pub fn tq_ns(f_clock: u64, brp: u32) -> u32 {
    py_round(f64::from(brp) / f_clock as f64 * 1e9) as u32
}

/// Sample point in percent: the sync quantum plus `tseg1` over the whole bit.
pub fn sample_point_of(tseg1: u32, tseg2: u32) -> f64 {
    100.0 * f64::from(1 + tseg1) / f64::from(1 + tseg1 + tseg2)
}

/// Whether `effective` is off `requested` by more than 1/256 of it (python-can's tolerance).
pub fn diverges(effective: f64, requested: i64) -> bool {
    (effective - requested as f64).abs() > requested as f64 / 256.0
}

/// `f_clock` as the positive frequency every formula divides by.
pub fn checked_clock(f_clock: i64) -> Result<u64, CanwireError> {
    if f_clock < 1 {
        return Err(CanwireError::invalid_argument(format!(
            "f_clock (={f_clock}) must be a positive clock frequency in Hz"
        )));
    }
    Ok(f_clock as u64)
}

/// A requested bitrate, which must be positive.
pub fn checked_bitrate(name: &str, bitrate: i64) -> Result<i64, CanwireError> {
    if bitrate < 1 {
        return Err(CanwireError::invalid_argument(format!(
            "{name} (={bitrate}) must be a positive bitrate in bit/s"
        )));
    }
    Ok(bitrate)
}

/// A requested sample point: a finite percentage of at least 50.
pub fn checked_sample_point(name: &str, sample_point: f64) -> Result<f64, CanwireError> {
    if !sample_point.is_finite() || sample_point < 50.0 {
        return Err(CanwireError::invalid_argument(format!(
            "{name} (={sample_point}) must be a percentage of at least 50"
        )));
    }
    Ok(sample_point)
}

/// An integer with `_` between thousands, as Python's `{:_}` writes it.
pub fn with_underscores(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_is_half_to_even_like_python() {
        assert_eq!(py_round(0.5), 0);
        assert_eq!(py_round(1.5), 2);
        assert_eq!(py_round(2.5), 2);
        assert_eq!(py_round(2.5000001), 3);
    }

    #[test]
    fn underscores_group_thousands() {
        assert_eq!(with_underscores(0), "0");
        assert_eq!(with_underscores(999), "999");
        assert_eq!(with_underscores(1000), "1_000");
        assert_eq!(with_underscores(500_000), "500_000");
        assert_eq!(with_underscores(8_000_000), "8_000_000");
    }

    #[test]
    fn divergence_is_more_than_one_256th() {
        assert!(!diverges(500_000.0 + 1953.125, 500_000));
        assert!(diverges(500_000.0 + 1953.2, 500_000));
    }
}
