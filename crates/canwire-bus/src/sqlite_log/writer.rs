//! Writes frames into python-can's table: frames wait in memory until
//! [`FrameWriter::flush`], which inserts them all in one transaction, so a
//! crash loses at most the frames since the last flush and never leaves half
//! a batch (SQLite's journal rolls an interrupted transaction back).

use std::path::{Path, PathBuf};

use canwire_core::CanwireError;
use canwire_core::Frame;
use canwire_core::error::Result;
use canwire_core::logfile::{FrameWriter, LogFormat};
use rusqlite::{Connection, params};

use super::row::frame_to_row;
use super::{check_table_name, sqlite_error};

/// Frames held before a flush happens by itself, bounding memory.
pub const MAX_PENDING_FRAMES: usize = 8192;

/// A writer of python-can's table in a `.db` file.
pub struct SqliteFrameWriter {
    conn: Option<Connection>,
    path: PathBuf,
    insert: String,
    pending: Vec<Frame>,
}

impl SqliteFrameWriter {
    /// Creates a new database at `path`, replacing any file there (as every
    /// log format's create does), with python-can's table `table`.
    pub fn create(path: &Path, table: &str) -> Result<Self> {
        check_table_name(table)?;
        for stale in [path.to_path_buf(), journal_path(path)] {
            match std::fs::remove_file(&stale) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(CanwireError::from_io(
                        &e,
                        &format!("replacing '{}'", stale.display()),
                    ));
                }
                _ => {}
            }
        }
        Self::open(path, table)
    }

    /// Opens the database at `path` (created if missing) and adds frames
    /// after the rows `table` holds, as python-can's `SqliteWriter` always does.
    pub fn append(path: &Path, table: &str) -> Result<Self> {
        check_table_name(table)?;
        Self::open(path, table)
    }

    fn open(path: &Path, table: &str) -> Result<Self> {
        let conn = Connection::open(path).map_err(|e| sqlite_error(&e, "opening", path))?;
        // python-can's statement, so either program can add to the other's file.
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS \"{table}\" (ts REAL, arbitration_id INTEGER, \
             extended INTEGER, remote INTEGER, error INTEGER, dlc INTEGER, data BLOB)"
        ))
        .map_err(|e| sqlite_error(&e, "creating the table of", path))?;
        Ok(Self {
            conn: Some(conn),
            path: path.to_path_buf(),
            insert: format!("INSERT INTO \"{table}\" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            pending: Vec::new(),
        })
    }

    /// Frames written but not yet committed.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn commit_pending(&mut self) -> Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(CanwireError::closed("the SQLite log writer"));
        };
        if self.pending.is_empty() {
            return Ok(());
        }
        let path = &self.path;
        let fail = |e: rusqlite::Error| sqlite_error(&e, "writing", path);
        let tx = conn.transaction().map_err(fail)?;
        {
            let mut insert = tx.prepare_cached(&self.insert).map_err(fail)?;
            for f in &self.pending {
                let r = frame_to_row(f);
                insert
                    .execute(params![
                        r.ts,
                        r.arbitration_id,
                        r.extended,
                        r.remote,
                        r.error,
                        r.dlc,
                        r.data
                    ])
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)?;
        self.pending.clear();
        Ok(())
    }
}

fn journal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

impl FrameWriter for SqliteFrameWriter {
    fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        if self.conn.is_none() {
            return Err(CanwireError::closed("the SQLite log writer"));
        }
        frame.validate()?;
        self.pending.push(*frame);
        if self.pending.len() >= MAX_PENDING_FRAMES {
            self.commit_pending()?;
        }
        Ok(())
    }

    fn write_frames(&mut self, frames: &[Frame]) -> Result<()> {
        frames.iter().try_for_each(|f| self.write_frame(f))
    }

    fn flush(&mut self) -> Result<()> {
        self.commit_pending()
    }

    fn finish(&mut self) -> Result<()> {
        if self.conn.is_none() {
            return Ok(());
        }
        self.commit_pending()?;
        if let Some(conn) = self.conn.take() {
            conn.close()
                .map_err(|(_, e)| sqlite_error(&e, "closing", &self.path))?;
        }
        Ok(())
    }

    fn format(&self) -> LogFormat {
        LogFormat::Sqlite
    }
}

