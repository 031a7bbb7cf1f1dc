//! The streaming MF4 reader: the CAN bus-logging groups of every data group,
//! merged by time (python-can's order), one data block per data group in
//! memory. Other groups' records are counted as skipped; a record that is
//! no valid frame is counted as unknown. A damaged or cut file gives every
//! frame before the damage, then one `ERR_CORRUPT_FILE` or
//! `ERR_TRUNCATED_FILE` error naming the block and byte offset.

use std::io::{Read, Seek};

use super::block::{corrupt, le_u16, le_u64};
use super::file_access::FileAccess;
use super::layout::{Field, FrameGroup};
use super::meta::{FINISHED_MAGIC, ID_BLOCK_LEN, UNFINISHED_MAGIC};
use super::schema::{DataGroupInfo, FrameLayout, read_schema};
use super::stream::RecordStream;
use crate::dlc::{fd_dlc_to_len, fd_len_to_dlc};
use crate::error::{CanwireError, ErrorCode, Result};
use crate::frame::{Frame, FrameFlags};
use crate::logfile::{FrameReader, IssueKind, LogFormat, ReadStats, Truncation};

/// One data group being read.
struct GroupCursor {
    info: DataGroupInfo,
    stream: RecordStream,
    /// Records left per channel group (sorted groups of a finished file).
    remaining: Option<u64>,
    head: Option<Frame>,
    done: bool,
}

/// Reads the frames of an MF4 bus log (see the module doc).
pub struct Mf4Reader<R: Read + Seek> {
    f: FileAccess<R>,
    start_ns: u64,
    unfinished: bool,
    cursors: Vec<GroupCursor>,
    stats: ReadStats,
    deferred: Option<CanwireError>,
}

impl<R: Read + Seek> Mf4Reader<R> {
    /// Reads the ID block, the header and the group tree.
    pub fn new(src: R) -> Result<Self> {
        let mut f = FileAccess::new(src)?;
        let id = f
            .read_at(0, ID_BLOCK_LEN as u64, "the ID block")
            .map_err(|_| {
                CanwireError::new(
                    ErrorCode::CorruptFile,
                    format!(
                        "MF4: the file holds {} bytes, fewer than the 64-byte ID block",
                        f.len()
                    ),
                )
            })?;
        let unfinished = &id[..8] == UNFINISHED_MAGIC;
        if &id[..8] != FINISHED_MAGIC && !unfinished {
            return Err(corrupt(
                0,
                "not an MDF file (it does not start with `MDF     ` or `UnFinMF `)",
            ));
        }
        let version = le_u16(&id, 28);
        if version < 400 {
            return Err(CanwireError::new(
                ErrorCode::Unsupported,
                format!("MF4: MDF version {version} is not read: canwire reads MDF 4.x"),
            ));
        }
        let hd = ID_BLOCK_LEN as u64;
        let (h, body) = f.block(hd, &[b"HD"])?;
        let d = h.link_count as usize * 8;
        if body.len() < d + 16 {
            return Err(corrupt(hd, "the ##HD block is shorter than its fields"));
        }
        let mut start_ns = le_u64(&body, d) as i128;
        let tz = i16::from_le_bytes([body[d + 8], body[d + 9]]);
        let dst = i16::from_le_bytes([body[d + 10], body[d + 11]]);
        let time_flags = body[d + 12];
        if time_flags & 0b11 == 0b11 {
            start_ns -= (i128::from(tz) + i128::from(dst)) * 60_000_000_000;
        }
        let groups = read_schema(&mut f, hd)?;
        let single = groups.len() == 1;
        let walk = unfinished && single;
        let cursors = groups
            .into_iter()
            .map(|info| GroupCursor {
                stream: if walk {
                    RecordStream::walk(hd)
                } else if single {
                    RecordStream::linked(info.data).walk_if_cut(hd)
                } else {
                    RecordStream::linked(info.data)
                },
                remaining: (!unfinished && info.record_id_bytes == 0)
                    .then(|| info.groups.first().map_or(0, |g| g.cycles)),
                info,
                head: None,
                done: false,
            })
            .collect();
        Ok(Self {
            f,
            start_ns: start_ns.clamp(0, i128::from(u64::MAX)) as u64,
            unfinished,
            cursors,
            stats: ReadStats::default(),
            deferred: None,
        })
    }

    /// Whether the file's writer never finished it (read by walking its blocks).
    pub fn is_unfinished(&self) -> bool {
        self.unfinished
    }

    /// The header's start time, ns since the Unix epoch (UTC).
    pub fn start_unix_ns(&self) -> u64 {
        self.start_ns
    }

    fn advance(
        f: &mut FileAccess<R>,
        c: &mut GroupCursor,
        start_ns: u64,
        stats: &mut ReadStats,
    ) -> Result<Option<Frame>> {
        loop {
            if c.remaining == Some(0) {
                return Ok(None);
            }
            let index = if c.info.record_id_bytes == 0 {
                if c.info.groups.len() != 1 {
                    return Err(corrupt(
                        c.info.offset,
                        &format!(
                            "a data group without record ids holds {} channel groups",
                            c.info.groups.len()
                        ),
                    ));
                }
                0
            } else {
                let n = c.info.record_id_bytes as usize;
                let Some(raw) = c.stream.take(f, n)? else {
                    return Ok(None);
                };
                let mut id = [0u8; 8];
                id[..n].copy_from_slice(raw);
                let id = u64::from_le_bytes(id);
                match c.info.groups.iter().position(|g| g.record_id == id) {
                    Some(i) => i,
                    None => {
                        return Err(corrupt(
                            c.stream.block_offset(),
                            &format!(
                                "a record has id {id}, which no channel group of the ##DG block at byte offset {} has",
                                c.info.offset
                            ),
                        ));
                    }
                }
            };
            let group = &c.info.groups[index];
            if group.vlsd {
                let len = match c.stream.take(f, 4)? {
                    Some(b) => u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize,
                    None => {
                        return Err(corrupt(
                            c.stream.block_offset(),
                            "a VLSD record has no length",
                        ));
                    }
                };
                c.stream.take(f, len)?;
                stats.skipped += 1;
                continue;
            }
            let Some(rec) = c.stream.take(f, group.record_bytes as usize)? else {
                return Ok(None);
            };
            if let Some(r) = c.remaining.as_mut() {
                *r -= 1;
            }
            stats.lines += 1;
            let Some(layout) = &group.layout else {
                stats.skipped += 1;
                continue;
            };
            let frame = decode_frame(layout, rec, start_ns);
            match frame.and_then(|f| f.validate().map(|()| f)) {
                Ok(frame) => {
                    stats.frames += 1;
                    return Ok(Some(frame));
                }
                Err(e) => stats.record(stats.lines, IssueKind::Unknown, &e.message),
            }
        }
    }
}

