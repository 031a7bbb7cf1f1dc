//! What a file's `##DG`/`##CG`/`##CN` tree says about its records: for each
//! data group its record-id size and data link, for each channel group its
//! record id and size, and for a CAN bus-logging group ([`FrameGroup`]) where
//! the time and each member ([`Field`]) sit in the record. Members are found
//! by name (`CAN_DataFrame.ID`), under the composite channel or beside it,
//! so layouts other than python-can's read too.

use std::io::{Read, Seek};

use super::block::{corrupt, le_u16, le_u32, le_u64};
use super::file_access::FileAccess;
use super::layout::{Field, FrameGroup};
use crate::error::{CanwireError, ErrorCode, Result};

/// At most this many channels per group and groups per file are read.
const MAX_CHANNELS: usize = 4096;
const MAX_GROUPS: usize = 4096;

/// Where an integer or byte-array member sits in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldLoc {
    /// Byte offset in the record (after the record id).
    pub byte: u32,
    /// Bit offset within that byte (0..7).
    pub bit: u8,
    /// Width in bits.
    pub bits: u32,
    /// `cn_data_type` (0 unsigned LE, 1 unsigned BE, 10 byte array, ...).
    pub data_type: u8,
}

impl FieldLoc {
    /// The unsigned value of the member in `rec` (0 if it overruns the record).
    pub fn uint(&self, rec: &[u8]) -> u64 {
        let start = self.byte as usize;
        let bits = self.bits.min(64);
        let n = (self.bit as usize + bits as usize).div_ceil(8).min(9);
        let Some(bytes) = rec.get(start..start + n) else {
            return 0;
        };
        let mut raw: u128 = 0;
        if self.data_type == 1 || self.data_type == 3 {
            for &b in bytes {
                raw = (raw << 8) | u128::from(b);
            }
        } else {
            for (i, &b) in bytes.iter().enumerate() {
                raw |= u128::from(b) << (8 * i);
            }
        }
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        ((raw >> self.bit) as u64) & mask
    }

    /// The member's bytes (byte arrays), cut to the record.
    pub fn bytes<'a>(&self, rec: &'a [u8]) -> &'a [u8] {
        let start = (self.byte as usize).min(rec.len());
        let end = (start + self.bits as usize / 8).min(rec.len());
        &rec[start..end]
    }
}

/// How the master channel's raw value becomes seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeLoc {
    /// Where it sits.
    pub loc: FieldLoc,
    /// A linear conversion `offset + factor * raw` (identity when absent).
    pub offset: f64,
    /// See `offset`.
    pub factor: f64,
}

impl TimeLoc {
    /// The time of `rec` in ns: exact for an integer count of ns, µs, ms or
    /// s (canwire's own files), rounded from seconds otherwise; `None` for
    /// NaN or infinity.
    pub fn ns(&self, rec: &[u8]) -> Option<i128> {
        let l = &self.loc;
        let ns_per_raw = [
            (1e-9, 1),
            (1e-6, 1_000),
            (1e-3, 1_000_000),
            (1.0, 1_000_000_000),
        ]
        .into_iter()
        .find(|&(factor, _)| self.factor == factor)
        .map(|(_, ns)| ns);
        if let Some(ns_per_raw) = ns_per_raw.filter(|_| {
            matches!(l.data_type, 0..=3) && (1..=64).contains(&l.bits) && self.offset == 0.0
        }) {
            let raw = l.uint(rec);
            let signed =
                matches!(l.data_type, 2 | 3) && l.bits < 64 && raw >> (l.bits - 1) & 1 == 1;
            let raw = if matches!(l.data_type, 2 | 3) && l.bits == 64 {
                i128::from(raw as i64)
            } else if signed {
                i128::from(raw) - (1i128 << l.bits)
            } else {
                i128::from(raw)
            };
            return Some(raw * ns_per_raw);
        }
        let seconds = self.seconds(rec);
        seconds.is_finite().then(|| (seconds * 1e9).round() as i128)
    }

    /// The time of `rec` in seconds.
    pub fn seconds(&self, rec: &[u8]) -> f64 {
        let l = &self.loc;
        let raw = match (l.data_type, l.bits) {
            (4 | 5, 64) => {
                let b = l.bytes(rec);
                let Ok(arr) = <[u8; 8]>::try_from(b) else {
                    return f64::NAN;
                };
                if l.data_type == 4 {
                    f64::from_le_bytes(arr)
                } else {
                    f64::from_be_bytes(arr)
                }
            }
            (4 | 5, 32) => {
                let b = l.bytes(rec);
                let Ok(arr) = <[u8; 4]>::try_from(b) else {
                    return f64::NAN;
                };
                f64::from(if l.data_type == 4 {
                    f32::from_le_bytes(arr)
                } else {
                    f32::from_be_bytes(arr)
                })
            }
            (2 | 3, bits) if bits > 0 && bits <= 64 => {
                let raw = l.uint(rec);
                let shift = 64 - bits;
                (((raw << shift) as i64) >> shift) as f64
            }
            _ => l.uint(rec) as f64,
        };
        self.offset + self.factor * raw
    }
}

