//! The BLF file header ("LOGG", 144 bytes) and the SYSTEMTIME it stores its
//! start and stop times in.
//!
//! | off | type | field |
//! |---|---|---|
//! | 0 | char\[4\] | `"LOGG"` |
//! | 4 | u32 | header size (144 when written; readers skip what they do not know) |
//! | 8 | u8 ×4 | application id, major, minor, build |
//! | 12 | u8 ×4 | binlog major, minor, build, patch |
//! | 16 | u64 | file size |
//! | 24 | u64 | uncompressed size: header + Σ(32 + raw container bytes) |
//! | 32 | u32 | object count |
//! | 36 | u32 | objects read |
//! | 40 | u16 ×8 | start SYSTEMTIME (UTC) |
//! | 56 | u16 ×8 | stop SYSTEMTIME (UTC) |
//! | 72 | | zero up to the header size |

use super::bytes::{put, u8_at, u16_at, u32_at, u64_at};
use crate::error::{CanwireError, ErrorCode, Result};
use crate::logfile::time::{civil_from_days, days_from_civil, weekday};

/// The file signature.
pub const FILE_SIGNATURE: &[u8; 4] = b"LOGG";
/// Size of the header as written (and as most tools write it).
pub const FILE_HEADER_SIZE: usize = 144;
/// Bytes of the header that carry fields; the rest is zero.
pub const FILE_HEADER_FIELDS: usize = 72;
/// Largest header size accepted when reading.
pub const MAX_FILE_HEADER_SIZE: u32 = 64 * 1024;

/// A Windows SYSTEMTIME: calendar fields with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct SystemTime {
    /// Year, e.g. 2024.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u16,
    /// Day of the week, 0 = Sunday.
    pub day_of_week: u16,
    /// Day of the month, 1..=31.
    pub day: u16,
    /// Hour, 0..=23.
    pub hour: u16,
    /// Minute, 0..=59.
    pub minute: u16,
    /// Second, 0..=59.
    pub second: u16,
    /// Millisecond, 0..=999.
    pub milliseconds: u16,
}

const NS_PER_MS: u64 = 1_000_000;
const NS_PER_SEC: u64 = 1_000_000_000;
const SECS_PER_DAY: u64 = 86_400;

impl SystemTime {
    /// True if every field is zero ("no time"), as files without a start time store it.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// The UTC calendar time of `unix_ns`, truncated to the millisecond.
    pub fn from_unix_ns(unix_ns: u64) -> Self {
        let secs = unix_ns / NS_PER_SEC;
        let days = (secs / SECS_PER_DAY) as i64;
        let rem = secs % SECS_PER_DAY;
        let (year, month, day) = civil_from_days(days);
        Self {
            year: year.clamp(0, i64::from(u16::MAX)) as u16,
            month: month as u16,
            day_of_week: weekday(days) as u16,
            day: day as u16,
            hour: (rem / 3600) as u16,
            minute: (rem % 3600 / 60) as u16,
            second: (rem % 60) as u16,
            milliseconds: ((unix_ns % NS_PER_SEC) / NS_PER_MS) as u16,
        }
    }

    /// Nanoseconds since the Unix epoch; `None` for the zero time, for fields out
    /// of range and for dates before 1970. The day of the week is not checked.
    pub fn to_unix_ns(&self) -> Option<u64> {
        if self.is_zero()
            || !(1..=12).contains(&self.month)
            || !(1..=31).contains(&self.day)
            || self.hour > 23
            || self.minute > 59
            || self.second > 60
            || self.milliseconds > 999
        {
            return None;
        }
        let days = days_from_civil(
            i64::from(self.year),
            u32::from(self.month),
            u32::from(self.day),
        );
        let days = u64::try_from(days).ok()?;
        let secs = days * SECS_PER_DAY
            + u64::from(self.hour) * 3600
            + u64::from(self.minute) * 60
            + u64::from(self.second);
        secs.checked_mul(NS_PER_SEC)?
            .checked_add(u64::from(self.milliseconds) * NS_PER_MS)
    }

    fn read(b: &[u8], off: usize) -> Self {
        let f = |i: usize| u16_at(b, off + 2 * i);
        Self {
            year: f(0),
            month: f(1),
            day_of_week: f(2),
            day: f(3),
            hour: f(4),
            minute: f(5),
            second: f(6),
            milliseconds: f(7),
        }
    }

    fn write(&self, b: &mut [u8], off: usize) {
        let fields = [
            self.year,
            self.month,
            self.day_of_week,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.milliseconds,
        ];
        for (i, v) in fields.iter().enumerate() {
            put(b, off + 2 * i, &v.to_le_bytes());
        }
    }
}

/// The decoded file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileHeader {
    /// Header size in bytes as stored (144 for files this crate writes).
    pub header_size: u32,
    /// Application id, major, minor, build.
    pub application: [u8; 4],
    /// Binlog library major, minor, build, patch.
    pub binlog_version: [u8; 4],
    /// File size in bytes as recorded by the writer (0 if never finished).
    pub file_size: u64,
    /// Header size plus the uncompressed size of every container object.
    pub uncompressed_size: u64,
    /// Number of objects as recorded by the writer.
    pub object_count: u32,
    /// The "objects read" field (0 when written).
    pub objects_read: u32,
    /// Measurement start time, UTC.
    pub start_time: SystemTime,
    /// Time of the last object, UTC.
    pub stop_time: SystemTime,
}

