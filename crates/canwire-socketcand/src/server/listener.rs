//! [`SocketcandServer`]: binds, accepts within the allowlist and client
//! bound, and runs one [`connection`](super::connection) task per client.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use canwire_bus::Bus;
use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::config::{Listen, ServerConfig};
use super::connection::{ConnectionLimits, serve};
use super::counters::{ServerCounters, ServerStats};
use super::hub::BusHub;
use super::session::Session;
use crate::protocol::command::MAX_BUS_NAME_LEN;

/// Where a server listens, once bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalAddress {
    /// A TCP address (the port chosen if 0 was asked).
    Tcp(SocketAddr),
    /// A Unix socket path.
    Unix(PathBuf),
}

/// The reply before closing a connection over the client bound.
const TOO_MANY_CLIENTS: &[u8] = b"< error too many clients >";

struct Shared {
    config: Arc<ServerConfig>,
    counters: Arc<ServerCounters>,
    hubs: Arc<HashMap<String, Arc<BusHub>>>,
    clients: AtomicU64,
    shutdown: watch::Receiver<bool>,
}

/// A running server; [`SocketcandServer::close`] (or dropping it) stops it.
pub struct SocketcandServer {
    shared: Arc<Shared>,
    address: LocalAddress,
    warnings: Vec<String>,
    stop: watch::Sender<bool>,
    accept: Mutex<Option<JoinHandle<()>>>,
}

fn os_error(what: &str, e: &std::io::Error) -> CanwireError {
    CanwireError::new(ErrorCode::Os, format!("{what}: {e}"))
}

fn check_bus_names(buses: &[(String, Arc<Bus>)]) -> Result<()> {
    if buses.is_empty() {
        return Err(CanwireError::invalid_argument(
            "a socketcand server needs at least one bus to export",
        ));
    }
    for (i, (name, _)) in buses.iter().enumerate() {
        if name.is_empty()
            || name.len() > MAX_BUS_NAME_LEN
            || !name
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
        {
            return Err(CanwireError::invalid_argument(format!(
                "bus name '{name}' cannot be exported: a socketcand bus name is 1..{MAX_BUS_NAME_LEN} printable characters without spaces, '<' or '>'"
            )));
        }
        if buses[..i].iter().any(|(other, _)| other == name) {
            return Err(CanwireError::invalid_argument(format!(
                "bus name '{name}' is exported twice"
            )));
        }
    }
    Ok(())
}

impl SocketcandServer {
    /// Binds and starts serving `buses` (name → bus: the only buses a client may open).
    pub fn start(config: ServerConfig, buses: Vec<(String, Arc<Bus>)>) -> Result<Self> {
        let warnings = config.validate()?;
        check_bus_names(&buses)?;
        let mut hubs = HashMap::new();
        for (name, bus) in buses {
            hubs.insert(name.clone(), BusHub::start(&name, bus, config.fd)?);
        }
        let (stop, shutdown) = watch::channel(false);
        let shared = Arc::new(Shared {
            config: Arc::new(config),
            counters: Arc::default(),
            hubs: Arc::new(hubs),
            clients: AtomicU64::new(0),
            shutdown,
        });
        let _entered = crate::runtime::handle().enter();
        let (address, accept) = match &shared.config.listen {
            Listen::Tcp(addr) => {
                let std_listener = std::net::TcpListener::bind(addr).map_err(|e| {
                    os_error(
                        &format!("binding the socketcand server to {addr} failed"),
                        &e,
                    )
                })?;
                std_listener
                    .set_nonblocking(true)
                    .map_err(|e| os_error("the listening socket", &e))?;
                let local = std_listener
                    .local_addr()
                    .map_err(|e| os_error("the listening socket", &e))?;
                let listener = tokio::net::TcpListener::from_std(std_listener)
                    .map_err(|e| os_error("the listening socket", &e))?;
                (
                    LocalAddress::Tcp(local),
                    crate::runtime::handle().spawn(accept_tcp(listener, shared.clone())),
                )
            }
            Listen::Unix(path) => unix::bind(path, shared.clone())?,
        };
        let server = Self {
            shared,
            address,
            warnings,
            stop,
            accept: Mutex::new(Some(accept)),
        };
        // on failure the server is dropped, which closes it
        server.start_beacon()?;
        Ok(server)
    }

