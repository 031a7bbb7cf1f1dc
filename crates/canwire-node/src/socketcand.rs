//! socketcand for JS: `Bus.open({ interface: "socketcand" })` (the client
//! transport) and `serveSocketcand` (the server), over `canwire-socketcand`.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use canwire_core::{CanwireError, ErrorCode};
use canwire_socketcand::client::{ClientConfig, open_bus};
use canwire_socketcand::server::{
    AddressRange, Listen, LocalAddress, ServerConfig, SocketcandServer,
};
use napi_derive::napi;

use crate::bus::NativeBus;
use crate::convert::optional_integer;
use crate::error::{IntoNapi, to_napi};

/// Options of `openSocketcand`; the facade documents and defaults them.
#[napi(object)]
pub struct NativeSocketcandOptions {
    pub host: String,
    pub port: f64,
    pub channel: String,
    pub fd: Option<bool>,
    pub connect_timeout_ms: Option<f64>,
    pub tx_queue_size: Option<f64>,
    pub server_cyclic: Option<bool>,
    pub server_filtering: Option<bool>,
}

fn millis(name: &str, value: Option<f64>, max: u32) -> napi::Result<Option<Duration>> {
    Ok(optional_integer(name, value, 1..=max)
        .into_napi()?
        .map(|ms| Duration::from_millis(u64::from(ms))))
}

fn client_config(options: NativeSocketcandOptions) -> napi::Result<ClientConfig> {
    let port = optional_integer("port", Some(options.port), 1..=u32::from(u16::MAX))
        .into_napi()?
        .unwrap_or(29536) as u16;
    let mut config = ClientConfig::new(&options.host, port, &options.channel);
    config.fd = options.fd.unwrap_or(false);
    config.server_cyclic = options.server_cyclic.unwrap_or(false);
    config.server_filtering = options.server_filtering.unwrap_or(false);
    if let Some(t) = millis("connectTimeoutMs", options.connect_timeout_ms, 600_000)? {
        config.connect_timeout = t;
    }
    if let Some(n) =
        optional_integer("txQueueSize", options.tx_queue_size, 1u32..=1_048_576).into_napi()?
    {
        config.tx_queue_frames = n as usize;
    }
    Ok(config)
}

/// Connects to a socketcand server (on a worker thread: the event loop never
/// waits for the network) and opens a bus on it.
#[napi]
pub async fn open_socketcand(options: NativeSocketcandOptions) -> napi::Result<NativeBus> {
    let config = client_config(options)?;
    let bus = tokio::task::spawn_blocking(move || open_bus(config))
        .await
        .map_err(|e| {
            to_napi(CanwireError::new(
                ErrorCode::Internal,
                format!("the socketcand connect worker failed: {e}"),
            ))
        })?
        .into_napi()?;
    Ok(NativeBus::from_shared(Arc::new(bus)))
}

/// Options of a socketcand server; the facade documents and defaults them.
#[napi(object)]
pub struct NativeSocketcandServerOptions {
    pub host: Option<String>,
    pub port: Option<f64>,
    pub unix_path: Option<String>,
    pub allowed_clients: Option<Vec<String>>,
    pub max_clients: Option<f64>,
    pub read_only: Option<bool>,
    pub allow_reconfigure: Option<bool>,
    pub error_frames: Option<bool>,
    pub fd: Option<bool>,
    pub output_queue_size: Option<f64>,
    pub handshake_timeout_ms: Option<f64>,
    pub idle_timeout_ms: Option<f64>,
    pub max_jobs: Option<f64>,
    pub beacon: Option<bool>,
}

fn server_config(o: NativeSocketcandServerOptions) -> napi::Result<ServerConfig> {
    let mut config = ServerConfig::default();
    if let Some(path) = o.unix_path {
        config.listen = Listen::Unix(PathBuf::from(path));
    } else {
        let host = o.host.as_deref().unwrap_or("127.0.0.1");
        let ip: IpAddr = host.parse().map_err(|_| {
            to_napi(CanwireError::invalid_argument(format!(
                "host must be an IPv4 or IPv6 address to listen on (e.g. 127.0.0.1), got '{host}'"
            )))
        })?;
        let port = optional_integer("port", o.port, 0..=u32::from(u16::MAX))
            .into_napi()?
            .unwrap_or(29536) as u16;
        config.listen = Listen::Tcp(SocketAddr::new(ip, port));
    }
    config.allowed_clients = o
        .allowed_clients
        .unwrap_or_default()
        .iter()
        .map(|r| AddressRange::parse(r))
        .collect::<Result<_, _>>()
        .into_napi()?;
    if let Some(n) = optional_integer("maxClients", o.max_clients, 1u32..=65_536).into_napi()? {
        config.max_clients = n as usize;
    }
    config.read_only = o.read_only.unwrap_or(false);
    config.allow_reconfigure = o.allow_reconfigure.unwrap_or(false);
    config.error_frames = o.error_frames.unwrap_or(false);
    config.fd = o.fd.unwrap_or(false);
    if let Some(n) =
        optional_integer("outputQueueSize", o.output_queue_size, 1u32..=1_048_576).into_napi()?
    {
        config.output_queue_frames = n as usize;
    }
    if let Some(t) = millis("handshakeTimeoutMs", o.handshake_timeout_ms, 3_600_000)? {
        config.handshake_timeout = t;
    }
    config.idle_timeout = millis("idleTimeoutMs", o.idle_timeout_ms, 86_400_000)?;
    if let Some(n) = optional_integer("maxJobs", o.max_jobs, 1u32..=65_536).into_napi()? {
        config.max_jobs = n as usize;
    }
    config.beacon = o.beacon.unwrap_or(false);
    Ok(config)
}

