//! The streaming BLF reader: constant memory over any `std::io::Read`.
//!
//! It reads the file header, then top-level objects one at a time, and parses
//! inner objects out of the continuous stream the containers form, so objects
//! that span containers come out whole. Memory is bounded by one container plus
//! one object (both capped, see [`MAX_OBJECT_SIZE`] and
//! [`MAX_CONTAINER_UNCOMPRESSED`](super::container::MAX_CONTAINER_UNCOMPRESSED)).
//!
//! Damage loses only what it covers: a damaged object or container is skipped
//! up to the next plausible object header (counted in
//! [`BlfReadStats::damage`]), every frame outside it is handed out, and the
//! reader ends with one [`ErrorCode::CorruptFile`] error after the last item.

use std::collections::VecDeque;
use std::io::Read;

use super::can_objects::{ObjectContext, decode_can};
use super::events::decode_event;
use super::header::{FILE_HEADER_FIELDS, FileHeader};
use super::item::{BlfItem, BlfReadStats, Damage, Truncation};
use super::object::{
    MAX_OBJECT_SIZE, OBJECT_HEADER_BASE_SIZE, OBJECT_SIGNATURE, ObjectHeader, ObjectHeaderBase,
};
use super::stream::{Block, ContainerStream, plausible_header};
use crate::error::{CanwireError, ErrorCode, Result};
use crate::frame::Frame;

/// How far past the end of an object the next `"LOBJ"` is looked for.
const PADDING_WINDOW: usize = 8;
/// Metadata items kept for [`BlfReader::pop_event`] while reading in batches.
pub const MAX_QUEUED_EVENTS: usize = 4096;

/// A block of inner bytes and where it came from.
#[derive(Debug, Clone, Copy)]
struct Span {
    logical_start: u64,
    file_offset: u64,
    uncompressed_before: u64,
}

/// Where a writer appending to this file should continue (see `BlfWriter::append`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResumePoint {
    /// File offset to write the next container at.
    pub file_offset: u64,
    /// Inner bytes of the container at `file_offset` to carry over (re-written),
    /// as a count from its start.
    pub carry: usize,
    /// Σ(32 + raw size) of the containers before `file_offset`.
    pub uncompressed: u64,
    /// Whole inner objects before the resume point.
    pub objects: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    Done,
}

/// Reads frames and metadata from a BLF file.
pub struct BlfReader<R: Read> {
    stream: ContainerStream<R>,
    header: FileHeader,
    start_ns: u64,
    buf: Vec<u8>,
    cur: usize,
    buf_base: u64,
    spans: VecDeque<Span>,
    stream_done: bool,
    stream_cut: Option<u64>,
    state: State,
    stats: BlfReadStats,
    events: VecDeque<BlfItem>,
    events_dropped: u64,
    /// Logical offsets where the inner stream breaks (damage was skipped there).
    gaps: VecDeque<u64>,
    /// An error held back so the frames read before it are handed out first.
    deferred: Option<CanwireError>,
}

impl<R: Read> BlfReader<R> {
    /// Reads the file header. A file shorter than its header is
    /// [`ErrorCode::TruncatedFile`]; a wrong signature is [`ErrorCode::CorruptFile`].
    pub fn new(src: R) -> Result<Self> {
        let mut stream = ContainerStream::new(src, 0);
        let mut fields = [0u8; FILE_HEADER_FIELDS];
        let n = stream.read_full(&mut fields)?;
        let header = FileHeader::parse(&fields[..n])?;
        let rest = u64::from(header.header_size) - FILE_HEADER_FIELDS as u64;
        if stream.skip(rest)? < rest {
            return Err(CanwireError::new(
                ErrorCode::TruncatedFile,
                format!(
                    "BLF file header truncated at byte offset {}: it holds {} bytes",
                    stream.pos, header.header_size
                ),
            ));
        }
        stream.last_whole_end = stream.pos;
        Ok(Self {
            stream,
            start_ns: header.start_unix_ns(),
            header,
            buf: Vec::new(),
            cur: 0,
            buf_base: 0,
            spans: VecDeque::new(),
            stream_done: false,
            stream_cut: None,
            state: State::Reading,
            stats: BlfReadStats::default(),
            events: VecDeque::new(),
            events_dropped: 0,
            gaps: VecDeque::new(),
            deferred: None,
        })
    }