impl Default for FileHeader {
    /// The header this crate writes before any object: application 5 (as
    /// python-can), binlog 2.6.8.1, sizes and counts zero.
    fn default() -> Self {
        Self {
            header_size: FILE_HEADER_SIZE as u32,
            application: [5, 0, 0, 0],
            binlog_version: [2, 6, 8, 1],
            file_size: FILE_HEADER_SIZE as u64,
            uncompressed_size: FILE_HEADER_SIZE as u64,
            object_count: 0,
            objects_read: 0,
            start_time: SystemTime::default(),
            stop_time: SystemTime::default(),
        }
    }
}

impl FileHeader {
    /// Decodes the first [`FILE_HEADER_FIELDS`] bytes of a file. `b` shorter than
    /// that is a truncated file; a wrong signature or header size is corrupt.
    pub fn parse(b: &[u8]) -> Result<Self> {
        if b.len() < FILE_HEADER_FIELDS {
            return Err(CanwireError::new(
                ErrorCode::TruncatedFile,
                format!(
                    "BLF file header truncated at byte offset {}: it needs {FILE_HEADER_FIELDS} bytes",
                    b.len()
                ),
            ));
        }
        if &b[..4] != FILE_SIGNATURE {
            return Err(CanwireError::new(
                ErrorCode::CorruptFile,
                "not a BLF file: byte offset 0 does not hold the signature \"LOGG\"",
            ));
        }
        let header_size = u32_at(b, 4);
        if !(FILE_HEADER_FIELDS as u32..=MAX_FILE_HEADER_SIZE).contains(&header_size) {
            return Err(CanwireError::new(
                ErrorCode::CorruptFile,
                format!(
                    "BLF header size {header_size} at byte offset 4 is out of range: allowed {FILE_HEADER_FIELDS}..={MAX_FILE_HEADER_SIZE}"
                ),
            ));
        }
        Ok(Self {
            header_size,
            application: [u8_at(b, 8), u8_at(b, 9), u8_at(b, 10), u8_at(b, 11)],
            binlog_version: [u8_at(b, 12), u8_at(b, 13), u8_at(b, 14), u8_at(b, 15)],
            file_size: u64_at(b, 16),
            uncompressed_size: u64_at(b, 24),
            object_count: u32_at(b, 32),
            objects_read: u32_at(b, 36),
            start_time: SystemTime::read(b, 40),
            stop_time: SystemTime::read(b, 56),
        })
    }

    /// Encodes the header as [`FILE_HEADER_SIZE`] bytes (the stored header size is
    /// always written as 144).
    pub fn to_bytes(&self) -> [u8; FILE_HEADER_SIZE] {
        let mut b = [0u8; FILE_HEADER_SIZE];
        put(&mut b, 0, FILE_SIGNATURE);
        put(&mut b, 4, &(FILE_HEADER_SIZE as u32).to_le_bytes());
        put(&mut b, 8, &self.application);
        put(&mut b, 12, &self.binlog_version);
        put(&mut b, 16, &self.file_size.to_le_bytes());
        put(&mut b, 24, &self.uncompressed_size.to_le_bytes());
        put(&mut b, 32, &self.object_count.to_le_bytes());
        put(&mut b, 36, &self.objects_read.to_le_bytes());
        self.start_time.write(&mut b, 40);
        self.stop_time.write(&mut b, 56);
        b
    }

    /// The start time as nanoseconds since the Unix epoch (0 if absent or invalid).
    pub fn start_unix_ns(&self) -> u64 {
        self.start_time.to_unix_ns().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemtime_round_trips_to_the_millisecond() {
        // 2021-11-09T19:17:05.998908Z (python-can's test value), a Tuesday.
        let ns = 1_636_485_425_998_908_000;
        let st = SystemTime::from_unix_ns(ns);
        assert_eq!(
            (
                st.year,
                st.month,
                st.day,
                st.hour,
                st.minute,
                st.second,
                st.milliseconds
            ),
            (2021, 11, 9, 19, 17, 5, 998)
        );
        assert_eq!(st.day_of_week, 2);
        assert_eq!(st.to_unix_ns(), Some(1_636_485_425_998_000_000));
        for ns in [
            0u64,
            86_399_999_000_000,
            951_782_400_000_000_000,
            4_102_444_800_123_000_000,
        ] {
            assert_eq!(SystemTime::from_unix_ns(ns).to_unix_ns().unwrap_or(0), ns);
        }
    }

    #[test]
    fn zero_and_invalid_times_have_no_unix_value() {
        assert_eq!(SystemTime::default().to_unix_ns(), None);
        let bad = SystemTime {
            year: 2020,
            month: 13,
            day: 1,
            ..SystemTime::default()
        };
        assert_eq!(bad.to_unix_ns(), None);
        let early = SystemTime {
            year: 1601,
            month: 1,
            day: 1,
            ..SystemTime::default()
        };
        assert_eq!(early.to_unix_ns(), None);
    }

    #[test]
    fn header_round_trips_and_rejects_bad_input() {
        let h = FileHeader {
            file_size: 1234,
            uncompressed_size: 5678,
            object_count: 9,
            start_time: SystemTime::from_unix_ns(1_700_000_000_000_000_000),
            stop_time: SystemTime::from_unix_ns(1_700_000_001_000_000_000),
            ..FileHeader::default()
        };
        let b = h.to_bytes();
        assert_eq!(FileHeader::parse(&b), Ok(h));
        assert_eq!(
            FileHeader::parse(&b[..71]).unwrap_err().code,
            ErrorCode::TruncatedFile
        );
        let mut bad = b;
        bad[0] = b'X';
        assert_eq!(
            FileHeader::parse(&bad).unwrap_err().code,
            ErrorCode::CorruptFile
        );
        let mut bad = b;
        bad[4..8].copy_from_slice(&16u32.to_le_bytes());
        assert_eq!(
            FileHeader::parse(&bad).unwrap_err().code,
            ErrorCode::CorruptFile
        );
    }
}
