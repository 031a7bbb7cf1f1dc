//! The socketcand protocol as data: elements in, commands and replies out,
//! no sockets.
//!
//! - [`element_reader`]: cuts a byte stream into `< … >` elements (bounded).
//! - [`tokens`]: the fields of an element (ids in either convention, bytes, timestamps).
//! - [`command`]: what a client asks ([`command::parse_command`]).
//! - [`server_element`]: what a server sends, as canwire's client reads it.
//! - [`format`]: the exact bytes a server and a client write.

pub mod command;
pub mod element_reader;
pub mod format;
pub mod server_element;
pub mod tokens;

pub use command::{BusChange, CanId, Command, Malformed, Mode, parse_command};
pub use element_reader::{ElementReader, MAX_ELEMENT_LEN, ReadElement};
pub use server_element::{ServerElement, parse_server_element};
