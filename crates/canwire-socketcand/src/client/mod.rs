//! canwire's socketcand client: a [`canwire_bus::Transport`] speaking raw
//! mode to socketcand or `canwire serve --socketcand`, so every bus feature
//! (readers, filters, native cyclic sends, ISO-TP, logging) runs on a
//! remote bus.
//!
//! - [`config`]: where to connect and the bounds.
//! - [`transport`]: the transport (bounded send queue, state, gap counters).
//! - [`link`]: the connection task (handshake, frames both ways, reconnection).
//! - [`backoff`]: the reconnection delays.
//! - [`server_cyclic`]: periodic tasks run by the server (`scheduler: "server"`, BCM mode).
//! - [`server_filters`]: exact-id filters as BCM subscriptions (`filtering: "server"`).
//! - [`server_watch`]: watches as BCM `subscribe`/`filter` jobs (`filtering: "server"`).
//!
//! The server's elements are read leniently (any whitespace, glued
//! elements, ids in either convention, data as one hex string or byte by
//! byte, `< error … >` as error frames or refusals).

pub mod backoff;
pub mod config;
pub mod link;
pub mod server_cyclic;
pub mod server_filters;
pub mod server_watch;
pub mod transport;

pub use backoff::Backoff;
pub use config::ClientConfig;
pub use transport::SocketcandTransport;

use std::sync::Arc;

use canwire_bus::{Bus, ReaderSet};
use canwire_core::error::Result;

/// Opens a canwire [`Bus`] on a socketcand server.
pub fn open_bus(config: ClientConfig) -> Result<Bus> {
    let readers = Arc::new(ReaderSet::new(config.fd));
    let transport = SocketcandTransport::connect(config, readers.clone())?;
    Ok(Bus::with_transport(readers, Box::new(transport)))
}