    /// The file header.
    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// The start time the object timestamps count from, in ns since the Unix epoch
    /// (0 if the header has none).
    pub fn start_unix_ns(&self) -> u64 {
        self.start_ns
    }

    /// Bytes consumed from the source so far.
    pub(crate) fn stream_pos(&self) -> u64 {
        self.stream.pos
    }

    /// The counters so far.
    pub fn stats(&self) -> &BlfReadStats {
        &self.stats
    }

    /// Where the file was found cut short, once the reader got there.
    pub fn truncation(&self) -> Option<Truncation> {
        self.stats.truncated
    }

    /// The next metadata item (APP_TEXT, marker) set aside by [`read_frames`](Self::read_frames).
    pub fn pop_event(&mut self) -> Option<BlfItem> {
        self.events.pop_front()
    }

    /// Metadata items [`read_frames`](Self::read_frames) dropped because
    /// [`MAX_QUEUED_EVENTS`] were already waiting.
    pub fn events_dropped(&self) -> u64 {
        self.events_dropped
    }

    /// Appends up to `max` frames (data, remote and error frames) to `out` and
    /// returns how many. 0 means the end of the file (check
    /// [`truncation`](Self::truncation)). Metadata goes to [`pop_event`](Self::pop_event);
    /// error details are dropped (use the iterator to keep them). An error
    /// (damage, at the end; I/O) comes from the call after the frames before it.
    pub fn read_frames(&mut self, out: &mut Vec<Frame>, max: usize) -> Result<usize> {
        let mut n = 0;
        while n < max {
            match self.next_item() {
                None | Some(Ok(BlfItem::Truncated(_))) => break,
                Some(Err(e)) if n > 0 => {
                    self.deferred = Some(e);
                    break;
                }
                Some(Err(e)) => return Err(e),
                Some(Ok(BlfItem::Frame(f) | BlfItem::Error(f, _))) => {
                    out.push(f);
                    n += 1;
                }
                Some(Ok(event)) => {
                    if self.events.len() < MAX_QUEUED_EVENTS {
                        self.events.push_back(event);
                    } else {
                        self.events_dropped += 1;
                    }
                }
            }
        }
        Ok(n)
    }

    /// The next item; `None` at the end. After an error the reader is done.
    /// A damaged file gives every readable item, then one
    /// [`ErrorCode::CorruptFile`] error describing the damage.
    pub fn next_item(&mut self) -> Option<Result<BlfItem>> {
        if let Some(e) = self.deferred.take() {
            self.state = State::Done;
            return Some(Err(e));
        }
        while self.state == State::Reading {
            match self.step() {
                Ok(Some(item)) => return Some(Ok(item)),
                Ok(None) => {}
                Err(e) => {
                    self.state = State::Done;
                    return Some(Err(e));
                }
            }
        }
        self.deferred.take().map(Err)
    }

    /// Makes `n` bytes available from the cursor if the file has them.
    fn ensure(&mut self, n: usize) -> Result<bool> {
        while self.buf.len() - self.cur < n && !self.stream_done {
            if self.cur > 0 {
                self.buf.drain(..self.cur);
                self.buf_base += self.cur as u64;
                self.cur = 0;
                while self.spans.len() > 1 && self.spans[1].logical_start <= self.buf_base {
                    self.spans.pop_front();
                }
            }
            let logical_start = self.buf_base + self.buf.len() as u64;
            match self.stream.next_block(&mut self.buf)? {
                Block::Data {
                    file_offset,
                    uncompressed_before,
                    truncated,
                } => {
                    self.spans.push_back(Span {
                        logical_start,
                        file_offset,
                        uncompressed_before,
                    });
                    self.stats.containers += 1;
                    if truncated {
                        self.stream_done = true;
                        self.stream_cut = Some(file_offset);
                    }
                }
                Block::Skipped => self.stats.skipped_containers += 1,
                Block::End => self.stream_done = true,
                Block::Truncated(offset) => {
                    self.stream_done = true;
                    self.stream_cut = Some(offset);
                }
                Block::Gap => self.gaps.push_back(logical_start),
            }
            for damage in std::mem::take(&mut self.stream.damage) {
                self.stats.record_damage(damage);
            }
        }
        Ok(self.buf.len() - self.cur >= n)
    }

