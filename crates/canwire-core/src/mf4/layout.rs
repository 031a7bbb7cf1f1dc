//! The ASAM bus-logging record layout python-can's `MF4Writer` writes (and
//! asammdf reads): one channel group per frame kind, each record a time from
//! the header's start time (python-can: float64 seconds; canwire: an int64
//! count of [`TimeResolution`] units, ns by default, with a linear
//! conversion to seconds), then a composite channel
//! whose members are unsigned little-endian integers (and the data bytes).
//!
//! | member        | data/error | remote | bits |
//! |---------------|-----------:|-------:|-----:|
//! | `BusChannel`  | 8          | 8      | 8    |
//! | `ID`          | 9          | 9      | 32   |
//! | `IDE`         | 13         | 13     | 8    |
//! | `DLC`         | 14         | 14     | 8    |
//! | `DataLength`  | 15         | 15     | 8    |
//! | `DataBytes`   | 16         | -      | 512  |
//! | `Dir`         | 80         | 16     | 8    |
//! | `EDL`         | 81         | -      | 8    |
//! | `BRS`         | 82         | -      | 8    |
//! | `ESI`         | 83         | -      | 8    |
//!
//! Byte offsets count from the record's start (after a record id, if any);
//! the time is at 0. `Dir` is 0 for received, 1 for transmitted frames.
//! `BusChannel` is canwire's 0-based channel index as python-can writes it.

use crate::error::{CanwireError, Result};
use crate::frame::{Frame, FrameFlags};

/// The three channel groups of a bus log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameGroup {
    /// `CAN_DataFrame`: data frames, classic and FD.
    Data,
    /// `CAN_ErrorFrame`: error frames.
    Error,
    /// `CAN_RemoteFrame`: remote frames.
    Remote,
}

/// One member of a group's composite channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Bus channel number.
    BusChannel,
    /// The identifier.
    Id,
    /// 1 for a 29-bit identifier.
    Ide,
    /// The DLC code.
    Dlc,
    /// Number of data bytes.
    DataLength,
    /// The data bytes (64, zero-padded).
    DataBytes,
    /// 0 received, 1 transmitted.
    Dir,
    /// 1 for CAN FD (extended data length).
    Edl,
    /// FD bit rate switch.
    Brs,
    /// FD error state indicator.
    Esi,
}

impl Field {
    /// Every member.
    pub const ALL: [Field; 10] = [
        Field::BusChannel,
        Field::Id,
        Field::Ide,
        Field::Dlc,
        Field::DataLength,
        Field::DataBytes,
        Field::Dir,
        Field::Edl,
        Field::Brs,
        Field::Esi,
    ];

    /// The name after the group's, e.g. `ID` in `CAN_DataFrame.ID`.
    pub const fn name(self) -> &'static str {
        match self {
            Field::BusChannel => "BusChannel",
            Field::Id => "ID",
            Field::Ide => "IDE",
            Field::Dlc => "DLC",
            Field::DataLength => "DataLength",
            Field::DataBytes => "DataBytes",
            Field::Dir => "Dir",
            Field::Edl => "EDL",
            Field::Brs => "BRS",
            Field::Esi => "ESI",
        }
    }

    /// The member named `name`, if any.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Width in bits in the layout written here.
    pub const fn bits(self) -> u32 {
        match self {
            Field::Id => 32,
            Field::DataBytes => 512,
            _ => 8,
        }
    }
}

/// Bytes of the time at the start of every record.
pub const TIME_BYTES: u32 = 8;

/// The unit of the int64 time at the start of each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeResolution {
    /// Nanoseconds (conversion factor 1e-9): every timestamp exact.
    #[default]
    Ns,
    /// Microseconds (conversion factor 1e-6): times rounded to the nearest
    /// µs, ties to even. Coarser than python-can's float seconds (steps of
    /// 2^-22 s, about 0.24 µs, today), and on periodic traffic a time column
    /// that deflates to as little as python-can's.
    Us,
}