/// A bus a socketcand beacon advertised.
#[napi(object)]
pub struct NativeAdvertisedBus {
    pub host: String,
    pub port: u32,
    pub channel: String,
    pub server_name: String,
}

/// Listens for socketcand beacons (UDP 42000) for `timeoutMs`, on a worker thread.
#[napi]
pub async fn detect_socketcand(timeout_ms: f64) -> napi::Result<Vec<NativeAdvertisedBus>> {
    let timeout =
        millis("timeoutMs", Some(timeout_ms), 600_000)?.unwrap_or(Duration::from_millis(3100));
    let found = tokio::task::spawn_blocking(move || canwire_socketcand::beacon::detect(timeout))
        .await
        .map_err(|e| {
            to_napi(CanwireError::new(
                ErrorCode::Internal,
                format!("the beacon listener failed: {e}"),
            ))
        })?
        .into_napi()?;
    Ok(found
        .into_iter()
        .map(|b| NativeAdvertisedBus {
            host: b.host,
            port: u32::from(b.port),
            channel: b.channel,
            server_name: b.server_name,
        })
        .collect())
}

/// Where a server listens.
#[napi(object)]
pub struct NativeSocketcandAddress {
    pub host: Option<String>,
    pub port: Option<u32>,
    pub path: Option<String>,
}

/// Counters of a server.
#[napi(object)]
pub struct NativeSocketcandServerStats {
    pub clients: i64,
    pub connections: i64,
    pub refused: i64,
    pub timed_out: i64,
    pub malformed: i64,
    pub oversize: i64,
    pub unknown: i64,
    pub refused_commands: i64,
    pub send_errors: i64,
    pub dropped_frames: i64,
    pub skipped_frames: i64,
}

/// The buses a server will export, gathered before it starts.
#[napi]
#[derive(Default)]
pub struct NativeSocketcandExports {
    buses: Vec<(String, Arc<canwire_bus::Bus>)>,
}

#[napi]
impl NativeSocketcandExports {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Exports `bus` under `name` (what clients `< open >`).
    #[napi(catch_unwind)]
    pub fn add(&mut self, name: String, bus: &NativeBus) {
        self.buses.push((name, bus.shared()));
    }

    /// Binds and starts serving the buses added.
    #[napi(catch_unwind)]
    pub fn start(
        &mut self,
        options: NativeSocketcandServerOptions,
    ) -> napi::Result<NativeSocketcandServer> {
        let config = server_config(options)?;
        let server =
            SocketcandServer::start(config, std::mem::take(&mut self.buses)).into_napi()?;
        Ok(NativeSocketcandServer { server })
    }
}

/// A running socketcand server.
#[napi]
pub struct NativeSocketcandServer {
    server: SocketcandServer,
}

#[napi]
impl NativeSocketcandServer {
    /// Where it listens.
    #[napi(catch_unwind)]
    pub fn address(&self) -> NativeSocketcandAddress {
        match self.server.local_address() {
            LocalAddress::Tcp(addr) => NativeSocketcandAddress {
                host: Some(addr.ip().to_string()),
                port: Some(u32::from(addr.port())),
                path: None,
            },
            LocalAddress::Unix(path) => NativeSocketcandAddress {
                host: None,
                port: None,
                path: Some(path.display().to_string()),
            },
        }
    }

    /// Warnings the configuration deserves.
    #[napi(catch_unwind)]
    pub fn warnings(&self) -> Vec<String> {
        self.server.warnings().to_vec()
    }

    /// Counters.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativeSocketcandServerStats {
        let s = self.server.stats();
        NativeSocketcandServerStats {
            clients: s.clients as i64,
            connections: s.connections as i64,
            refused: s.refused as i64,
            timed_out: s.timed_out as i64,
            malformed: s.malformed as i64,
            oversize: s.oversize as i64,
            unknown: s.unknown as i64,
            refused_commands: s.refused_commands as i64,
            send_errors: s.send_errors as i64,
            dropped_frames: s.dropped_frames as i64,
            skipped_frames: s.skipped_frames as i64,
        }
    }

    /// Stops serving; the buses stay open. Idempotent.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.server.close();
    }
}
