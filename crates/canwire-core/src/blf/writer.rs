//! The BLF writer over `Write + Seek`.
//!
//! Objects are serialized into a pending block; the block is cut into
//! LOG_CONTAINERs of exactly `max_container_size` bytes (objects run on into the
//! next container, as Vector's tools and python-can write them), each compressed
//! by [`encode_container`]. After every container the header is rewritten in
//! place (sizes, object count, start and stop time), so a file whose writer died
//! still reads back up to its last container; [`flush_container`](BlfWriter::flush_container)
//! cuts the block early for that purpose.

use std::io::{Seek, SeekFrom, Write};

use super::can_objects::encode_frame;
use super::container::{
    CONTAINER_HEADER_SIZE, DEFAULT_MAX_CONTAINER_SIZE, EncodedContainer,
    MAX_CONTAINER_UNCOMPRESSED, encode_container,
};
use super::events::{encode_app_text, encode_marker};
use super::header::{FILE_HEADER_SIZE, FileHeader, SystemTime};
use super::item::GlobalMarker;
use super::object::MAX_OBJECT_SIZE;
use crate::error::{CanwireError, ErrorCode, Result};
use crate::frame::Frame;

/// The zlib level used unless told otherwise: 6, zlib's and python-can's default.
///
/// Measured on 300 000 frames of bus-like traffic (release build, zlib-rs, the
/// `compression_levels` test): level 0 17.8 MB at 19 Mframes/s written, level 1
/// 29% of that at 6.7 M/s, level 3 21% at 3.5 M/s, level 6 19% at 2.0 M/s,
/// level 9 18.6% at 1.0 M/s. Level 6 writes files a third smaller than level 1,
/// and 2 M frames/s is still a hundred times what a saturated 1 Mbit/s bus
/// carries (about 8 500 frames/s), so the smaller files win for loggers that run
/// for days.
pub const DEFAULT_COMPRESSION_LEVEL: u32 = 6;

const NS_PER_MS: u64 = 1_000_000;

/// Writer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlfWriterOptions {
    /// 0 stores containers uncompressed; 1..=9 are zlib levels.
    pub compression_level: u32,
    /// Uncompressed bytes per container (python-can and Vector use 128 KiB).
    pub max_container_size: usize,
    /// The file's start time in ns since the Unix epoch; by default the first
    /// object's time truncated to the millisecond (SYSTEMTIME precision).
    pub start_time_ns: Option<u64>,
    /// Application id, major, minor, build for the header.
    pub application: [u8; 4],
}

impl Default for BlfWriterOptions {
    fn default() -> Self {
        Self {
            compression_level: DEFAULT_COMPRESSION_LEVEL,
            max_container_size: DEFAULT_MAX_CONTAINER_SIZE,
            start_time_ns: None,
            application: FileHeader::default().application,
        }
    }
}

/// Writes frames and metadata into a BLF file.
pub struct BlfWriter<W: Write + Seek> {
    out: W,
    options: BlfWriterOptions,
    header: FileHeader,
    pending: Vec<u8>,
    start_ns: Option<u64>,
    stop_ns: Option<u64>,
    /// File offset where the next container goes.
    pos: u64,
    /// Length of the file before an append (stale bytes past `pos` are zeroed on finish).
    old_len: u64,
}

fn io_error(e: std::io::Error, what: &str, offset: u64) -> CanwireError {
    CanwireError::new(
        ErrorCode::Os,
        format!("writing BLF {what} at byte offset {offset}: {e}"),
    )
}

impl<W: Write + Seek> BlfWriter<W> {
    /// Starts a new file at the beginning of `out` and writes a provisional header.
    pub fn new(out: W, options: BlfWriterOptions) -> Result<Self> {
        let header = FileHeader {
            application: options.application,
            ..FileHeader::default()
        };
        let mut w = Self::with_state(out, options, header, FILE_HEADER_SIZE as u64)?;
        if let Some(ns) = options.start_time_ns {
            let _ = w.set_start(ns);
        }
        w.write_header()?;
        Ok(w)
    }

    pub(crate) fn with_state(
        out: W,
        options: BlfWriterOptions,
        header: FileHeader,
        pos: u64,
    ) -> Result<Self> {
        if options.compression_level > 9 {
            return Err(CanwireError::invalid_argument(format!(
                "compression level {} is out of range: allowed 0..=9",
                options.compression_level
            )));
        }
        if !(1..=MAX_CONTAINER_UNCOMPRESSED as usize).contains(&options.max_container_size) {
            return Err(CanwireError::invalid_argument(format!(
                "max container size {} is out of range: allowed 1..={MAX_CONTAINER_UNCOMPRESSED}",
                options.max_container_size
            )));
        }
        Ok(Self {
            out,
            options,
            header,
            pending: Vec::with_capacity(
                options.max_container_size.min(DEFAULT_MAX_CONTAINER_SIZE) + 256,
            ),
            start_ns: None,
            stop_ns: None,
            pos,
            old_len: 0,
        })
    }

    pub(crate) fn resume(
        &mut self,
        start_ns: Option<u64>,
        stop_ns: Option<u64>,
        carry: &[u8],
        old_len: u64,
    ) {
        self.start_ns = start_ns;
        self.stop_ns = stop_ns;
        self.pending.extend_from_slice(carry);
        self.old_len = old_len;
    }

    /// Sets the start time, truncated to the millisecond the header can hold.
    fn set_start(&mut self, ns: u64) -> u64 {
        let ns = ns - ns % NS_PER_MS;
        self.start_ns = Some(ns);
        self.header.start_time = SystemTime::from_unix_ns(ns);
        ns
    }

