//! How a server listens and what it allows, with its limits in one place.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A TCP address (port 0: any free port).
    Tcp(SocketAddr),
    /// A Unix socket path, created 0600 and removed on close.
    Unix(PathBuf),
}

impl Default for Listen {
    /// 127.0.0.1 on a free port.
    fn default() -> Self {
        Listen::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }
}

/// A PEM certificate chain and its private key (server TLS, no client certificates).
#[derive(Clone)]
pub struct TlsPem {
    /// The certificate chain, PEM.
    pub cert: Vec<u8>,
    /// The private key, PEM.
    pub key: Vec<u8>,
}

/// Bounds on what clients may make the server hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Periodic tasks, all exports together.
    pub periodic_tasks: usize,
    /// Largest request message the server decodes, in bytes.
    pub max_message_bytes: usize,
    /// Concurrent RPCs on one connection.
    pub streams_per_connection: u32,
    /// `canwire_recv_stream` streams open at once, all clients together.
    pub receive_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            periodic_tasks: 256,
            max_message_bytes: 4 * 1024 * 1024,
            streams_per_connection: 64,
            receive_streams: 32,
        }
    }
}

/// Called with the peer address of each new connection.
pub type ConnectionHook = Arc<dyn Fn(&str) + Send + Sync>;

/// Options of [`super::ExporterServer::start`].
#[derive(Clone, Default)]
pub struct ServerOptions {
    /// Where to listen (default 127.0.0.1, a free port).
    pub listen: Listen,
    /// A passphrase every RPC must carry.
    pub passphrase: Option<String>,
    /// Serve TLS with this certificate.
    pub tls: Option<TlsPem>,
    /// Refuse sends, periodic tasks, state changes, flush and shutdown.
    pub read_only: bool,
    /// Bounds.
    pub limits: Limits,
    /// Told about each new connection.
    pub on_connect: Option<ConnectionHook>,
}

impl ServerOptions {
    /// The warnings these options deserve: listening beyond loopback with
    /// neither TLS nor a passphrase.
    pub fn warnings(&self) -> Vec<String> {
        match &self.listen {
            Listen::Tcp(addr) if !addr.ip().is_loopback() => {
                let mut warnings = Vec::new();
                if self.tls.is_none() && self.passphrase.is_none() {
                    warnings.push(format!(
                        "listening on {addr} with neither TLS nor a passphrase: anyone who reaches this address can drive the exported buses"
                    ));
                } else if self.tls.is_none() {
                    warnings.push(format!(
                        "listening on {addr} without TLS: the passphrase and all traffic cross the network in clear"
                    ));
                }
                warnings
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_open_non_loopback_address_warns() {
        let mut options = ServerOptions::default();
        assert!(options.warnings().is_empty());
        options.listen = Listen::Tcp("0.0.0.0:1234".parse().unwrap());
        assert_eq!(options.warnings().len(), 1);
        assert!(options.warnings()[0].contains("neither TLS nor a passphrase"));
        options.listen = Listen::Tcp("[::1]:1234".parse().unwrap());
        assert!(options.warnings().is_empty());
        options.listen = Listen::Unix("/tmp/x".into());
        assert!(options.warnings().is_empty());
    }
}