impl TimeResolution {
    /// `"ns"` or `"us"`; anything else is `ERR_INVALID_ARGUMENT`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "ns" => Ok(Self::Ns),
            "us" => Ok(Self::Us),
            _ => Err(CanwireError::invalid_argument(format!(
                "MF4 time resolution '{name}' is unknown: allowed \"ns\" (exact, the default) or \"us\""
            ))),
        }
    }

    /// The ns in one unit.
    pub const fn ns_per_unit(self) -> u64 {
        match self {
            Self::Ns => 1,
            Self::Us => 1000,
        }
    }

    /// The conversion factor from one unit to seconds.
    pub const fn seconds_per_unit(self) -> f64 {
        match self {
            Self::Ns => 1e-9,
            Self::Us => 1e-6,
        }
    }

    /// `offset_ns` in units, rounded to the nearest, ties to even.
    pub fn units(self, offset_ns: i128) -> i128 {
        let unit = i128::from(self.ns_per_unit());
        let (q, r) = (offset_ns.div_euclid(unit), offset_ns.rem_euclid(unit));
        if 2 * r > unit || (2 * r == unit && q % 2 != 0) {
            q + 1
        } else {
            q
        }
    }
}

impl FrameGroup {
    /// The groups in the order they are written.
    pub const ALL: [FrameGroup; 3] = [FrameGroup::Data, FrameGroup::Error, FrameGroup::Remote];

    /// The composite channel's name.
    pub const fn name(self) -> &'static str {
        match self {
            FrameGroup::Data => "CAN_DataFrame",
            FrameGroup::Error => "CAN_ErrorFrame",
            FrameGroup::Remote => "CAN_RemoteFrame",
        }
    }

    /// The group whose composite channel is named `name`.
    pub fn from_name(name: &str) -> Option<FrameGroup> {
        FrameGroup::ALL.into_iter().find(|g| g.name() == name)
    }

    /// The group a frame is logged in.
    pub fn of(frame: &Frame) -> FrameGroup {
        if frame.is_remote() {
            FrameGroup::Remote
        } else if frame.is_error() {
            FrameGroup::Error
        } else {
            FrameGroup::Data
        }
    }

    /// The members written, with their byte offsets, in record order.
    pub fn members(self) -> &'static [(Field, u32)] {
        match self {
            FrameGroup::Data | FrameGroup::Error => &[
                (Field::BusChannel, 8),
                (Field::Id, 9),
                (Field::Ide, 13),
                (Field::Dlc, 14),
                (Field::DataLength, 15),
                (Field::DataBytes, 16),
                (Field::Dir, 80),
                (Field::Edl, 81),
                (Field::Brs, 82),
                (Field::Esi, 83),
            ],
            FrameGroup::Remote => &[
                (Field::BusChannel, 8),
                (Field::Id, 9),
                (Field::Ide, 13),
                (Field::Dlc, 14),
                (Field::DataLength, 15),
                (Field::Dir, 16),
            ],
        }
    }

    /// Bytes of one record, time included.
    pub const fn record_bytes(self) -> u32 {
        match self {
            FrameGroup::Data | FrameGroup::Error => 84,
            FrameGroup::Remote => 17,
        }
    }

    /// The record id this writer gives the group (1, 2, 3).
    pub const fn record_id(self) -> u8 {
        match self {
            FrameGroup::Data => 1,
            FrameGroup::Error => 2,
            FrameGroup::Remote => 3,
        }
    }
}

