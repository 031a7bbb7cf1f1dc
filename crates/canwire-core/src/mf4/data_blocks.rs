//! The blocks that carry record bytes: `##DT` (plain), `##DZ` (deflate, or
//! transposed then deflated), and the lists that chain them: `##DL` (a list
//! of data blocks with a link to the next list) and `##HL` (a header naming
//! the first DL).

use std::io::Write;

use flate2::Compression;
use flate2::write::{ZlibDecoder, ZlibEncoder};

use super::block::{BlockBuilder, BlockHeader, corrupt, le_u32, le_u64};
use crate::error::Result;

/// `dz_zip_type` 0: the data deflated as is.
pub const ZIP_DEFLATE: u8 = 0;
/// `dz_zip_type` 1: the data transposed (records as columns), then deflated.
pub const ZIP_TRANSPOSE_DEFLATE: u8 = 1;
/// The largest original length a DZ block may claim (the reader allocates it).
pub const MAX_BLOCK_BYTES: u64 = 256 << 20;

/// A `##DT` block holding `data`.
pub fn dt_block(data: &[u8]) -> Vec<u8> {
    BlockBuilder::new(b"DT", &[]).bytes(data).finish()
}

/// A `##DZ` block of `data` (originally a DT block), deflated at `level`;
/// with `columns` (the record size) the bytes are transposed first.
pub fn dz_block(data: &[u8], level: u32, columns: Option<u32>) -> Vec<u8> {
    let (zip_type, parameter, input) = match columns {
        Some(c) if c > 1 && data.len() >= 2 * c as usize => {
            (ZIP_TRANSPOSE_DEFLATE, c, transpose(data, c as usize))
        }
        _ => (ZIP_DEFLATE, 0, data.to_vec()),
    };
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::new(level));
    encoder.write_all(&input).expect("writing to a Vec");
    let zipped = encoder.finish().expect("writing to a Vec");
    BlockBuilder::new(b"DZ", &[])
        .bytes(b"DT")
        .u8(zip_type)
        .u8(0)
        .u32(parameter)
        .u64(data.len() as u64)
        .u64(zipped.len() as u64)
        .bytes(&zipped)
        .finish()
}

/// Rows of `columns` bytes turned into columns: byte `c` of row `r` goes to
/// `c * rows + r`; the bytes after the last whole row stay at the end.
pub fn transpose(data: &[u8], columns: usize) -> Vec<u8> {
    let rows = data.len() / columns;
    let whole = rows * columns;
    let mut out = vec![0; data.len()];
    for (r, row) in data[..whole].chunks_exact(columns).enumerate() {
        for (c, &b) in row.iter().enumerate() {
            out[c * rows + r] = b;
        }
    }
    out[whole..].copy_from_slice(&data[whole..]);
    out
}

/// The inverse of [`transpose`].
pub fn untranspose(data: &[u8], columns: usize) -> Vec<u8> {
    let rows = data.len() / columns;
    let whole = rows * columns;
    let mut out = vec![0; data.len()];
    for (r, row) in out[..whole].chunks_exact_mut(columns).enumerate() {
        for (c, b) in row.iter_mut().enumerate() {
            *b = data[c * rows + r];
        }
    }
    out[whole..].copy_from_slice(&data[whole..]);
    out
}

/// The record bytes of a DZ block's data section (`data` after the header
/// and links); `offset` is the block's, for errors.
pub fn inflate_dz(data: &[u8], offset: u64) -> Result<Vec<u8>> {
    if data.len() < 24 {
        return Err(corrupt(offset, "the ##DZ block is shorter than its fields"));
    }
    let zip_type = data[2];
    let parameter = le_u32(data, 4) as usize;
    let original = le_u64(data, 8);
    let zipped_len = le_u64(data, 16);
    if original > MAX_BLOCK_BYTES {
        return Err(corrupt(
            offset,
            &format!("the ##DZ block claims {original} bytes; at most {MAX_BLOCK_BYTES} are read"),
        ));
    }
    let zipped = data
        .get(24..24usize.saturating_add(zipped_len as usize))
        .ok_or_else(|| {
            corrupt(
                offset,
                &format!("the ##DZ block's {zipped_len} compressed bytes overrun the block"),
            )
        })?;
    let mut decoder = ZlibDecoder::new(Vec::with_capacity(original as usize));
    let inflated = decoder
        .write_all(zipped)
        .and_then(|()| decoder.finish())
        .map_err(|e| corrupt(offset, &format!("the ##DZ block does not inflate: {e}")))?;
    if inflated.len() as u64 != original {
        return Err(corrupt(
            offset,
            &format!(
                "the ##DZ block inflates to {} bytes, its header says {original}",
                inflated.len()
            ),
        ));
    }
    match zip_type {
        ZIP_DEFLATE => Ok(inflated),
        ZIP_TRANSPOSE_DEFLATE if parameter > 0 => Ok(untranspose(&inflated, parameter)),
        _ => Err(corrupt(
            offset,
            &format!(
                "the ##DZ block's zip type {zip_type} (parameter {parameter}) is unknown: 0 deflate and 1 transposition + deflate are defined"
            ),
        )),
    }
}

