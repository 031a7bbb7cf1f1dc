//! SQLite logs (`.db`) in python-can's layout, read and written with the
//! bundled SQLite.
//!
//! python-can's `SqliteWriter` keeps one table (`messages` unless named
//! otherwise) with the columns
//! `ts REAL, arbitration_id INTEGER, extended INTEGER, remote INTEGER,
//! error INTEGER, dlc INTEGER, data BLOB`: seconds since the epoch as a double,
//! flags as 0/1, the data length for FD frames and the DLC otherwise.
//!
//! What the layout keeps and loses, and what canwire does about it:
//!
//! | frame field        | in the table | read back as                                 |
//! |--------------------|--------------|----------------------------------------------|
//! | timestamp          | `ts` double  | the nearest ns of the double (about 0.2 µs at today's epoch) |
//! | id, extended       | yes          | exact                                        |
//! | remote, error      | yes          | exact                                        |
//! | data, classic DLC 9..15 with 8 bytes | yes | exact                              |
//! | FD flag            | no           | FD when more than 8 bytes, classic otherwise |
//! | BRS, ESI           | no           | cleared                                      |
//! | channel, direction | no           | channel 0, received                          |
//!
//! FD frames are written (as python-can writes them), not refused: the loss is
//! the layout's and is the same in python-can's CSV flavor.
//!
//! - [`row`] — one table row and the frame it stands for, both ways (pure)
//! - [`reader`] — rows read in pages of rowids, bad rows counted
//! - [`writer`] — frames buffered, one transaction per flush
//!
//! Errors: a file that is no database is `ERR_CORRUPT_FILE`, as is a
//! database without the table; other SQLite failures are `ERR_OS` with
//! SQLite's message; a table name that is no plain identifier is
//! `ERR_INVALID_ARGUMENT`.

pub mod reader;
pub mod row;
pub mod writer;

use std::path::Path;

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};

pub use reader::SqliteFrameReader;
pub use writer::SqliteFrameWriter;

/// python-can's table name.
pub const DEFAULT_TABLE: &str = "messages";

/// Checks a table name: letters, digits and `_`, not starting with a digit,
/// at most 64 characters (python-can pastes the name into its SQL).
pub fn check_table_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CanwireError::invalid_argument(format!(
            "SQLite table name '{name}' is not allowed: use 1..64 letters, digits or '_', \
             not starting with a digit"
        )))
    }
}

/// Maps an SQLite failure to a typed error naming the file.
pub(crate) fn sqlite_error(e: &rusqlite::Error, what: &str, path: &Path) -> CanwireError {
    use rusqlite::ffi::ErrorCode as Sql;
    let code = match e.sqlite_error_code() {
        Some(Sql::NotADatabase | Sql::DatabaseCorrupt) => ErrorCode::CorruptFile,
        _ => ErrorCode::Os,
    };
    CanwireError::new(code, format!("{what} SQLite log '{}': {e}", path.display()))
}
