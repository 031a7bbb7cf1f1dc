//! The blocks that describe a bus log, built once before the first record:
//! the `ID` block, `##HD` (start time) with its `##FH` history, one `##DG`
//! holding the three channel groups of [`FrameGroup`] unsorted (records
//! prefixed by a 1-byte record id, so frames stay in arrival order in one
//! stream), each `##CG` with its `##SI` (a CAN bus) and `##CN` tree: the
//! master `time` channel and the composite channel with its members.

use super::block::BlockBuilder;
use super::layout::{Field, FrameGroup, TIME_BYTES, TimeResolution};

/// Bytes of the `ID` block at the start of every MDF file.
pub const ID_BLOCK_LEN: usize = 64;
/// `id_file` of a file whose writer has not finished it.
pub const UNFINISHED_MAGIC: &[u8; 8] = b"UnFinMF ";
/// `id_file` of a finished file.
pub const FINISHED_MAGIC: &[u8; 8] = b"MDF     ";
/// Offset of `id_unfin_flags` in the ID block.
pub const UNFIN_FLAGS_AT: u64 = 60;
/// The unfinished work a streaming writer leaves until it closes: cycle
/// counters of the CG blocks (bit 0) and the last DL block (bit 4).
pub const UNFIN_FLAGS: u16 = 0x0001 | 0x0010;

/// `si_type` bus, `si_bus_type` CAN.
const SOURCE_BUS: u8 = 2;
const BUS_TYPE_CAN: u8 = 2;
/// `cg_flags`: bus event, plain bus event.
const CG_BUS_EVENT: u16 = 0x0002 | 0x0004;
/// `cn_flags`: bus event.
const CN_BUS_EVENT: u32 = 0x0400;

/// Where the writer patches the metadata at close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatchPoints {
    /// The DG's link to its data (a DL block), 0 until the first list is written.
    pub dg_data_link: u64,
    /// Each group's `cg_cycle_count`, in [`FrameGroup::ALL`] order.
    pub cycle_counts: [u64; 3],
}

/// Blocks laid out one after another from a base offset.
struct Arena {
    bytes: Vec<u8>,
}

impl Arena {
    fn push(&mut self, block: Vec<u8>) -> u64 {
        let at = self.bytes.len() as u64;
        self.bytes.extend_from_slice(&block);
        at
    }

    fn text(&mut self, id: &[u8; 2], text: &str) -> u64 {
        self.push(
            BlockBuilder::new(id, &[])
                .bytes(text.as_bytes())
                .u8(0)
                .finish(),
        )
    }

    fn set_link(&mut self, block: u64, index: usize, value: u64) {
        let at = block as usize + 24 + index * 8;
        self.bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }
}

/// A `##CN` block: `data_type` 0 unsigned LE, 4 float LE, 10 byte array.
#[allow(clippy::too_many_arguments)]
fn channel(
    next: u64,
    composition: u64,
    name: u64,
    source: u64,
    unit: u64,
    kind: u8,
    sync: u8,
    data_type: u8,
    byte_offset: u32,
    bits: u32,
    flags: u32,
) -> Vec<u8> {
    BlockBuilder::new(b"CN", &[next, composition, name, source, 0, 0, unit, 0])
        .u8(kind)
        .u8(sync)
        .u8(data_type)
        .u8(0)
        .u32(byte_offset)
        .u32(bits)
        .u32(flags)
        .u32(0)
        .u8(if kind == 0 && composition != 0 { 0 } else { 3 })
        .u8(0)
        .u16(0)
        .zeros(6 * 8)
        .finish()
}

