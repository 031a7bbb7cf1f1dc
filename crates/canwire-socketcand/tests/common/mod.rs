//! A socketcand server on a fresh virtual channel, and a byte-level client.

#![allow(dead_code, clippy::unwrap_used)] // test helpers: a failed setup is a failed test

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use canwire_bus::virtual_bus::VirtualConfig;
use canwire_bus::{Bus, BusConfig, FrameQueue};
use canwire_core::Frame;
use canwire_socketcand::server::{LocalAddress, ServerConfig, SocketcandServer};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A server exporting one virtual channel as `vcan0`, and a peer bus on it.
pub struct Rig {
    pub server: SocketcandServer,
    pub peer: Arc<Bus>,
    pub peer_rx: Arc<FrameQueue>,
    pub channel: String,
}

pub fn virtual_bus(channel: &str) -> Arc<Bus> {
    Arc::new(
        Bus::open(BusConfig::Virtual(VirtualConfig {
            channel: channel.into(),
            ..VirtualConfig::default()
        }))
        .unwrap(),
    )
}

impl Rig {
    pub fn new(config: ServerConfig) -> Self {
        let channel = format!(
            "socketcand-it-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let exported = virtual_bus(&channel);
        let peer = Arc::new(
            Bus::open(BusConfig::Virtual(VirtualConfig {
                channel: channel.clone(),
                preserve_timestamps: true,
                ..VirtualConfig::default()
            }))
            .unwrap(),
        );
        let peer_rx = peer.add_reader(10_000).unwrap();
        let config = ServerConfig {
            listen: canwire_socketcand::server::Listen::Tcp("127.0.0.1:0".parse().unwrap()),
            ..config
        };
        let server = SocketcandServer::start(config, vec![("vcan0".into(), exported)]).unwrap();
        Self {
            server,
            peer,
            peer_rx,
            channel,
        }
    }

    pub fn default() -> Self {
        Self::new(ServerConfig::default())
    }

    pub fn connect(&self) -> Client {
        let LocalAddress::Tcp(addr) = self.server.local_address() else {
            panic!("tcp")
        };
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Client {
            stream,
            pending: Vec::new(),
        }
    }

    /// A client in raw mode (handshake checked).
    pub fn raw_client(&self) -> Client {
        let mut c = self.connect();
        c.expect("< hi >");
        c.send("< open vcan0 >");
        c.expect("< ok >");
        c.send("< rawmode >");
        c.expect("< ok >");
        std::thread::sleep(Duration::from_millis(30));
        c
    }

    /// A client in BCM mode.
    pub fn bcm_client(&self) -> Client {
        let mut c = self.connect();
        c.expect("< hi >");
        c.send("< open vcan0 >");
        c.expect("< ok >");
        c
    }

    /// Frames the peer received within `wait`.
    pub fn peer_frames(&self, wait: Duration) -> Vec<Frame> {
        std::thread::sleep(wait);
        let mut out = Vec::new();
        self.peer_rx.pop_into(100_000, &mut out);
        out
    }

    /// Frames the peer received, collected until `done` holds for them (or
    /// 10 s pass: the caller's assertion then says what was missing).
    pub fn peer_frames_until(&self, done: impl Fn(&[Frame]) -> bool) -> Vec<Frame> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut out = Vec::new();
        while !done(&out) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            self.peer_rx.pop_into(100_000, &mut out);
        }
        out
    }

    /// Whether the peer saw a stretch of `quiet` with no frame within 10 s.
    pub fn peer_goes_quiet(&self, quiet: Duration) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if self.peer_frames(quiet).is_empty() {
                return true;
            }
        }
        false
    }

    /// Sends from the peer, stamped `timestamp_ns` (kept by the virtual bus).
    pub fn peer_send(&self, mut frame: Frame, timestamp_ns: u64) {
        frame.timestamp_ns = timestamp_ns;
        self.peer.send(&[frame]).unwrap();
    }
}

pub struct Client {
    pub stream: TcpStream,
    pending: Vec<u8>,
}

impl Client {
    pub fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).unwrap();
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    fn fill(&mut self, want: usize, deadline: Instant) -> bool {
        let mut buf = [0u8; 65536];
        while self.pending.len() < want {
            if Instant::now() > deadline {
                return false;
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// Reads exactly `text` next.
    pub fn expect(&mut self, text: &str) {
        let ok = self.fill(text.len(), Instant::now() + Duration::from_secs(5));
        let got: Vec<u8> = self
            .pending
            .drain(..text.len().min(self.pending.len()))
            .collect();
        assert!(
            ok,
            "expected {text:?}, got only {:?}",
            String::from_utf8_lossy(&got)
        );
        assert_eq!(String::from_utf8_lossy(&got), text);
    }

    /// The next element, `<` to `>`.
    pub fn next_element(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'>') {
                let el: Vec<u8> = self.pending.drain(..=end).collect();
                return String::from_utf8(el).unwrap();
            }
            let have = self.pending.len();
            assert!(
                self.fill(have + 1, deadline),
                "no element; pending {:?}",
                String::from_utf8_lossy(&self.pending)
            );
        }
    }

    /// Asserts nothing arrives within `wait`.
    pub fn expect_silence(&mut self, wait: Duration) {
        self.fill(usize::MAX, Instant::now() + wait);
        assert_eq!(
            String::from_utf8_lossy(&self.pending),
            "",
            "expected nothing"
        );
    }

    /// True once the server closed the connection (within 2 s).
    pub fn closed(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut buf = [0u8; 1024];
        while Instant::now() < deadline {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return true,
            }
        }
        false
    }
}

/// The `SEC.USEC` text of a timestamp.
pub fn ts(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, ns % 1_000_000_000 / 1000)
}

/// An FD virtual bus on a fresh channel, and the channel's name.
pub fn virtual_bus_fd(tag: &str) -> (Arc<Bus>, String) {
    let channel = format!(
        "socketcand-it-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    (virtual_bus_fd_on(&channel), channel)
}

/// An FD virtual bus on `channel` that keeps the sender's timestamps.
pub fn virtual_bus_fd_on(channel: &str) -> Arc<Bus> {
    Arc::new(
        Bus::open(BusConfig::Virtual(VirtualConfig {
            channel: channel.into(),
            fd: true,
            preserve_timestamps: true,
            ..VirtualConfig::default()
        }))
        .unwrap(),
    )
}

impl Client {
    /// Connects to a TCP server.
    pub fn connect(addr: std::net::SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Client {
            stream,
            pending: Vec::new(),
        }
    }
}