/// A `##DL` block listing `blocks` (file offsets), whose data starts at the
/// given offsets of the whole data stream, with `next` the following list.
pub fn dl_block(next: u64, blocks: &[u64], data_offsets: &[u64]) -> Vec<u8> {
    let mut links = Vec::with_capacity(blocks.len() + 1);
    links.push(next);
    links.extend_from_slice(blocks);
    let mut b = BlockBuilder::new(b"DL", &links)
        .u8(0)
        .zeros(3)
        .u32(blocks.len() as u32);
    for &o in data_offsets {
        b = b.u64(o);
    }
    b.finish()
}

/// A parsed `##DL` block: the next list and the data blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataList {
    /// The following DL block, 0 for none.
    pub next: u64,
    /// The data blocks, in stream order.
    pub blocks: Vec<u64>,
}

/// Parses a DL block from its header and its bytes after the header.
pub fn parse_dl(header: &BlockHeader, body: &[u8], offset: u64) -> Result<DataList> {
    let links = header.link_count as usize;
    if links == 0 {
        return Err(corrupt(offset, "the ##DL block has no link to a next list"));
    }
    let count_at = links * 8 + 4;
    let count = body
        .get(count_at..count_at + 4)
        .map(|b| le_u32(b, 0) as usize)
        .ok_or_else(|| corrupt(offset, "the ##DL block is shorter than its fields"))?;
    if count + 1 > links {
        return Err(corrupt(
            offset,
            &format!(
                "the ##DL block counts {count} data blocks but has {} links",
                links - 1
            ),
        ));
    }
    Ok(DataList {
        next: le_u64(body, 0),
        blocks: (1..=count).map(|i| le_u64(body, i * 8)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::block::HEADER_LEN;
    use super::*;

    #[test]
    fn transposition_puts_each_record_byte_in_its_column() {
        let data = [1, 2, 3, 11, 12, 13, 21, 22, 23, 99];
        let t = transpose(&data, 3);
        assert_eq!(t, [1, 11, 21, 2, 12, 22, 3, 13, 23, 99]);
        assert_eq!(untranspose(&t, 3), data);
    }

    #[test]
    fn a_dz_block_inflates_to_its_data_with_both_zip_types() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 7) as u8).collect();
        for columns in [None, Some(10)] {
            let block = dz_block(&data, 6, columns);
            let header = BlockHeader::parse(&block, 0).unwrap();
            assert_eq!(&block[..4], b"##DZ");
            assert_eq!(&block[24..26], b"DT");
            assert_eq!(block[26], u8::from(columns.is_some()));
            assert_eq!(header.length.div_ceil(8) as usize * 8, block.len());
            assert!(block.len() < 200, "{}", block.len());
            assert_eq!(inflate_dz(&block[HEADER_LEN..], 0).unwrap(), data);
        }
    }

    #[test]
    fn a_damaged_dz_block_is_a_corrupt_file_error() {
        let data = vec![7u8; 500];
        let mut block = dz_block(&data, 6, None);
        block[48..50].fill(0xFF);
        let err = inflate_dz(&block[HEADER_LEN..], 1234).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::CorruptFile);
        assert!(
            err.message.contains("1234") && err.message.contains("DZ"),
            "{err}"
        );
    }

    #[test]
    fn a_dl_block_lists_its_blocks_and_the_next_list() {
        let block = dl_block(4096, &[100, 200, 300], &[0, 50, 90]);
        assert_eq!(block.len(), 24 + 4 * 8 + 8 + 3 * 8);
        let header = BlockHeader::parse(&block, 0).unwrap();
        let list = parse_dl(&header, &block[HEADER_LEN..], 0).unwrap();
        assert_eq!(
            list,
            DataList {
                next: 4096,
                blocks: vec![100, 200, 300]
            }
        );
    }
}
