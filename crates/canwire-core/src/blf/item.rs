//! What the reader hands out: frames, error details, metadata, the end state,
//! and the counters.

use std::collections::BTreeMap;

use crate::frame::Frame;

/// One item read from a BLF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlfItem {
    /// A data or remote frame (CAN_MESSAGE, CAN_MESSAGE2, CAN_FD_MESSAGE, CAN_FD_MESSAGE_64).
    Frame(Frame),
    /// An error frame (CAN_ERROR, CAN_ERROR_EXT, CAN_FD_ERROR_64): the frame has
    /// [`FrameFlags::ERROR`](crate::FrameFlags::ERROR) set; the details hold the rest.
    Error(Frame, CanErrorDetails),
    /// An APP_TEXT object.
    AppText(AppText),
    /// A GLOBAL_MARKER object.
    Marker(GlobalMarker),
    /// The file ends inside an object: everything whole before it was read. Always
    /// the last item.
    Truncated(Truncation),
}

/// The fields of an error object that a [`Frame`] cannot hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct CanErrorDetails {
    /// The object type it came from (2, 73 or 104).
    pub object_type: u32,
    /// Which of the fields below are valid (bit 0 ECC, 1 error code, 2 position, 3 frame length).
    pub flags: u32,
    /// Error code capture register (SJA1000 ECC or Vector CAN-Core error register).
    pub ecc: u8,
    /// Bit position of the error in the corrupted frame.
    pub position: u16,
    /// Extended error flags: bits 0-4 segment, 5 direction (1 = Rx), 6-11 error
    /// code, 12-13 extended direction (0 Rx NAK, 1 Tx NAK, 2 Rx, 3 Tx).
    pub flags_ext: u16,
    /// FD flags of CAN_FD_ERROR_64 (bit 4 data phase, 5 ESI, 6 BRS, 7 EDL); 0 otherwise.
    pub fd_flags: u16,
    /// Length of the error frame in ns (0 if unknown).
    pub frame_length_ns: u32,
    /// CRC of the corrupted frame (CAN_FD_ERROR_64 only).
    pub crc: u32,
    /// The length field of CAN_ERROR and CAN_ERROR_EXT.
    pub length: u16,
}

/// An APP_TEXT object: free text or metadata (source 0 measurement comment,
/// 1 database channel info, 2 metadata).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppText {
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// The text source.
    pub source: u32,
    /// The first reserved field (some sources keep a channel number in it).
    pub reserved: u32,
    /// The text, decoded as UTF-8 with invalid sequences replaced, trailing NULs removed.
    pub text: String,
}

/// A GLOBAL_MARKER object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GlobalMarker {
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// The commented event type.
    pub event_type: u32,
    /// Foreground colour (Windows COLORREF).
    pub foreground_color: u32,
    /// Background colour (Windows COLORREF).
    pub background_color: u32,
    /// Whether the marker may be moved.
    pub relocatable: bool,
    /// Group name.
    pub group_name: String,
    /// Marker name.
    pub marker_name: String,
    /// Description.
    pub description: String,
}

/// Where a truncated file ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Truncation {
    /// Byte offset of the incomplete top-level object (the container that is cut
    /// short, or that holds the start of the cut inner object).
    pub object_offset: u64,
    /// Number of bytes the file holds.
    pub file_len: u64,
}

/// A stretch of a BLF file that could not be read: the reader skipped it and
/// went on at the next valid object signature (or the end of the file).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Damage {
    /// Byte offset of the damaged top-level object (for damage inside a
    /// container: the container's offset).
    pub file_offset: u64,
    /// Bytes skipped: file bytes at the top level, inner (decompressed) bytes
    /// inside a container.
    pub skipped_bytes: u64,
    /// What was wrong, naming the offset.
    pub reason: String,
}

/// How many [`Damage`] records [`BlfReadStats::damage`] keeps (all are counted).
pub const MAX_RECORDED_DAMAGE: usize = 8;

/// How many distinct object types [`BlfReadStats::skipped_by_type`] tracks; the
/// rest go to [`BlfReadStats::skipped_other_types`], so the map stays small.
pub const MAX_TRACKED_SKIPPED_TYPES: usize = 64;

/// Counters kept while reading.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlfReadStats {
    /// Inner objects read whole, of every type (containers not counted).
    pub objects_read: u64,
    /// LOG_CONTAINER objects read.
    pub containers: u64,
    /// Frames (data, remote and error) handed out.
    pub frames: u64,
    /// Objects skipped because their type is not decoded, by type.
    pub skipped_by_type: BTreeMap<u32, u64>,
    /// Skipped objects whose type did not fit in `skipped_by_type`.
    pub skipped_other_types: u64,
    /// Objects skipped because their header version is not 1 or 2.
    pub skipped_header_version: u64,
    /// Objects skipped because their payload is too short for their type.
    pub skipped_malformed: u64,
    /// Containers skipped because their compression method is unknown.
    pub skipped_containers: u64,
    /// Set once the reader found the file cut short.
    pub truncated: Option<Truncation>,
    /// Damaged stretches skipped (each resynchronised at the next signature).
    pub damaged: u64,
    /// Bytes skipped over all damaged stretches.
    pub damaged_bytes: u64,
    /// The first [`MAX_RECORDED_DAMAGE`] damaged stretches, in file order.
    pub damage: Vec<Damage>,
}

impl BlfReadStats {
    /// Total number of skipped objects (any reason, containers excluded).
    pub fn skipped(&self) -> u64 {
        self.skipped_by_type.values().sum::<u64>()
            + self.skipped_other_types
            + self.skipped_header_version
            + self.skipped_malformed
    }

    pub(crate) fn record_damage(&mut self, damage: Damage) {
        self.damaged += 1;
        self.damaged_bytes += damage.skipped_bytes;
        if self.damage.len() < MAX_RECORDED_DAMAGE {
            self.damage.push(damage);
        }
    }

    pub(crate) fn count_skipped_type(&mut self, object_type: u32) {
        if let Some(n) = self.skipped_by_type.get_mut(&object_type) {
            *n += 1;
        } else if self.skipped_by_type.len() < MAX_TRACKED_SKIPPED_TYPES {
            self.skipped_by_type.insert(object_type, 1);
        } else {
            self.skipped_other_types += 1;
        }
    }
}