/// The ID block, `##HD` and everything under it, laid out from offset 0,
/// with the header's start time `start_ns` (UTC ns since the Unix epoch) and
/// the records' time in units of `resolution`.
pub fn metadata(
    start_ns: u64,
    resolution: TimeResolution,
    tool_version: &str,
) -> (Vec<u8>, PatchPoints) {
    let mut a = Arena { bytes: Vec::new() };
    let mut id = Vec::with_capacity(ID_BLOCK_LEN);
    id.extend_from_slice(UNFINISHED_MAGIC);
    id.extend_from_slice(b"4.10    ");
    id.extend_from_slice(b"canwire ");
    id.extend_from_slice(&[0; 4]);
    id.extend_from_slice(&410u16.to_le_bytes());
    id.extend_from_slice(&[0; 30]);
    id.extend_from_slice(&UNFIN_FLAGS.to_le_bytes());
    id.extend_from_slice(&[0; 2]);
    a.push(id);

    let hd = a.push(
        BlockBuilder::new(b"HD", &[0; 6])
            .u64(start_ns)
            .zeros(8)
            .f64(0.0)
            .f64(0.0)
            .finish(),
    );
    let hd_comment = a.text(
        b"MD",
        "<HDcomment>\n<TX/>\n<common_properties/>\n</HDcomment>",
    );
    let fh_comment = a.text(
        b"MD",
        &format!(
            "<FHcomment>\n<TX>created</TX>\n<tool_id>canwire</tool_id>\n\
             <tool_vendor>canwire</tool_vendor>\n<tool_version>{tool_version}</tool_version>\n</FHcomment>"
        ),
    );
    let fh = a.push(
        BlockBuilder::new(b"FH", &[0, fh_comment])
            .u64(start_ns)
            .zeros(8)
            .finish(),
    );
    let dg = a.push(BlockBuilder::new(b"DG", &[0; 4]).u8(1).zeros(7).finish());
    a.set_link(hd, 0, dg);
    a.set_link(hd, 1, fh);
    a.set_link(hd, 5, hd_comment);

    let acq_name = a.text(b"TX", "CAN");
    let source = a.push(
        BlockBuilder::new(b"SI", &[0, 0, 0])
            .u8(SOURCE_BUS)
            .u8(BUS_TYPE_CAN)
            .u8(0)
            .zeros(5)
            .finish(),
    );
    let time_name = a.text(b"TX", "time");
    let time_unit = a.text(b"TX", "s");
    // The time is an int64 count of ns (or µs) that a linear conversion makes
    // seconds: exact, and a steady rate compresses well once transposed.
    let ns_to_s = a.push(
        BlockBuilder::new(b"CC", &[0, 0, 0, 0])
            .u8(1)
            .u8(0)
            .u16(0)
            .u16(0)
            .u16(2)
            .f64(0.0)
            .f64(0.0)
            .f64(0.0)
            .f64(resolution.seconds_per_unit())
            .finish(),
    );

    let mut next_cg = 0;
    let mut cycle_counts = [0; 3];
    for (i, group) in FrameGroup::ALL.into_iter().enumerate().rev() {
        let mut next_member = 0;
        for &(field, byte) in group.members().iter().rev() {
            let name = a.text(b"TX", &format!("{}.{}", group.name(), field.name()));
            let data_type = if field == Field::DataBytes { 10 } else { 0 };
            next_member = a.push(channel(
                next_member,
                0,
                name,
                0,
                0,
                0,
                0,
                data_type,
                byte,
                field.bits(),
                CN_BUS_EVENT,
            ));
        }
        let name = a.text(b"TX", group.name());
        let payload_bits = (group.record_bytes() - TIME_BYTES) * 8;
        let composite = a.push(channel(
            0,
            next_member,
            name,
            source,
            0,
            0,
            0,
            10,
            TIME_BYTES,
            payload_bits,
            CN_BUS_EVENT,
        ));
        let mut time = channel(composite, 0, time_name, 0, time_unit, 2, 1, 2, 0, 64, 0);
        time[24 + 4 * 8..24 + 5 * 8].copy_from_slice(&ns_to_s.to_le_bytes());
        let time = a.push(time);
        let cg = a.push(
            BlockBuilder::new(b"CG", &[next_cg, time, acq_name, source, 0, 0])
                .u64(u64::from(group.record_id()))
                .u64(0)
                .u16(CG_BUS_EVENT)
                .u16(u16::from(b'.'))
                .zeros(4)
                .u32(group.record_bytes())
                .u32(0)
                .finish(),
        );
        cycle_counts[i] = cg + 24 + 6 * 8 + 8;
        next_cg = cg;
    }
    a.set_link(dg, 1, next_cg);
    let points = PatchPoints {
        dg_data_link: dg + 24 + 2 * 8,
        cycle_counts,
    };
    (a.bytes, points)
}

#[cfg(test)]
mod tests {
    use super::super::block::{BlockHeader, le_u64};
    use super::*;

    #[test]
    fn the_metadata_starts_unfinished_and_links_hd_to_the_data_group() {
        let (bytes, points) = metadata(1_700_000_000_000_000_000, TimeResolution::Ns, "0.0.0");
        assert_eq!(&bytes[..8], UNFINISHED_MAGIC);
        assert_eq!(&bytes[8..16], b"4.10    ");
        assert_eq!(u16::from_le_bytes([bytes[28], bytes[29]]), 410);
        assert_eq!(&bytes[64..68], b"##HD");
        assert_eq!(le_u64(&bytes, 64 + 24 + 48), 1_700_000_000_000_000_000);
        let dg = le_u64(&bytes, 64 + 24) as usize;
        assert_eq!(&bytes[dg..dg + 4], b"##DG");
        assert_eq!(points.dg_data_link as usize, dg + 24 + 16);
        assert_eq!(bytes[dg + 24 + 32], 1, "1-byte record ids");
        let mut cg = le_u64(&bytes, dg + 24 + 8) as usize;
        for (i, group) in FrameGroup::ALL.into_iter().enumerate() {
            let header = BlockHeader::parse(&bytes[cg..], cg as u64).unwrap();
            assert_eq!((header.id, header.length), (*b"CG", 104));
            assert_eq!(le_u64(&bytes, cg + 72), u64::from(group.record_id()));
            assert_eq!(points.cycle_counts[i] as usize, cg + 80);
            cg = le_u64(&bytes, cg + 24) as usize;
        }
        assert_eq!(cg, 0);
    }
}