impl Drop for SqliteFrameWriter {
    /// Commits what is pending, as a buffered file writer flushes on drop;
    /// a failure here has no one to report to (call `finish` to see it).
    fn drop(&mut self) {
        let _ = self.commit_pending();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite_log::SqliteFrameReader;
    use canwire_core::ErrorCode;
    use canwire_core::logfile::FrameReader;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("canwire-sqlite-{}-{name}", std::process::id()))
    }

    fn ids(path: &Path, table: &str) -> Vec<u32> {
        SqliteFrameReader::open(path, table)
            .unwrap()
            .map(|f| f.unwrap().id)
            .collect()
    }

    #[test]
    fn each_flush_commits_what_was_written_since_the_last() {
        let path = temp("flushes.db");
        let mut w = SqliteFrameWriter::create(&path, "messages").unwrap();
        for id in 0..3 {
            w.write_frame(&Frame::classic(id, false, &[id as u8]))
                .unwrap();
        }
        assert_eq!(ids(&path, "messages"), Vec::<u32>::new());
        w.flush().unwrap();
        assert_eq!(ids(&path, "messages"), [0, 1, 2]);
        w.write_frames(&[Frame::classic(3, false, &[]), Frame::classic(4, false, &[])])
            .unwrap();
        assert_eq!(w.pending(), 2);
        w.flush().unwrap();
        w.finish().unwrap();
        w.finish().unwrap();
        assert_eq!(ids(&path, "messages"), [0, 1, 2, 3, 4]);
        let e = w.write_frame(&Frame::classic(5, false, &[])).unwrap_err();
        assert_eq!(e.code, ErrorCode::Closed);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_full_buffer_commits_by_itself() {
        let path = temp("full.db");
        let mut w = SqliteFrameWriter::create(&path, "messages").unwrap();
        let frames: Vec<Frame> = (0..MAX_PENDING_FRAMES as u32 + 5)
            .map(|i| Frame::classic(i & 0x7FF, false, &[]))
            .collect();
        w.write_frames(&frames).unwrap();
        assert_eq!(w.pending(), 5);
        assert_eq!(ids(&path, "messages").len(), MAX_PENDING_FRAMES);
        drop(w);
        assert_eq!(ids(&path, "messages").len(), MAX_PENDING_FRAMES + 5);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn create_replaces_append_adds_and_tables_are_separate() {
        let path = temp("tables.db");
        let mut w = SqliteFrameWriter::create(&path, "messages").unwrap();
        w.write_frame(&Frame::classic(1, false, &[])).unwrap();
        w.finish().unwrap();
        let mut w = SqliteFrameWriter::append(&path, "messages").unwrap();
        w.write_frame(&Frame::classic(2, false, &[])).unwrap();
        w.finish().unwrap();
        let mut w = SqliteFrameWriter::append(&path, "bench_run_2").unwrap();
        w.write_frame(&Frame::classic(9, false, &[])).unwrap();
        w.finish().unwrap();
        assert_eq!(ids(&path, "messages"), [1, 2]);
        assert_eq!(ids(&path, "bench_run_2"), [9]);
        let mut w = SqliteFrameWriter::create(&path, "messages").unwrap();
        w.finish().unwrap();
        assert_eq!(ids(&path, "messages"), Vec::<u32>::new());
        let e = SqliteFrameReader::open(&path, "bench_run_2").err().unwrap();
        assert_eq!(e.code, ErrorCode::CorruptFile);
        assert!(e.message.contains("no table 'bench_run_2'"), "{e}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn bad_names_files_and_rows_are_typed() {
        let path = temp("bad.db");
        for name in ["", "1x", "a;DROP", "a b", "x\""] {
            let e = SqliteFrameWriter::create(&path, name).err().unwrap();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{name}");
        }
        std::fs::write(&path, b"this is not a database, just text long enough").unwrap();
        let e = SqliteFrameReader::open(&path, "messages").err().unwrap();
        assert_eq!(e.code, ErrorCode::CorruptFile, "{e}");
        assert_eq!(
            SqliteFrameReader::open(&temp("missing.db"), "messages")
                .err()
                .unwrap()
                .code,
            ErrorCode::Os
        );

        let mut w = SqliteFrameWriter::create(&path, "messages").unwrap();
        w.write_frame(&Frame::classic(1, false, &[])).unwrap();
        w.finish().unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO messages VALUES ('soon', 2, 0, 0, 0, 0, x'');
             INSERT INTO messages VALUES (1.5, 4096, 0, 0, 0, 0, x'');
             INSERT INTO messages VALUES (2.0, 3, 0, 0, 0, 1, NULL);",
        )
        .unwrap();
        drop(conn);
        let mut r = SqliteFrameReader::open(&path, "messages").unwrap();
        let frames: Vec<Frame> = r.by_ref().map(Result::unwrap).collect();
        assert_eq!(frames.iter().map(|f| f.id).collect::<Vec<_>>(), [1, 3]);
        let stats = r.stats();
        assert_eq!((stats.lines, stats.frames, stats.unknown), (4, 2, 2));
        assert_eq!(stats.issues[0].line, 2);
        assert!(
            stats.issues[0].reason.contains("ts is text, not a number"),
            "{:?}",
            stats.issues
        );
        assert!(
            stats.issues[1].reason.contains("row 3"),
            "{:?}",
            stats.issues
        );
        std::fs::remove_file(&path).unwrap();
    }
}
