//! The streaming MF4 writer: records collect in one block's worth of bytes,
//! each full block goes out as `##DT` or `##DZ` at once, and the blocks are
//! listed by `##DL` blocks of up to [`LIST_CAPACITY`] links as each fills.
//! Memory stays bounded by one block and one list. Until [`Mf4Writer::finish`]
//! the file says it is unfinished (`UnFinMF`); finishing writes the last
//! block and list, patches the cycle counts and marks the file finished.

use std::io::{Seek, SeekFrom, Write};

use super::data_blocks::{dl_block, dt_block, dz_block};
use super::layout::{FrameGroup, TimeResolution, encode_record};
use super::meta::{FINISHED_MAGIC, PatchPoints, UNFIN_FLAGS_AT, metadata};
use crate::error::{CanwireError, ErrorCode, Result};
use crate::frame::Frame;
use crate::logfile::{FrameWriter, LogFormat};

/// Data blocks listed per `##DL` block.
pub const LIST_CAPACITY: usize = 1024;
/// Record bytes per data block by default.
pub const DEFAULT_BLOCK_BYTES: usize = 4 << 20;
/// The deflate level of compressed blocks.
const DEFLATE_LEVEL: u32 = 6;

/// How the records are stored, as python-can's `compression_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mf4Compression {
    /// 0: plain `##DT` blocks.
    None,
    /// 1: `##DZ` blocks, deflated.
    Deflate,
    /// 2: `##DZ` blocks, transposed by record then deflated (the smallest files).
    #[default]
    TransposedDeflate,
}

impl Mf4Compression {
    /// python-can's `compression_level` 0, 1 or 2.
    pub fn from_level(level: u32) -> Result<Self> {
        match level {
            0 => Ok(Self::None),
            1 => Ok(Self::Deflate),
            2 => Ok(Self::TransposedDeflate),
            _ => Err(CanwireError::invalid_argument(format!(
                "MF4 compression level {level} is unknown: allowed 0 (none), 1 (deflate), 2 (transposed deflate)"
            ))),
        }
    }
}

/// Settings of an [`Mf4Writer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mf4WriterOptions {
    /// How blocks are compressed.
    pub compression: Mf4Compression,
    /// Record bytes per data block (at least 1).
    pub block_bytes: usize,
    /// The header's start time (ns since the Unix epoch); by default the
    /// first frame's time cut to whole microseconds (what asammdf reads exactly).
    pub start_time_ns: Option<u64>,
    /// The unit of the records' times: ns (exact, the default) or µs.
    pub time_resolution: TimeResolution,
}

impl Default for Mf4WriterOptions {
    fn default() -> Self {
        Self {
            compression: Mf4Compression::default(),
            block_bytes: DEFAULT_BLOCK_BYTES,
            start_time_ns: None,
            time_resolution: TimeResolution::Ns,
        }
    }
}

/// Writes an MF4 bus log into a seekable sink (see the module doc).
pub struct Mf4Writer<W: Write + Seek> {
    out: W,
    options: Mf4WriterOptions,
    /// Set once the metadata is written (at the first frame, or at finish).
    started: Option<(u64, PatchPoints)>,
    /// End of the file: where the next block goes.
    end: u64,
    /// Records of the block being filled, each after its record id.
    pending: Vec<u8>,
    /// Data blocks written since the last DL block, with their stream offsets.
    listed: Vec<u64>,
    listed_at: Vec<u64>,
    /// Record bytes written out in blocks so far.
    stream_len: u64,
    /// The link the next DL block is hung on (the DG's, then each DL's `next`).
    list_link: u64,
    cycles: [u64; 3],
    finished: bool,
}

impl<W: Write + Seek> Mf4Writer<W> {
    /// A writer over an empty sink; nothing is written before the first frame.
    pub fn new(out: W, options: Mf4WriterOptions) -> Self {
        Self {
            out,
            options: Mf4WriterOptions {
                block_bytes: options.block_bytes.max(1),
                ..options
            },
            started: None,
            end: 0,
            pending: Vec::new(),
            listed: Vec::new(),
            listed_at: Vec::new(),
            stream_len: 0,
            list_link: 0,
            cycles: [0; 3],
            finished: false,
        }
    }

    fn io(e: std::io::Error) -> CanwireError {
        CanwireError::new(ErrorCode::Os, format!("writing the MF4 file: {e}"))
    }

    fn append(&mut self, bytes: &[u8]) -> Result<u64> {
        let at = self.end;
        self.out.write_all(bytes).map_err(Self::io)?;
        self.end += bytes.len() as u64;
        Ok(at)
    }