/// A CAN bus-logging channel group's record layout.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameLayout {
    /// Which frames the group holds.
    pub group: FrameGroup,
    /// The master (time) channel.
    pub time: TimeLoc,
    /// Each member found, indexed as [`Field::ALL`].
    pub fields: [Option<FieldLoc>; 10],
}

impl FrameLayout {
    /// Where `field` sits, if the group has it.
    pub fn field(&self, field: Field) -> Option<FieldLoc> {
        self.fields[Field::ALL.iter().position(|f| *f == field).expect("in ALL")]
    }
}

/// One channel group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfo {
    /// `cg_record_id`.
    pub record_id: u64,
    /// `cg_cycle_count`.
    pub cycles: u64,
    /// Record bytes after the record id: data bytes plus invalidation bytes.
    pub record_bytes: u64,
    /// A variable-length signal-data group (records are a u32 length and bytes).
    pub vlsd: bool,
    /// The CAN layout, for the bus-logging groups canwire reads.
    pub layout: Option<FrameLayout>,
}

/// One data group.
#[derive(Debug, Clone, PartialEq)]
pub struct DataGroupInfo {
    /// The `##DG` block's offset.
    pub offset: u64,
    /// Bytes of the record id before each record (0 sorted, 1, 2, 4, 8).
    pub record_id_bytes: u8,
    /// The link to the data: DT, DZ, DL, HL, or 0.
    pub data: u64,
    /// The channel groups.
    pub groups: Vec<GroupInfo>,
}

/// The data groups of the file whose `##HD` block is at `hd`.
pub fn read_schema<R: Read + Seek>(f: &mut FileAccess<R>, hd: u64) -> Result<Vec<DataGroupInfo>> {
    let (h, body) = f.block(hd, &[b"HD"])?;
    let mut dg = FileAccess::<R>::link(&body, &h, 0);
    let mut out = Vec::new();
    while dg != 0 {
        if out.len() >= MAX_GROUPS {
            return Err(corrupt(
                dg,
                "more than 4096 data groups (a loop in the DG chain?)",
            ));
        }
        let (h, body) = f.block(dg, &[b"DG"])?;
        let data_at = h.link_count as usize * 8;
        let record_id_bytes = *body
            .get(data_at)
            .ok_or_else(|| corrupt(dg, "the ##DG block is shorter than its fields"))?;
        if !matches!(record_id_bytes, 0 | 1 | 2 | 4 | 8) {
            return Err(corrupt(
                dg,
                &format!("the ##DG record id size {record_id_bytes} is not 0, 1, 2, 4 or 8"),
            ));
        }
        let mut groups = Vec::new();
        let mut cg = FileAccess::<R>::link(&body, &h, 1);
        while cg != 0 {
            if groups.len() >= MAX_GROUPS {
                return Err(corrupt(
                    cg,
                    "more than 4096 channel groups (a loop in the CG chain?)",
                ));
            }
            let (info, next) = read_group(f, cg)?;
            groups.push(info);
            cg = next;
        }
        out.push(DataGroupInfo {
            offset: dg,
            record_id_bytes,
            data: FileAccess::<R>::link(&body, &h, 2),
            groups,
        });
        dg = FileAccess::<R>::link(&body, &h, 0);
    }
    Ok(out)
}

fn read_group<R: Read + Seek>(f: &mut FileAccess<R>, cg: u64) -> Result<(GroupInfo, u64)> {
    let (h, body) = f.block(cg, &[b"CG"])?;
    let d = h.link_count as usize * 8;
    if body.len() < d + 32 {
        return Err(corrupt(cg, "the ##CG block is shorter than its fields"));
    }
    let flags = le_u16(&body, d + 16);
    let vlsd = flags & 1 != 0;
    let data_bytes = u64::from(le_u32(&body, d + 24));
    let inval_bytes = u64::from(le_u32(&body, d + 28));
    let channels = read_channels(f, FileAccess::<R>::link(&body, &h, 1), 0)?;
    let layout = if vlsd {
        None
    } else {
        frame_layout(f, &channels)?
    };
    let info = GroupInfo {
        record_id: le_u64(&body, d),
        cycles: le_u64(&body, d + 8),
        record_bytes: data_bytes + inval_bytes,
        vlsd,
        layout,
    };
    Ok((info, FileAccess::<R>::link(&body, &h, 0)))
}