    fn span_at(&self, logical: u64) -> Option<Span> {
        self.spans
            .iter()
            .rev()
            .find(|s| s.logical_start <= logical)
            .copied()
    }

    fn describe(&self, logical: u64) -> String {
        match self.span_at(logical) {
            Some(s) => format!(
                "inner byte offset {} of the container at byte offset {}",
                logical - s.logical_start,
                s.file_offset
            ),
            None => format!("inner byte offset {logical}"),
        }
    }

    fn logical(&self) -> u64 {
        self.buf_base + self.cur as u64
    }

    /// The first gap strictly inside `from..to`.
    fn gap_within(&self, from: u64, to: u64) -> Option<u64> {
        self.gaps.iter().copied().find(|&g| g > from && g < to)
    }

    /// Skips damaged inner bytes from the cursor to the next plausible object
    /// header (or the end of the stream) and records them.
    fn skip_damaged(&mut self, reason: String) -> Result<()> {
        let start = self.logical();
        let file_offset = self.span_at(start).map_or(0, |s| s.file_offset);
        self.cur += 1;
        loop {
            let window = &self.buf[self.cur..];
            let searchable = window.len().saturating_sub(OBJECT_HEADER_BASE_SIZE - 1);
            let found = (0..searchable).find(|&i| {
                window[i..].starts_with(OBJECT_SIGNATURE) && plausible_header(&window[i..])
            });
            if let Some(i) = found {
                self.cur += i;
                break;
            }
            self.cur += searchable;
            let held = self.buf.len() - self.cur;
            if !self.ensure(held + 1)? {
                self.cur = self.buf.len();
                break;
            }
        }
        self.stats.record_damage(Damage {
            file_offset,
            skipped_bytes: self.logical() - start,
            reason,
        });
        Ok(())
    }

    /// Skips an object whose end was lost in a damaged stretch at `gap`.
    fn skip_to_gap(&mut self, gap: u64) {
        let start = self.logical();
        let reason = format!(
            "the object at {} runs into a damaged stretch",
            self.describe(start)
        );
        self.stats.record_damage(Damage {
            file_offset: self.span_at(start).map_or(0, |s| s.file_offset),
            skipped_bytes: gap - start,
            reason,
        });
        self.cur += (gap - start) as usize;
    }

    /// Reads one inner object; `Ok(None)` if it produced no item.
    fn step(&mut self) -> Result<Option<BlfItem>> {
        let have = self.ensure(OBJECT_HEADER_BASE_SIZE + PADDING_WINDOW)?;
        while self.gaps.front().is_some_and(|&g| g <= self.logical()) {
            self.gaps.pop_front();
        }
        let window = &self.buf[self.cur..];
        let Some(skip) = (0..=PADDING_WINDOW)
            .find(|&k| window[k.min(window.len())..].starts_with(OBJECT_SIGNATURE))
        else {
            let before_gap = self.gap_within(self.logical(), u64::MAX).is_some();
            if have || (before_gap && window.iter().any(|&b| b != 0)) {
                let at = self.describe(self.logical());
                self.skip_damaged(format!("no object signature \"LOBJ\" at {at}"))?;
                return Ok(None);
            }
            return Ok(self.finish());
        };
        self.cur += skip;
        let logical = self.logical();
        if !self.ensure(OBJECT_HEADER_BASE_SIZE)? {
            return Ok(self.finish());
        }
        let base = match ObjectHeaderBase::parse(&self.buf[self.cur..], || self.describe(logical)) {
            Ok(base) => base,
            Err(e) => {
                self.skip_damaged(e.message)?;
                return Ok(None);
            }
        };
        debug_assert!(base.object_size <= MAX_OBJECT_SIZE);
        let size = base.object_size as usize;
        let end = logical + size as u64;
        if let Some(gap) = self.gap_within(logical, end) {
            self.skip_to_gap(gap);
            return Ok(None);
        }
        if !self.ensure(size)? {
            if let Some(gap) = self.gap_within(logical, end) {
                self.skip_to_gap(gap);
                return Ok(None);
            }
            return Ok(self.finish());
        }
        if let Some(gap) = self.gap_within(logical, end) {
            self.skip_to_gap(gap);
            return Ok(None);
        }
        let obj = &self.buf[self.cur..self.cur + size];
        let item = decode_object(obj, base, self.start_ns, &mut self.stats);
        self.cur += size;
        self.stats.objects_read += 1;
        if matches!(item, Some(BlfItem::Frame(_) | BlfItem::Error(..))) {
            self.stats.frames += 1;
        }
        Ok(item)
    }