/// The frame in one record of a bus-logging group.
pub fn decode_frame(layout: &FrameLayout, rec: &[u8], start_ns: u64) -> Result<Frame> {
    let Some(offset) = layout.time.ns(rec) else {
        return Err(CanwireError::new(
            ErrorCode::InvalidTimestamp,
            "the record's time is not a number",
        ));
    };
    let ns = start_ns as i128 + offset;
    let get = |field| layout.field(field).map(|loc| loc.uint(rec));
    let raw_id = get(Field::Id).unwrap_or(0);
    let mut frame = Frame {
        timestamp_ns: ns.clamp(0, i128::from(u64::MAX)) as u64,
        id: (raw_id & 0x1FFF_FFFF) as u32,
        channel: get(Field::BusChannel).unwrap_or(0) as u32,
        ..Frame::default()
    };
    let extended = match get(Field::Ide) {
        Some(ide) => ide != 0,
        None => raw_id & 0x8000_0000 != 0 || frame.id > 0x7FF,
    };
    frame.flags.set(FrameFlags::EXTENDED, extended);
    frame.flags.set(FrameFlags::TX, get(Field::Dir) == Some(1));
    let dlc = get(Field::Dlc);
    match layout.group {
        FrameGroup::Remote => {
            frame.flags.set(FrameFlags::REMOTE, true);
            frame.dlc = dlc.unwrap_or(0).min(255) as u8;
        }
        group => {
            frame
                .flags
                .set(FrameFlags::ERROR, group == FrameGroup::Error);
            let fd = get(Field::Edl).unwrap_or(0) != 0 && group == FrameGroup::Data;
            frame.flags.set(FrameFlags::FD, fd);
            frame
                .flags
                .set(FrameFlags::BRS, fd && get(Field::Brs).unwrap_or(0) != 0);
            frame
                .flags
                .set(FrameFlags::ESI, fd && get(Field::Esi).unwrap_or(0) != 0);
            let bytes = layout
                .field(Field::DataBytes)
                .map_or(&[][..], |loc| loc.bytes(rec));
            let len = match (get(Field::DataLength), dlc) {
                (Some(len), _) => len,
                (None, Some(code)) if fd => {
                    u64::from(fd_dlc_to_len(code.min(15) as u8).unwrap_or(0))
                }
                (None, Some(code)) => code.min(8),
                (None, None) => bytes.len() as u64,
            };
            if len > 64 || len as usize > bytes.len() {
                return Err(CanwireError::new(
                    ErrorCode::DataTooLong,
                    format!("the record says {len} data bytes but holds {}", bytes.len()),
                ));
            }
            frame.len = len as u8;
            frame.data[..len as usize].copy_from_slice(&bytes[..len as usize]);
            frame.dlc = match dlc {
                Some(code) => code.min(255) as u8,
                None if fd => fd_len_to_dlc(frame.len).unwrap_or(frame.len),
                None => frame.len,
            };
        }
    }
    Ok(frame)
}

impl<R: Read + Seek> Iterator for Mf4Reader<R> {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.deferred.take() {
            return Some(Err(e));
        }
        let Self {
            f,
            start_ns,
            unfinished,
            cursors,
            stats,
            ..
        } = self;
        for c in cursors.iter_mut() {
            if c.head.is_some() || c.done {
                continue;
            }
            match Self::advance(f, c, *start_ns, stats) {
                Ok(Some(frame)) => c.head = Some(frame),
                Ok(None) => c.done = true,
                Err(e) => {
                    c.done = true;
                    if stats.truncated.is_none() {
                        stats.truncated = Some(Truncation {
                            line: None,
                            byte_offset: Some(c.stream.block_offset()),
                            reason: e.message.clone(),
                        });
                    }
                    return Some(Err(e));
                }
            }
        }
        let Some(next) = cursors
            .iter_mut()
            .filter(|c| c.head.is_some())
            .min_by_key(|c| c.head.map(|f| f.timestamp_ns))
        else {
            if *unfinished && stats.truncated.is_none() {
                stats.truncated = Some(Truncation {
                    line: None,
                    byte_offset: Some(f.len()),
                    reason: "the writer did not finish the file (`UnFinMF`): read up to its last whole block".into(),
                });
            }
            return None;
        };
        next.head.take().map(Ok)
    }
}

impl<R: Read + Seek> FrameReader for Mf4Reader<R> {
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
        self.stats.clone()
    }

    fn start_time_ns(&self) -> Option<u64> {
        Some(self.start_ns).filter(|&t| t != 0)
    }

    fn format(&self) -> LogFormat {
        LogFormat::Mf4
    }
}