/// One `##CN` block, as far as the reader needs it.
#[derive(Debug, Clone)]
struct Channel {
    name: String,
    kind: u8,
    sync: u8,
    loc: FieldLoc,
    conversion: u64,
    /// Members of a composite channel.
    members: Vec<Channel>,
}

fn read_channels<R: Read + Seek>(
    f: &mut FileAccess<R>,
    mut cn: u64,
    depth: u32,
) -> Result<Vec<Channel>> {
    let mut out = Vec::new();
    while cn != 0 {
        if out.len() >= MAX_CHANNELS {
            return Err(corrupt(
                cn,
                "more than 4096 channels in a group (a loop in the CN chain?)",
            ));
        }
        let (h, body) = f.block(cn, &[b"CN"])?;
        let d = h.link_count as usize * 8;
        if body.len() < d + 24 || h.link_count < 8 {
            return Err(corrupt(cn, "the ##CN block is shorter than its fields"));
        }
        let composition = FileAccess::<R>::link(&body, &h, 1);
        let members = if composition != 0 && depth < 2 {
            match f.header(composition)?.id {
                [b'C', b'N'] => read_channels(f, composition, depth + 1)?,
                _ => Vec::new(),
            }
        } else {
            Vec::new()
        };
        out.push(Channel {
            name: f.text(FileAccess::<R>::link(&body, &h, 2))?,
            kind: body[d],
            sync: body[d + 1],
            loc: FieldLoc {
                data_type: body[d + 2],
                bit: body[d + 3] & 7,
                byte: le_u32(&body, d + 4) + u32::from(body[d + 3] >> 3),
                bits: le_u32(&body, d + 8),
            },
            conversion: FileAccess::<R>::link(&body, &h, 4),
            members,
        });
        cn = FileAccess::<R>::link(&body, &h, 0);
    }
    Ok(out)
}

/// The CAN layout of a group's channels, or `None` for a group of other signals.
fn frame_layout<R: Read + Seek>(
    f: &mut FileAccess<R>,
    channels: &[Channel],
) -> Result<Option<FrameLayout>> {
    let mut group = None;
    let mut fields = [None; 10];
    let all = channels
        .iter()
        .flat_map(|c| std::iter::once(c).chain(c.members.iter()));
    for c in all {
        if let Some(g) = FrameGroup::from_name(&c.name) {
            group.get_or_insert(g);
            continue;
        }
        let Some((prefix, member)) = c.name.split_once('.') else {
            continue;
        };
        let Some(g) = FrameGroup::from_name(prefix) else {
            continue;
        };
        if *group.get_or_insert(g) != g {
            continue;
        }
        if let Some(field) = Field::from_name(member) {
            let i = Field::ALL.iter().position(|x| *x == field).expect("in ALL");
            fields[i].get_or_insert(c.loc);
        }
    }
    let Some(group) = group else {
        return Ok(None);
    };
    let Some(master) = channels
        .iter()
        .find(|c| (c.kind == 2 || c.kind == 3) && c.sync == 1)
    else {
        return Err(CanwireError::new(
            ErrorCode::Unsupported,
            format!("MF4: the {} group has no time master channel", group.name()),
        ));
    };
    if master.kind == 3 {
        return Err(CanwireError::new(
            ErrorCode::Unsupported,
            format!(
                "MF4: the {} group's time is a virtual channel, which canwire does not read",
                group.name()
            ),
        ));
    }
    let (offset, factor) = linear(f, master.conversion)?;
    Ok(Some(FrameLayout {
        group,
        time: TimeLoc {
            loc: master.loc,
            offset,
            factor,
        },
        fields,
    }))
}

/// The `offset + factor * raw` of a linear `##CC` block (identity for none).
fn linear<R: Read + Seek>(f: &mut FileAccess<R>, cc: u64) -> Result<(f64, f64)> {
    if cc == 0 {
        return Ok((0.0, 1.0));
    }
    let (h, body) = f.block(cc, &[b"CC"])?;
    let d = h.link_count as usize * 8;
    let kind = *body
        .get(d)
        .ok_or_else(|| corrupt(cc, "the ##CC block is shorter than its fields"))?;
    match kind {
        0 => Ok((0.0, 1.0)),
        1 if body.len() >= d + 40 => {
            let p1 = f64::from_le_bytes(body[d + 24..d + 32].try_into().expect("8"));
            let p2 = f64::from_le_bytes(body[d + 32..d + 40].try_into().expect("8"));
            Ok((p1, p2))
        }
        _ => Err(CanwireError::new(
            ErrorCode::Unsupported,
            format!(
                "MF4: the time channel's conversion (##CC type {kind} at byte offset {cc}) is not linear"
            ),
        )),
    }
}
