//! ASAM MDF 4.1 (`.mf4`) bus logs, as python-can's `MF4Writer`/`MF4Reader`
//! and asammdf write and read them: channel groups `CAN_DataFrame`,
//! `CAN_ErrorFrame` and `CAN_RemoteFrame` whose records hold a time from the
//! header's start time and a composite channel of the frame's
//! fields ([`layout`] tables the bytes).
//!
//! - [`block`]: the 24-byte header every block starts with, blocks as bytes
//! - [`meta`]: the ID block, `##HD`/`##FH`, and the `##DG`/`##CG`/`##CN`/`##SI`
//!   tree the writer puts before its data
//! - [`layout`]: the record layout of each frame group
//! - [`data_blocks`]: `##DT`, `##DZ` (deflate, transposed deflate), `##DL`, `##HL`
//! - [`writer`]: the streaming writer (one data group, records unsorted in
//!   arrival order, blocks listed as they go out, counts patched at close)
//! - [`file_access`], [`schema`], [`stream`], [`reader`]: the streaming reader
//!   (any file's group tree, linked or unfinished data, groups merged by time)
//!
//! Timestamps: the header's start time is the first frame's time cut to whole
//! microseconds (what asammdf's `datetime` keeps), and each record's time is
//! an int64 count of ns from it with a linear conversion to seconds (which
//! asammdf applies): exact, where python-can's float64 seconds are not.
//! [`TimeResolution::Us`] stores µs instead (rounded to the nearest, ties to
//! even), for files as small as python-can's on periodic traffic.
//! Files of other writers (float times, other linear conversions) read too.
//!
//! | error code            | when                                                   |
//! |-----------------------|--------------------------------------------------------|
//! | `ERR_CORRUPT_FILE`    | a block is not where a link points, or does not parse  |
//! | `ERR_TRUNCATED_FILE`  | a link or record points past the end of the file       |
//! | `ERR_UNSUPPORTED`     | MDF 3, a virtual or non-linear time channel            |
//! | `ERR_INVALID_ARGUMENT`| a channel over 255, a compression level other than 0-2, a time resolution other than ns or us |
//!
//! ```
//! use std::io::Cursor;
//! use canwire_core::Frame;
//! use canwire_core::mf4::{Mf4Reader, Mf4Writer, Mf4WriterOptions};
//!
//! let mut frame = Frame::classic(0x123, false, &[1, 2, 3]);
//! frame.timestamp_ns = 1_700_000_000_123_456_789;
//! let mut w = Mf4Writer::new(Cursor::new(Vec::new()), Mf4WriterOptions::default());
//! w.write_frame(&frame).unwrap();
//! w.finish().unwrap();
//! let bytes = w.into_inner().into_inner();
//! assert_eq!(&bytes[..8], b"MDF     ");
//! let back: Vec<Frame> = Mf4Reader::new(Cursor::new(bytes)).unwrap().map(Result::unwrap).collect();
//! assert_eq!(back, [frame]);
//! ```

pub mod block;
pub mod data_blocks;
pub mod file_access;
pub mod layout;
pub mod meta;
pub mod reader;
pub mod schema;
pub mod stream;
pub mod writer;

#[cfg(test)]
mod tests;

pub use layout::{FrameGroup, TimeResolution};
pub use reader::Mf4Reader;
pub use writer::{Mf4Compression, Mf4Writer, Mf4WriterOptions};