    fn patch(&mut self, at: u64, bytes: &[u8]) -> Result<()> {
        self.out.seek(SeekFrom::Start(at)).map_err(Self::io)?;
        self.out.write_all(bytes).map_err(Self::io)?;
        self.out.seek(SeekFrom::Start(self.end)).map_err(Self::io)?;
        Ok(())
    }

    fn start(&mut self, first_ns: u64) -> Result<u64> {
        if let Some((start, _)) = self.started {
            return Ok(start);
        }
        let start = self
            .options
            .start_time_ns
            .unwrap_or(first_ns - first_ns % 1000);
        let (bytes, points) = metadata(
            start,
            self.options.time_resolution,
            env!("CARGO_PKG_VERSION"),
        );
        self.append(&bytes)?;
        self.list_link = points.dg_data_link;
        self.started = Some((start, points));
        Ok(start)
    }

    fn check_open(&self) -> Result<()> {
        if self.finished {
            return Err(CanwireError::closed("the MF4 writer"));
        }
        Ok(())
    }

    /// Writes one frame (validated; the channel must be 0..=255).
    pub fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        self.check_open()?;
        frame.validate()?;
        if frame.channel > u32::from(u8::MAX) {
            return Err(CanwireError::invalid_argument(format!(
                "MF4 stores the channel in one byte (CAN_DataFrame.BusChannel): channel {} is over 255",
                frame.channel
            )));
        }
        let start = self.start(frame.timestamp_ns)?;
        let group = FrameGroup::of(frame);
        self.pending.push(group.record_id());
        encode_record(
            frame,
            start,
            self.options.time_resolution,
            &mut self.pending,
        );
        self.cycles[group.record_id() as usize - 1] += 1;
        if self.pending.len() >= self.options.block_bytes {
            self.write_block()?;
        }
        Ok(())
    }

    fn write_block(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let block = match self.options.compression {
            Mf4Compression::None => dt_block(&self.pending),
            Mf4Compression::Deflate => dz_block(&self.pending, DEFLATE_LEVEL, None),
            Mf4Compression::TransposedDeflate => {
                let columns = 1 + FrameGroup::Data.record_bytes();
                dz_block(&self.pending, DEFLATE_LEVEL, Some(columns))
            }
        };
        let at = self.append(&block)?;
        self.listed.push(at);
        self.listed_at.push(self.stream_len);
        self.stream_len += self.pending.len() as u64;
        self.pending.clear();
        if self.listed.len() == LIST_CAPACITY {
            self.write_list()?;
        }
        Ok(())
    }

    fn write_list(&mut self) -> Result<()> {
        if self.listed.is_empty() {
            return Ok(());
        }
        let at = self.append(&dl_block(0, &self.listed, &self.listed_at))?;
        self.patch(self.list_link, &at.to_le_bytes())?;
        self.list_link = at + 24;
        self.listed.clear();
        self.listed_at.clear();
        Ok(())
    }

    /// Writes the records collected so far as a block (a flush point a reader
    /// of the unfinished file can recover up to).
    pub fn flush(&mut self) -> Result<()> {
        self.check_open()?;
        self.write_block()?;
        self.out.flush().map_err(Self::io)
    }

    /// Writes the last block and list, the cycle counts, and marks the file
    /// finished. Idempotent.
    pub fn finish(&mut self) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        let start = self.options.start_time_ns.unwrap_or(0);
        self.start(start)?;
        self.write_block()?;
        self.write_list()?;
        let (_, points) = self.started.expect("started above");
        for (i, at) in points.cycle_counts.into_iter().enumerate() {
            self.patch(at, &self.cycles[i].to_le_bytes())?;
        }
        self.patch(UNFIN_FLAGS_AT, &[0; 2])?;
        self.patch(0, FINISHED_MAGIC)?;
        self.out.flush().map_err(Self::io)?;
        self.finished = true;
        Ok(())
    }

    /// The sink, after [`Mf4Writer::finish`].
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Frames written per group, in [`FrameGroup::ALL`] order.
    pub fn cycle_counts(&self) -> [u64; 3] {
        self.cycles
    }
}

impl<W: Write + Seek> FrameWriter for Mf4Writer<W> {
    fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        Mf4Writer::write_frame(self, frame)
    }

    fn flush(&mut self) -> Result<()> {
        Mf4Writer::flush(self)
    }

    fn finish(&mut self) -> Result<()> {
        Mf4Writer::finish(self)
    }

    fn format(&self) -> LogFormat {
        LogFormat::Mf4
    }
}
