//! A socketcand server for canwire buses, byte for byte as socketcand 0.6
//! writes the protocol, with the bounds socketcand lacks.
//!
//! - [`config`]: what a server is told (listen address, allowlists, limits), safe by default.
//! - [`hub`]: an exported bus shared by connections, each with its own view (no echo of own frames).
//! - [`session`]: one connection's state machine (NO_BUS → BCM/RAW/CONTROL/ISO-TP), socket-free.
//! - [`raw_mode`], [`bcm_mode`], [`control_mode`], [`isotp_mode`]: what each mode does.
//! - [`connection`]: the socket loop driving a session; [`listener`]: accepting, refusing.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use canwire_bus::{Bus, BusConfig, virtual_bus::VirtualConfig};
//! use canwire_socketcand::server::{SocketcandServer, ServerConfig};
//! let bus = Arc::new(Bus::open(BusConfig::Virtual(VirtualConfig { channel: "demo".into(), ..Default::default() }))?);
//! let server = SocketcandServer::start(ServerConfig::default(), vec![("vcan0".into(), bus)])?;
//! println!("python-can: interface='socketcand', host/port {:?}, channel 'vcan0'", server.local_address());
//! server.close();
//! # Ok::<(), canwire_core::CanwireError>(())
//! ```

pub mod bcm_mode;
pub mod config;
pub mod connection;
pub mod control_mode;
pub mod counters;
pub mod error_subscription;
pub mod hub;
pub mod isotp_mode;
pub mod listener;
pub mod output;
pub mod raw_mode;
pub mod reconfigure;
pub mod session;
pub mod view_reader;

pub use config::{AddressRange, Listen, ServerConfig};
pub use counters::ServerStats;
pub use listener::{LocalAddress, SocketcandServer};