    /// The end of the file: a truncation item if it was cut short. A damaged
    /// file's error is held back for the call after it.
    fn finish(&mut self) -> Option<BlfItem> {
        self.state = State::Done;
        if self.stats.damaged > 0 {
            self.deferred = Some(damage_error(&self.stats));
        }
        let rest_is_padding = self.buf[self.cur..].iter().all(|&b| b == 0);
        let file_len = self.stream.pos;
        let object_offset = if !rest_is_padding {
            self.span_at(self.buf_base + self.cur as u64)
                .map_or(file_len, |s| s.file_offset)
        } else if let Some(offset) = self.stream_cut {
            offset
        } else if self.header.file_size > file_len {
            file_len
        } else {
            return None;
        };
        let t = Truncation {
            object_offset,
            file_len,
        };
        self.stats.truncated = Some(t);
        Some(BlfItem::Truncated(t))
    }

    /// Where an appending writer continues; call after reading to the end.
    pub(crate) fn resume_point(&self) -> ResumePoint {
        let logical = self.buf_base + self.cur as u64;
        let partial = self.buf[self.cur..].iter().any(|&b| b != 0);
        let span = if partial {
            // Rewrite from the container the cut object starts in.
            self.span_at(logical)
        } else {
            // Rewrite a container cut short, keeping its whole objects.
            self.spans
                .back()
                .copied()
                .filter(|s| Some(s.file_offset) == self.stream_cut)
        };
        match span {
            Some(s) => ResumePoint {
                file_offset: s.file_offset,
                carry: logical.saturating_sub(s.logical_start) as usize,
                uncompressed: s.uncompressed_before,
                objects: self.stats.objects_read,
            },
            None => ResumePoint {
                file_offset: self.stream.last_whole_end,
                carry: 0,
                uncompressed: self.stream.uncompressed,
                objects: self.stats.objects_read,
            },
        }
    }
}

/// The error a damaged file ends with: how much was skipped, and the first damage.
fn damage_error(stats: &BlfReadStats) -> CanwireError {
    let first = stats.damage.first().map_or_else(String::new, |d| {
        format!("; the first at byte offset {}: {}", d.file_offset, d.reason)
    });
    CanwireError::new(
        ErrorCode::CorruptFile,
        format!(
            "BLF file damaged in {} place(s), {} bytes skipped{first}; every frame outside the damage was read",
            stats.damaged, stats.damaged_bytes
        ),
    )
}

/// Decodes one whole object into an item, counting what it skips.
fn decode_object(
    obj: &[u8],
    base: ObjectHeaderBase,
    start_ns: u64,
    stats: &mut BlfReadStats,
) -> Option<BlfItem> {
    let Some(header) = ObjectHeader::parse(obj, base) else {
        stats.skipped_header_version += 1;
        return None;
    };
    let payload = &obj[usize::from(base.header_size)..];
    let ctx = ObjectContext {
        header_size: usize::from(base.header_size),
        timestamp_ns: start_ns.saturating_add(header.timestamp_ns()),
    };
    let decoded = decode_can(base.object_type, payload, &ctx)
        .or_else(|| decode_event(base.object_type, payload, ctx.timestamp_ns));
    match decoded {
        Some(Some(item)) => Some(item),
        Some(None) => {
            stats.skipped_malformed += 1;
            None
        }
        None => {
            stats.count_skipped_type(base.object_type);
            None
        }
    }
}

impl<R: Read> Iterator for BlfReader<R> {
    type Item = Result<BlfItem>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item()
    }
}
