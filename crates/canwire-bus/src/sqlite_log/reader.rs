//! Reads python-can's table a page of rowids at a time, so memory stays
//! bounded however big the file; rows come in rowid order (the order they
//! were inserted, which is what python-can's `SELECT *` gives).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use canwire_core::Frame;
use canwire_core::error::Result;
use canwire_core::logfile::{FrameReader, IssueKind, LogFormat, ReadStats};
use canwire_core::{CanwireError, ErrorCode};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::row::{Row, row_to_frame};
use super::{check_table_name, sqlite_error};

/// Rows fetched per query.
const PAGE_ROWS: usize = 8192;

/// A reader of python-can's table in a `.db` file. Row issues are counted
/// in [`ReadStats`] with the rowid as their line.
pub struct SqliteFrameReader {
    conn: Connection,
    path: PathBuf,
    select: String,
    last_rowid: i64,
    page: VecDeque<(i64, std::result::Result<Row, String>)>,
    done: bool,
    stats: ReadStats,
}

impl SqliteFrameReader {
    /// Opens `path` read-only and checks that `table` has python-can's columns.
    pub fn open(path: &Path, table: &str) -> Result<Self> {
        check_table_name(table)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sqlite_error(&e, "opening", path))?;
        let columns = table_columns(&conn, table).map_err(|e| sqlite_error(&e, "reading", path))?;
        let wanted = [
            "ts",
            "arbitration_id",
            "extended",
            "remote",
            "error",
            "dlc",
            "data",
        ];
        if columns.is_empty() {
            return Err(CanwireError::new(
                ErrorCode::CorruptFile,
                format!("SQLite log '{}' has no table '{table}'", path.display()),
            ));
        }
        if let Some(missing) = wanted
            .iter()
            .find(|c| !columns.iter().any(|have| have == *c))
        {
            return Err(CanwireError::new(
                ErrorCode::CorruptFile,
                format!(
                    "table '{table}' of SQLite log '{}' has no column '{missing}': python-can's \
                     columns are {}",
                    path.display(),
                    wanted.join(", ")
                ),
            ));
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            select: format!(
                "SELECT rowid, ts, arbitration_id, extended, remote, error, dlc, data \
                 FROM \"{table}\" WHERE rowid > ?1 ORDER BY rowid LIMIT {PAGE_ROWS}"
            ),
            last_rowid: i64::MIN,
            page: VecDeque::new(),
            done: false,
            stats: ReadStats::default(),
        })
    }

    fn fetch_page(&mut self) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(&self.select)
            .map_err(|e| sqlite_error(&e, "reading", &self.path))?;
        let rows = stmt
            .query_map([self.last_rowid], |r| Ok((r.get(0)?, parse_row(r)?)))
            .map_err(|e| sqlite_error(&e, "reading", &self.path))?;
        for row in rows {
            let row = row.map_err(|e| sqlite_error(&e, "reading", &self.path))?;
            self.last_rowid = row.0;
            self.page.push_back(row);
        }
        if self.page.len() < PAGE_ROWS {
            self.done = true;
        }
        Ok(())
    }
}

fn table_columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    names.collect()
}

/// A column value detached from the statement.
/// A column value's kind, for the message of a row that does not parse.
fn kind(v: ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    }
}

/// One row's columns `ts, arbitration_id, extended, remote, error, dlc, data`
/// (at indexes 1..=7 of the query), read in place: the data is copied once.
fn parse_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<std::result::Result<Row, String>> {
    let mut values = [ValueRef::Null; 7];
    for (i, v) in values.iter_mut().enumerate() {
        *v = r.get_ref(i + 1)?;
    }
    let int = |i: usize, name: &str| match values[i] {
        ValueRef::Integer(v) => Ok(v),
        other => Err(format!("{name} is {}, not an integer", kind(other))),
    };
    let ts = match values[0] {
        ValueRef::Real(f) => f,
        ValueRef::Integer(i) => i as f64,
        other => return Ok(Err(format!("ts is {}, not a number", kind(other)))),
    };
    let data = match values[6] {
        ValueRef::Blob(b) | ValueRef::Text(b) => b.to_vec(),
        ValueRef::Null => Vec::new(),
        other => return Ok(Err(format!("data is {}, not a blob", kind(other)))),
    };
    let row = (|| {
        Ok(Row {
            ts,
            arbitration_id: int(1, "arbitration_id")?,
            extended: int(2, "extended")? != 0,
            remote: int(3, "remote")? != 0,
            error: int(4, "error")? != 0,
            dlc: int(5, "dlc")?,
            data,
        })
    })();
    Ok(row)
}

impl Iterator for SqliteFrameReader {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.page.is_empty() {
                if self.done {
                    return None;
                }
                if let Err(e) = self.fetch_page() {
                    self.done = true;
                    return Some(Err(e));
                }
                continue;
            }
            let (rowid, row) = self.page.pop_front()?;
            self.stats.lines += 1;
            let line = u64::try_from(rowid).unwrap_or(0);
            match row.and_then(|r| row_to_frame(&r).map_err(|e| e.message)) {
                Ok(frame) => {
                    self.stats.frames += 1;
                    return Some(Ok(frame));
                }
                Err(reason) => {
                    self.stats
                        .record(line, IssueKind::Unknown, &format!("row {rowid}: {reason}"));
                }
            }
        }
    }
}

impl FrameReader for SqliteFrameReader {
    fn stats(&self) -> ReadStats {
        self.stats.clone()
    }

    fn format(&self) -> LogFormat {
        LogFormat::Sqlite
    }
}