/// Appends the record of `frame` (time relative to `start_ns`, in units of
/// `resolution`) to `out`. The channel must fit `BusChannel` (the writer checks it).
pub fn encode_record(frame: &Frame, start_ns: u64, resolution: TimeResolution, out: &mut Vec<u8>) {
    let group = FrameGroup::of(frame);
    let at = out.len();
    out.resize(at + group.record_bytes() as usize, 0);
    let rec = &mut out[at..];
    let offset_ns = frame.timestamp_ns as i128 - start_ns as i128;
    let time = if resolution == TimeResolution::Ns {
        offset_ns
    } else {
        resolution.units(offset_ns)
    };
    rec[..8].copy_from_slice(&(time as i64).to_le_bytes());
    let fd = frame.is_fd() && group != FrameGroup::Remote;
    for &(field, byte) in group.members() {
        let b = byte as usize;
        let flag = |bit| u8::from(frame.flags.has(bit));
        match field {
            Field::BusChannel => rec[b] = frame.channel as u8,
            Field::Id => rec[b..b + 4].copy_from_slice(&frame.id.to_le_bytes()),
            Field::Ide => rec[b] = flag(FrameFlags::EXTENDED),
            Field::Dlc => rec[b] = frame.dlc,
            Field::DataLength => {
                rec[b] = if group == FrameGroup::Remote {
                    0
                } else {
                    frame.len
                }
            }
            Field::DataBytes => rec[b..b + 64].copy_from_slice(&frame.data),
            Field::Dir => rec[b] = flag(FrameFlags::TX),
            Field::Edl => rec[b] = u8::from(fd),
            Field::Brs => rec[b] = u8::from(fd && frame.flags.has(FrameFlags::BRS)),
            Field::Esi => rec[b] = u8::from(fd && frame.flags.has(FrameFlags::ESI)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_frame_record_has_python_cans_byte_layout() {
        let mut f = Frame::fd(0x1ABC_DEF0, true, &[0xAA; 12], true);
        f.timestamp_ns = 1_000_000_000 + 1_500_000_250;
        f.channel = 2;
        f.flags.set(FrameFlags::TX, true);
        let mut out = vec![0xEE];
        encode_record(&f, 1_000_000_000, TimeResolution::Ns, &mut out);
        let rec = &out[1..];
        assert_eq!(rec.len(), 84);
        assert_eq!(
            i64::from_le_bytes(rec[..8].try_into().unwrap()),
            1_500_000_250
        );
        assert_eq!(rec[8], 2);
        assert_eq!(&rec[9..13], &0x1ABC_DEF0u32.to_le_bytes());
        assert_eq!(&rec[13..16], &[1, 9, 12]);
        assert_eq!(&rec[16..28], &[0xAA; 12]);
        assert_eq!(&rec[28..80], &[0; 52]);
        assert_eq!(&rec[80..84], &[1, 1, 1, 0]);
    }

    #[test]
    fn a_remote_frame_record_is_17_bytes_without_data() {
        let mut f = Frame::remote(0x7FF, false, 4);
        f.timestamp_ns = 5;
        let mut out = Vec::new();
        encode_record(&f, 10, TimeResolution::Ns, &mut out);
        assert_eq!(out.len(), 17);
        assert_eq!(i64::from_le_bytes(out[..8].try_into().unwrap()), -5);
        assert_eq!(&out[8..17], &[0, 0xFF, 0x07, 0, 0, 0, 4, 0, 0]);
    }

    #[test]
    fn microsecond_times_round_to_the_nearest_ties_to_even() {
        let us = TimeResolution::Us;
        let cases = [
            (0, 0),
            (499, 0),
            (500, 0),
            (501, 1),
            (1_499, 1),
            (1_500, 2),
            (2_500, 2),
            (2_500_001, 2_500),
            (-500, 0),
            (-501, -1),
            (-1_500, -2),
            (125_000, 125),
        ];
        for (ns, want) in cases {
            assert_eq!(us.units(ns), want, "{ns} ns");
        }
        let mut f = Frame::classic(1, false, &[]);
        f.timestamp_ns = 1_700_000_000_000_001_500;
        let mut out = Vec::new();
        encode_record(&f, 1_700_000_000_000_000_000, us, &mut out);
        assert_eq!(i64::from_le_bytes(out[..8].try_into().unwrap()), 2);
        assert_eq!(TimeResolution::from_name("us").unwrap(), us);
        let e = TimeResolution::from_name("ms").unwrap_err();
        assert_eq!(e.code, crate::error::ErrorCode::InvalidArgument);
        assert!(
            e.message.contains("'ms'") && e.message.contains("\"us\""),
            "{e}"
        );
    }
}
