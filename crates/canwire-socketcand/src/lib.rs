//! canwire on socketcand, both sides.
//!
//! socketcand (linux-can/socketcand) is the text protocol python-can,
//! SavvyCAN and Kayak speak to reach a CAN bus over TCP. This crate has
//! - [`protocol`]: the protocol as data (element reader, command parser,
//!   exact formatters), tested without sockets;
//! - [`server`]: serves canwire buses byte for byte as socketcand 0.6 does,
//!   with the safety bounds socketcand lacks;
//! - [`client`]: a [`canwire_bus::Transport`] speaking raw mode to any
//!   socketcand server, with reconnection.

pub mod beacon;
pub mod client;
pub mod protocol;
pub mod runtime;
pub mod server;
