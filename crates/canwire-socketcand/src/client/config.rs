//! What a socketcand client connects to and how it behaves.

use std::time::Duration;

use super::backoff::Backoff;
use crate::server::config::DEFAULT_PORT;

/// A socketcand client's options.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The server's host name or address.
    pub host: String,
    /// The server's port (socketcand: 29536).
    pub port: u16,
    /// The bus to open on the server (`< open CHANNEL >`).
    pub channel: String,
    /// Receive `fdframe` and send `sendfd` (socketcand's FD branch; canwire's server with `fd`).
    pub fd: bool,
    /// How long one connection attempt and its handshake may take.
    pub connect_timeout: Duration,
    /// Delays between reconnection attempts after the connection is lost.
    pub backoff: Backoff,
    /// Frames waiting to be written; a send finding it full waits for room
    /// (`Bus::send_or_wait`) or fails with `ERR_TX_BUFFER_FULL`.
    pub tx_queue_frames: usize,
    /// Run the bus's periodic tasks on the server (BCM `add`/`update`/`delete`
    /// on a second connection) instead of canwire's native scheduler.
    pub server_cyclic: bool,
    /// Filter on the server (`filtering: "server"`): the bus's exact-id
    /// filters become BCM `subscribe`s and watches BCM `subscribe`/`filter`
    /// jobs, so only what they pass crosses the network.
    pub server_filtering: bool,
}

impl ClientConfig {
    /// A configuration with the defaults for everything but where to connect.
    pub fn new(host: &str, port: u16, channel: &str) -> Self {
        Self {
            host: host.to_string(),
            port,
            channel: channel.to_string(),
            fd: false,
            connect_timeout: Duration::from_secs(5),
            backoff: Backoff::default(),
            tx_queue_frames: 4096,
            server_cyclic: false,
            server_filtering: false,
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self::new("127.0.0.1", DEFAULT_PORT, "vcan0")
    }
}