    /// Broadcasts the beacon, when configured, advertising the bound address only.
    fn start_beacon(&self) -> Result<()> {
        let shared = &self.shared;
        let address = &self.address;
        if shared.config.beacon {
            let LocalAddress::Tcp(bound) = &address else {
                return Err(CanwireError::invalid_argument(
                    "the beacon advertises a TCP address; it cannot advertise a Unix socket",
                ));
            };
            let destination = crate::beacon::beacon_destination(*bound)?;
            let mut names: Vec<String> = shared.hubs.keys().cloned().collect();
            names.sort();
            let text = crate::beacon::beacon_text(&crate::beacon::host_name(), *bound, &names);
            crate::runtime::handle().spawn(crate::beacon::broadcast(
                text,
                destination,
                shared.shutdown.clone(),
            ));
        }
        Ok(())
    }

    /// Where the server listens.
    pub fn local_address(&self) -> &LocalAddress {
        &self.address
    }

    /// What the configuration deserves a warning for (listening beyond loopback).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        self.shared.counters.snapshot(
            self.shared.clients.load(Relaxed),
            self.shared.hubs.values().map(|h| h.dropped_frames()).sum(),
        )
    }

    /// Stops accepting, closes every connection (their cyclic jobs end with
    /// them) and detaches from the buses, which stay open. Idempotent.
    pub fn close(&self) {
        let _ = self.stop.send(true);
        if let Some(accept) = canwire_bus::sync_util::lock(&self.accept).take() {
            accept.abort();
            if let LocalAddress::Unix(path) = &self.address {
                let _ = std::fs::remove_file(path);
            }
        }
        for hub in self.shared.hubs.values() {
            hub.close();
        }
    }
}

impl Drop for SocketcandServer {
    fn drop(&mut self) {
        self.close();
    }
}

fn spawn_connection<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    mut stream: S,
    shared: &Arc<Shared>,
) {
    let config = &shared.config;
    if shared.clients.load(Relaxed) >= config.max_clients as u64 {
        ServerCounters::bump(&shared.counters.refused);
        tokio::spawn(async move {
            let _ = stream.write_all(TOO_MANY_CLIENTS).await;
            let _ = stream.shutdown().await;
        });
        return;
    }
    shared.clients.fetch_add(1, Relaxed);
    ServerCounters::bump(&shared.counters.connections);
    let shared = shared.clone();
    tokio::spawn(async move {
        let session = Session::new(
            shared.config.clone(),
            shared.counters.clone(),
            shared.hubs.clone(),
        );
        let limits = ConnectionLimits {
            handshake_timeout: shared.config.handshake_timeout,
            idle_timeout: shared.config.idle_timeout,
        };
        serve(
            stream,
            session,
            limits,
            shared.counters.clone(),
            shared.shutdown.clone(),
        )
        .await;
        shared.clients.fetch_sub(1, Relaxed);
    });
}

async fn accept_tcp(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let allowed = &shared.config.allowed_clients;
        if !allowed.is_empty() && !allowed.iter().any(|r| r.contains(peer.ip())) {
            ServerCounters::bump(&shared.counters.refused);
            continue;
        }
        let _ = stream.set_nodelay(true);
        spawn_connection(stream, &shared);
    }
}

#[cfg(unix)]
mod unix {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Binds a Unix socket readable and writable by its owner only.
    pub(super) fn bind(
        path: &std::path::Path,
        shared: Arc<Shared>,
    ) -> Result<(LocalAddress, JoinHandle<()>)> {
        if path.exists() {
            return Err(CanwireError::invalid_argument(format!(
                "{} exists already: remove it or choose another path for the socketcand server's Unix socket",
                path.display()
            )));
        }
        let listener = tokio::net::UnixListener::bind(path).map_err(|e| {
            os_error(
                &format!("binding the socketcand server to {} failed", path.display()),
                &e,
            )
        })?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
            os_error(
                &format!("restricting {} to its owner failed", path.display()),
                &e,
            )
        })?;
        let accept = crate::runtime::handle().spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => spawn_connection(stream, &shared),
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                }
            }
        });
        Ok((LocalAddress::Unix(path.to_path_buf()), accept))
    }
}

#[cfg(not(unix))]
mod unix {
    use super::*;

    pub(super) fn bind(
        _path: &std::path::Path,
        _shared: Arc<Shared>,
    ) -> Result<(LocalAddress, JoinHandle<()>)> {
        Err(CanwireError::new(
            ErrorCode::Unsupported,
            "Unix sockets are not available on this platform; listen on TCP",
        ))
    }
}
