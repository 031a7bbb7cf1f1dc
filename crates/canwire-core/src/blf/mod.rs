//! Vector BLF (binary logging format): a streaming reader and a writer.
//!
//! - [`header`]: the 144-byte file header and SYSTEMTIME
//! - [`object`]: object headers (LOBJ v1/v2) and object type numbers
//! - [`container`]: LOG_CONTAINER blocks and their zlib compression
//! - [`can_objects`]: CAN object payloads to and from [`Frame`](crate::Frame)
//! - [`item`]: what the reader returns: items, error details, metadata, counters
//! - [`reader`]: [`BlfReader`], streaming over any `Read`
//! - [`writer`]: [`BlfWriter`], over `Write + Seek`, with append
//!
//! Timestamps: a frame's `timestamp_ns` is the file's start time (a UTC
//! SYSTEMTIME, millisecond precision) plus the object's timestamp (10 µs or 1 ns
//! units). The writer stores 1 ns object timestamps, so nanoseconds survive a
//! round trip.

mod append;
mod bytes;
pub mod can_objects;
pub mod container;
mod events;
pub mod header;
pub mod item;
pub mod object;
pub mod reader;
mod stream;
pub mod writer;

pub use container::{DEFAULT_MAX_CONTAINER_SIZE, EncodedContainer, encode_container};
pub use header::{FileHeader, SystemTime};
pub use item::{
    AppText, BlfItem, BlfReadStats, CanErrorDetails, Damage, GlobalMarker, MAX_RECORDED_DAMAGE,
    Truncation,
};
pub use reader::BlfReader;
pub use writer::{BlfWriter, BlfWriterOptions, DEFAULT_COMPRESSION_LEVEL};

#[cfg(test)]
mod tests;
