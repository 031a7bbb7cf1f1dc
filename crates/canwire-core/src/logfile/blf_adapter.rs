//! The BLF codec behind [`FrameReader`] and [`FrameWriter`].
//!
//! The reader hands out data, remote and error frames; metadata objects
//! (APP_TEXT, markers) and undecoded object types count as skipped, objects
//! too short for their type as unknown. Use [`BlfReader`] directly to get the
//! metadata and error details. A damaged file gives every readable frame, then
//! one [`ErrorCode::CorruptFile`](crate::ErrorCode::CorruptFile) error
//! (see [`ReadStats::damage`]).

use std::io::{Read, Seek, Write};

use super::stats::{ReadStats, Truncation};
use super::{FrameReader, FrameWriter, LogFormat};
use crate::blf::{BlfItem, BlfReader, BlfWriter, BlfWriterOptions};
use crate::error::{CanwireError, Result};
use crate::frame::Frame;

/// A [`BlfReader`] as a [`FrameReader`].
pub struct BlfFrameReader<R: Read> {
    inner: BlfReader<R>,
    metadata: u64,
    /// An error held back so the frames of its batch are handed out first.
    deferred: Option<CanwireError>,
}

impl<R: Read> BlfFrameReader<R> {
    /// Reads the file header (see [`BlfReader::new`]).
    pub fn new(src: R) -> Result<Self> {
        Ok(Self {
            inner: BlfReader::new(src)?,
            metadata: 0,
            deferred: None,
        })
    }

    /// The BLF reader underneath.
    pub fn blf(&self) -> &BlfReader<R> {
        &self.inner
    }
}

impl<R: Read> Iterator for BlfFrameReader<R> {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.deferred.take() {
            return Some(Err(e));
        }
        loop {
            match self.inner.next_item()? {
                Ok(BlfItem::Frame(f) | BlfItem::Error(f, _)) => return Some(Ok(f)),
                Ok(BlfItem::Truncated(_)) => return None,
                Ok(BlfItem::AppText(_) | BlfItem::Marker(_)) => self.metadata += 1,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl<R: Read> FrameReader for BlfFrameReader<R> {
    fn read_frames(&mut self, out: &mut Vec<Frame>, max: usize) -> Result<usize> {
        let mut n = 0;
        while n < max {
            match self.next() {
                Some(Ok(frame)) => out.push(frame),
                Some(Err(e)) if n > 0 => {
                    self.deferred = Some(e);
                    break;
                }
                Some(Err(e)) => return Err(e),
                None => break,
            }
            n += 1;
        }
        Ok(n)
    }

    fn stats(&self) -> ReadStats {
        let s = self.inner.stats();
        ReadStats {
            lines: s.objects_read,
            frames: s.frames,
            skipped: s.skipped() - s.skipped_malformed + self.metadata,
            unknown: s.skipped_malformed,
            issues: Vec::new(),
            truncated: s.truncated.map(|t| Truncation {
                line: None,
                byte_offset: Some(t.object_offset),
                reason: format!(
                    "the object at byte offset {} is cut short (the file holds {} bytes)",
                    t.object_offset, t.file_len
                ),
            }),
            damaged: s.damaged,
            damaged_bytes: s.damaged_bytes,
            damage: s.damage.clone(),
        }
    }

    fn start_time_ns(&self) -> Option<u64> {
        Some(self.inner.start_unix_ns()).filter(|&t| t != 0)
    }

    fn format(&self) -> LogFormat {
        LogFormat::Blf
    }
}

/// A [`BlfWriter`] as a [`FrameWriter`].
pub struct BlfFrameWriter<W: Write + Seek> {
    inner: Option<BlfWriter<W>>,
}

impl<W: Write + Seek> BlfFrameWriter<W> {
    /// Starts a BLF file (see [`BlfWriter::new`]).
    pub fn new(out: W, options: BlfWriterOptions) -> Result<Self> {
        Ok(Self {
            inner: Some(BlfWriter::new(out, options)?),
        })
    }

    /// Wraps a writer already set up, e.g. by [`BlfWriter::append`].
    pub fn from_writer(writer: BlfWriter<W>) -> Self {
        Self {
            inner: Some(writer),
        }
    }

    fn open(&mut self) -> Result<&mut BlfWriter<W>> {
        self.inner
            .as_mut()
            .ok_or_else(|| CanwireError::closed("the BLF writer"))
    }
}

impl<W: Write + Seek> FrameWriter for BlfFrameWriter<W> {
    fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        self.open()?.write_frame(frame)
    }

    fn write_frames(&mut self, frames: &[Frame]) -> Result<()> {
        self.open()?.write_frames(frames)
    }

    fn flush(&mut self) -> Result<()> {
        self.open()?.flush_container()
    }

    fn finish(&mut self) -> Result<()> {
        match self.inner.take() {
            Some(w) => w.finish().map(|_| ()),
            None => Ok(()),
        }
    }

    fn format(&self) -> LogFormat {
        LogFormat::Blf
    }
}
