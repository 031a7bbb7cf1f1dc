//! Reads python-can's table a page of rowids at a time, so memory stays
//! bounded however big the file; rows come in rowid order (the order they
//! were inserted, which is what python-can's `SELECT *` gives). Each row
//! becomes a frame in place, from the statement's own column buffers: no
//! allocation per row.

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

/// Rows fetched per query at most.
const PAGE_ROWS: usize = 8192;

/// A reader of python-can's table in a `.db` file. Row issues are counted
/// in [`ReadStats`] with the rowid as their line.
pub struct SqliteFrameReader {
    conn: Connection,
    path: PathBuf,
    select: String,
    last_rowid: i64,
    /// Frames read ahead for the one-at-a-time iterator.
    ahead: VecDeque<Frame>,
    scratch: Vec<Frame>,
    /// A read failure after frames that were returned first.
    deferred: Option<CanwireError>,
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
                 FROM \"{table}\" WHERE rowid > ?1 ORDER BY rowid LIMIT ?2"
            ),
            last_rowid: i64::MIN,
            ahead: VecDeque::new(),
            scratch: Vec::new(),
            deferred: None,
            done: false,
            stats: ReadStats::default(),
        })
    }

    /// Reads the next page of up to `rows` rows (at most [`PAGE_ROWS`]),
    /// appending their frames to `out` and counting rows that give none.
    fn read_page(&mut self, rows: usize, out: &mut Vec<Frame>) -> Result<()> {
        let rows = rows.clamp(1, PAGE_ROWS);
        let path = &self.path;
        let fail = |e: rusqlite::Error| sqlite_error(&e, "reading", path);
        let mut stmt = self.conn.prepare_cached(&self.select).map_err(fail)?;
        let mut cursor = stmt.query([self.last_rowid, rows as i64]).map_err(fail)?;
        let mut seen = 0;
        while let Some(r) = cursor.next().map_err(fail)? {
            let rowid: i64 = r.get(0).map_err(fail)?;
            self.last_rowid = rowid;
            seen += 1;
            self.stats.lines += 1;
            let frame = parse_row(r)
                .map_err(fail)?
                .and_then(|row| row_to_frame(&row).map_err(|e| e.message));
            match frame {
                Ok(frame) => {
                    self.stats.frames += 1;
                    out.push(frame);
                }
                Err(reason) => {
                    let line = u64::try_from(rowid).unwrap_or(0);
                    self.stats
                        .record(line, IssueKind::Unknown, &format!("row {rowid}: {reason}"));
                }
            }
        }
        if seen < rows {
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
/// (at indexes 1..=7 of the query), borrowed from the statement.
fn parse_row<'r>(
    r: &'r rusqlite::Row<'_>,
) -> rusqlite::Result<std::result::Result<Row<'r>, String>> {
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
    let data: &'r [u8] = match values[6] {
        ValueRef::Blob(b) | ValueRef::Text(b) => b,
        ValueRef::Null => &[],
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

impl SqliteFrameReader {
    /// Frames of the rows after the last one read, until `out` holds `max`
    /// more or the table ends; a failure after some frames waits for the next call.
    fn fill(&mut self, out: &mut Vec<Frame>, max: usize) -> Result<usize> {
        let before = out.len();
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        while !self.done && out.len() - before < max {
            if let Err(e) = self.read_page(max - (out.len() - before), out) {
                self.done = true;
                if out.len() == before {
                    return Err(e);
                }
                self.deferred = Some(e);
            }
        }
        Ok(out.len() - before)
    }
}

impl Iterator for SqliteFrameReader {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ahead.is_empty() {
            let mut page = std::mem::take(&mut self.scratch);
            page.clear();
            let filled = self.fill(&mut page, PAGE_ROWS);
            self.ahead.extend(page.drain(..));
            self.scratch = page;
            if let Err(e) = filled {
                return Some(Err(e));
            }
        }
        self.ahead.pop_front().map(Ok)
    }
}

impl FrameReader for SqliteFrameReader {
    fn read_frames(&mut self, out: &mut Vec<Frame>, max: usize) -> Result<usize> {
        if self.ahead.is_empty() {
            return self.fill(out, max);
        }
        let n = max.min(self.ahead.len());
        out.extend(self.ahead.drain(..n));
        Ok(n)
    }

    fn stats(&self) -> ReadStats {
        self.stats.clone()
    }

    fn format(&self) -> LogFormat {
        LogFormat::Sqlite
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite_log::SqliteFrameWriter;
    use canwire_core::logfile::FrameWriter;

    #[test]
    fn batches_span_pages_and_skip_bad_rows_in_rowid_order() {
        let path = std::env::temp_dir().join(format!(
            "canwire-sqlite-reader-{}-pages.db",
            std::process::id()
        ));
        let total = 2 * PAGE_ROWS as u32 + 3;
        let mut w = SqliteFrameWriter::create(&path, "messages").unwrap();
        let frames: Vec<Frame> = (0..total)
            .map(|i| {
                let mut f = Frame::classic(i & 0x7FF, false, &i.to_le_bytes());
                f.timestamp_ns = 1_765_000_000_000_000_000 + u64::from(i) * 125_000;
                f
            })
            .collect();
        w.write_frames(&frames).unwrap();
        w.finish().unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE messages SET dlc = 300 WHERE rowid = 9000", [])
            .unwrap();
        drop(conn);

        let mut r = SqliteFrameReader::open(&path, "messages").unwrap();
        let first = r.next().unwrap().unwrap();
        assert_eq!(first, frames[0]);
        let mut out = Vec::new();
        let mut sizes = Vec::new();
        loop {
            let n = r.read_frames(&mut out, 10_000).unwrap();
            if n == 0 {
                break;
            }
            sizes.push(n);
        }
        // the iterator's read-ahead page first, then whole batches across pages
        assert_eq!(sizes, [PAGE_ROWS - 1, PAGE_ROWS + 2]);
        let mut want: Vec<Frame> = frames[1..].to_vec();
        want.remove(8_998);
        assert_eq!(out, want);
        let stats = r.stats();
        assert_eq!(
            (stats.lines, stats.frames, stats.unknown),
            (u64::from(total), u64::from(total) - 1, 1)
        );
        assert_eq!(stats.issues[0].line, 9000);
        std::fs::remove_file(&path).unwrap();
    }
}
