//! Everything a server is configured with, visible in one screen, with the
//! safe defaults of the security baseline: loopback only, no beacon,
//! bounded everything.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use canwire_core::CanwireError;
use canwire_core::error::Result;

/// socketcand's port.
pub const DEFAULT_PORT: u16 = 29536;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A TCP address (default `127.0.0.1:29536`).
    Tcp(SocketAddr),
    /// A Unix socket at this path, created with mode 0600.
    Unix(PathBuf),
}

impl Default for Listen {
    fn default() -> Self {
        Listen::Tcp(SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)))
    }
}

/// A client address range: `192.168.1.0/24`, `::1/128`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRange {
    /// The network address.
    pub address: IpAddr,
    /// The prefix length.
    pub prefix: u8,
}

impl AddressRange {
    /// Reads `ADDRESS[/PREFIX]`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            CanwireError::invalid_argument(format!(
                "'{text}' is not a client address range: expected an IPv4 or IPv6 address, optionally with /PREFIX (e.g. 192.168.1.0/24)"
            ))
        };
        let (address, prefix) = text.split_once('/').unwrap_or((text, ""));
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = if prefix.is_empty() {
            max
        } else {
            prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(bad)?
        };
        Ok(Self { address, prefix })
    }

    /// True when `ip` lies in the range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// How a server behaves and what bounds it keeps.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen.
    pub listen: Listen,
    /// Clients allowed to connect over TCP; empty = any. Unix clients are
    /// governed by the socket file's permissions.
    pub allowed_clients: Vec<AddressRange>,
    /// Connections served at once; more are refused.
    pub max_clients: usize,
    /// Refuse every command that transmits (`send`, `sendfd`, `add`,
    /// `update`, `sendpdu`) with `< error … >`; receiving stays allowed.
    pub read_only: bool,
    /// Deliver error frames in raw mode as `< error CLASS SEC.USEC >` (socketcand's `-e`).
    pub error_frames: bool,
    /// CAN FD in raw mode with the `fdframe`/`sendfd` syntax of socketcand's FD branch.
    pub fd: bool,
    /// Frames queued per client before the newest are dropped and counted.
    pub output_queue_frames: usize,
    /// Time from connect to a successful `< open … >`.
    pub handshake_timeout: Duration,
    /// Close a connection that sent no element for this long (off by default:
    /// a python-can client that only receives never sends one).
    pub idle_timeout: Option<Duration>,
    /// Cyclic jobs plus subscriptions and filters per client.
    pub max_jobs: usize,
    /// Broadcast the discovery beacon (UDP 42000, every 3 s).
    pub beacon: bool,
    /// Apply `< BUS B … >` / `< BUS C … >` to a SocketCAN bus's controller
    /// (needs CAP_NET_ADMIN); refused when off (the default) and on a read-only server.
    pub allow_reconfigure: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: Listen::default(),
            allowed_clients: Vec::new(),
            max_clients: 32,
            read_only: false,
            error_frames: false,
            fd: false,
            output_queue_frames: 4096,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: None,
            max_jobs: 256,
            beacon: false,
            allow_reconfigure: false,
        }
    }
}

impl ServerConfig {
    /// Checks the bounds; returns the warnings the configuration deserves.
    pub fn validate(&self) -> Result<Vec<String>> {
        if self.max_clients == 0 || self.output_queue_frames == 0 || self.max_jobs == 0 {
            return Err(CanwireError::invalid_argument(
                "maxClients, outputQueueFrames and maxJobs must be at least 1",
            ));
        }
        let mut warnings = Vec::new();
        if let Listen::Tcp(addr) = &self.listen
            && !addr.ip().is_loopback()
        {
            warnings.push(format!(
                "socketcand server listening on {addr}, beyond loopback: the socketcand protocol has no authentication and no encryption; anyone who reaches this address can read and write the exported buses (restrict clients with an allowlist, or tunnel over SSH)"
            ));
        }
        Ok(warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_ranges() {
        let lan = AddressRange::parse("192.168.1.0/24").unwrap();
        assert!(lan.contains("192.168.1.77".parse().unwrap()));
        assert!(!lan.contains("192.168.2.1".parse().unwrap()));
        assert!(lan.contains("::ffff:192.168.1.5".parse().unwrap()));
        let one = AddressRange::parse("127.0.0.1").unwrap();
        assert_eq!(one.prefix, 32);
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        assert!(
            AddressRange::parse("::1/128")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
        assert!(
            AddressRange::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert_eq!(
            AddressRange::parse("10.0.0.0/33").unwrap_err().code,
            canwire_core::ErrorCode::InvalidArgument
        );
        assert!(AddressRange::parse("host").is_err());
    }

    #[test]
    fn only_non_loopback_warns() {
        assert!(ServerConfig::default().validate().unwrap().is_empty());
        let lan = ServerConfig {
            listen: Listen::Tcp("0.0.0.0:29536".parse().unwrap()),
            ..ServerConfig::default()
        };
        assert!(lan.validate().unwrap()[0].contains("beyond loopback"));
    }
}