    /// The timestamp of an object at `ns`, relative to the start time (clamped at 0).
    fn relative(&mut self, ns: u64) -> u64 {
        let start = match self.start_ns {
            Some(s) => s,
            None => self.set_start(ns),
        };
        self.stop_ns = Some(self.stop_ns.map_or(ns, |t| t.max(ns)));
        ns.saturating_sub(start)
    }

    /// The header as it stands (sizes and counts up to the last written container).
    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Bytes serialized but not yet in a written container.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Writes one frame. Classic data and remote frames become CAN_MESSAGE, FD
    /// frames CAN_FD_MESSAGE_64, error frames CAN_ERROR_EXT (classic) or
    /// CAN_FD_ERROR_64 (FD). Rejects ids over 29 bits, FD lengths no DLC encodes,
    /// classic frames whose DLC disagrees with their length, and channels that do
    /// not fit the object (u16 for classic objects, u8 for FD ones, 1-based).
    pub fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        let mark = self.pending.len();
        let (start, stop) = (self.start_ns, self.stop_ns);
        let ts = self.relative(frame.timestamp_ns);
        if let Err(e) = encode_frame(frame, ts, &mut self.pending) {
            self.pending.truncate(mark);
            (self.start_ns, self.stop_ns) = (start, stop);
            return Err(e);
        }
        self.object_written()
    }

    /// Writes frames in order; stops at the first one rejected.
    pub fn write_frames(&mut self, frames: &[Frame]) -> Result<()> {
        frames.iter().try_for_each(|f| self.write_frame(f))
    }

    /// Writes an APP_TEXT object (source 0 is a measurement comment).
    pub fn write_app_text(&mut self, timestamp_ns: u64, source: u32, text: &str) -> Result<()> {
        check_size(text.len())?;
        let ts = self.relative(timestamp_ns);
        encode_app_text(source, text, ts, &mut self.pending);
        self.object_written()
    }

    /// Writes a GLOBAL_MARKER object at `marker.timestamp_ns`.
    pub fn write_marker(&mut self, marker: &GlobalMarker) -> Result<()> {
        check_size(marker.group_name.len() + marker.marker_name.len() + marker.description.len())?;
        let ts = self.relative(marker.timestamp_ns);
        encode_marker(marker, ts, &mut self.pending);
        self.object_written()
    }

    fn object_written(&mut self) -> Result<()> {
        self.header.object_count = self.header.object_count.saturating_add(1);
        while self.pending.len() >= self.options.max_container_size {
            self.cut(self.options.max_container_size)?;
        }
        Ok(())
    }

    /// Compresses the first `n` pending bytes into a container and writes it.
    fn cut(&mut self, n: usize) -> Result<()> {
        let n = n.min(self.pending.len());
        let container = encode_container(&self.pending[..n], self.options.compression_level)?;
        self.write_container(&container)?;
        self.pending.drain(..n);
        Ok(())
    }

    /// Writes a container made by [`encode_container`] at the end of the file and
    /// updates the header.
    pub(crate) fn write_container(&mut self, container: &EncodedContainer) -> Result<()> {
        self.out
            .write_all(&container.bytes)
            .map_err(|e| io_error(e, "container", self.pos))?;
        self.pos += container.bytes.len() as u64;
        self.header.uncompressed_size +=
            (CONTAINER_HEADER_SIZE + container.uncompressed_len) as u64;
        self.write_header()
    }

    /// Writes everything pending as one (possibly short) container now, updates
    /// the header and flushes `out`. A logger calls this on a timer so a crash
    /// loses at most one interval.
    pub fn flush_container(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            self.cut(self.pending.len())?;
        }
        self.out.flush().map_err(|e| io_error(e, "flush", self.pos))
    }

    /// Rewrites the header at offset 0 and returns to the end.
    fn write_header(&mut self) -> Result<()> {
        self.header.file_size = self.pos;
        self.header.stop_time = self
            .stop_ns
            .map(SystemTime::from_unix_ns)
            .unwrap_or_default();
        let bytes = self.header.to_bytes();
        self.out
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.out.write_all(&bytes))
            .and_then(|_| self.out.seek(SeekFrom::Start(self.pos)))
            .map(|_| ())
            .map_err(|e| io_error(e, "header", 0))
    }

    /// Writes what is pending and the final header, and hands `out` back with
    /// the file's length in bytes. When appending over a file that was longer
    /// (a cut-short tail was rewritten), the stale bytes past the end are zeroed;
    /// a caller holding a `File` may `set_len` to the returned length.
    pub fn finish(mut self) -> Result<(W, u64)> {
        self.flush_container()?;
        if self.old_len > self.pos {
            let zeros = [0u8; 4096];
            let mut left = self.old_len - self.pos;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                self.out
                    .write_all(&zeros[..n])
                    .map_err(|e| io_error(e, "tail", self.old_len - left))?;
                left -= n as u64;
            }
            self.out
                .seek(SeekFrom::Start(self.pos))
                .map_err(|e| io_error(e, "tail", self.pos))?;
        }
        self.out
            .flush()
            .map_err(|e| io_error(e, "flush", self.pos))?;
        Ok((self.out, self.pos))
    }
}

fn check_size(len: usize) -> Result<()> {
    if len > MAX_OBJECT_SIZE as usize / 2 {
        return Err(CanwireError::invalid_argument(format!(
            "text of {len} bytes is too long for one BLF object: at most {} bytes",
            MAX_OBJECT_SIZE / 2
        )));
    }
    Ok(())
}
