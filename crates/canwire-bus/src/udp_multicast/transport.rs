//! The sockets of a `udp_multicast` bus and its receive thread.

use std::io::ErrorKind;
use std::mem::MaybeUninit;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, Frame, FrameFlags};
use socket2::{Domain, Protocol as IpProtocol, Socket, Type};

use super::UdpMulticastConfig;
use super::wire::{decode, encode};
use crate::reader_set::ReaderSet;
use crate::stats::ReceiveErrors;
use crate::sync_util::{join_unless_current, lock};
use crate::transport::{Protocol, Transport};

/// Larger than any message map (an FD frame packs to about 230 bytes), so a
/// datagram longer than this is no python-can message and counts as one.
const MAX_DATAGRAM: usize = 4096;
/// How often the receive thread looks at the stop flag.
const RECEIVE_POLL: Duration = Duration::from_millis(100);

/// A bus over a UDP multicast group.
pub struct UdpMulticastTransport {
    config: UdpMulticastConfig,
    send: Socket,
    /// Where our own datagrams come from, as receivers see them.
    own_address: SocketAddr,
    shared: Arc<Shared>,
    receiver: Mutex<Option<JoinHandle<()>>>,
}

/// What the receive thread and the transport share.
struct Shared {
    stop: AtomicBool,
    errors: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    fn count_error(&self, message: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        *lock(&self.last_error) = Some(message);
    }
}

fn os(e: &std::io::Error, what: &str) -> CanwireError {
    CanwireError::from_io(e, what)
}

/// The group address, checked to be multicast.
fn group_address(group: &str) -> Result<IpAddr> {
    let ip: IpAddr = group.parse().map_err(|_| {
        CanwireError::invalid_argument(format!(
            "udp_multicast channel '{group}' is no IP address: use a multicast group such as \
             {} or {}",
            super::DEFAULT_GROUP_V6,
            super::DEFAULT_GROUP_V4
        ))
    })?;
    if !ip.is_multicast() {
        return Err(CanwireError::invalid_argument(format!(
            "udp_multicast channel '{group}' is no multicast address: IPv4 224.0.0.0/4 or \
             IPv6 ff00::/8 allowed"
        )));
    }
    Ok(ip)
}

impl UdpMulticastTransport {
    /// Joins the group and starts the receive thread.
    pub fn open(config: UdpMulticastConfig, readers: Arc<ReaderSet>) -> Result<Self> {
        let group = group_address(&config.group)?;
        if !(1..=255).contains(&config.hop_limit) {
            return Err(CanwireError::invalid_argument(format!(
                "hopLimit must be an integer 1..255, got {}",
                config.hop_limit
            )));
        }
        let what = format!("joining multicast group {group} port {}", config.port);
        let destination = SocketAddr::new(group, config.port);
        let domain = Domain::for_address(destination);

        let receive =
            Socket::new(domain, Type::DGRAM, Some(IpProtocol::UDP)).map_err(|e| os(&e, &what))?;
        receive.set_reuse_address(true).map_err(|e| os(&e, &what))?;
        #[cfg(all(unix, not(target_os = "solaris"), not(target_os = "illumos")))]
        receive.set_reuse_port(true).map_err(|e| os(&e, &what))?;
        let any: IpAddr = match group {
            IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        receive
            .bind(&SocketAddr::new(any, config.port).into())
            .map_err(|e| os(&e, &what))?;
        match group {
            IpAddr::V4(g) => receive.join_multicast_v4(&g, &Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(g) => receive.join_multicast_v6(&g, 0),
        }
        .map_err(|e| os(&e, &what))?;
        receive
            .set_read_timeout(Some(RECEIVE_POLL))
            .map_err(|e| os(&e, &what))?;

        let send =
            Socket::new(domain, Type::DGRAM, Some(IpProtocol::UDP)).map_err(|e| os(&e, &what))?;
        match group {
            IpAddr::V4(_) => send.set_multicast_ttl_v4(config.hop_limit),
            IpAddr::V6(_) => send.set_multicast_hops_v6(config.hop_limit),
        }
        .map_err(|e| os(&e, &what))?;
        send.connect(&destination.into())
            .map_err(|e| os(&e, &what))?;
        send.set_nonblocking(true).map_err(|e| os(&e, &what))?;
        let own_address = send
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .ok_or_else(|| CanwireError::new(ErrorCode::Os, format!("{what}: no local address")))?;

        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            errors: AtomicU64::new(0),
            last_error: Mutex::new(None),
        });
        let thread_shared = shared.clone();
        let own_frames = config.receive_own_messages;
        let receiver = std::thread::Builder::new()
            .name("canwire-udp-multicast-rx".into())
            .spawn(move || {
                receive_loop(&receive, &readers, &thread_shared, own_address, own_frames)
            })
            .map_err(|e| os(&e, "starting the udp_multicast receive thread"))?;
        Ok(Self {
            config,
            send,
            own_address,
            shared,
            receiver: Mutex::new(Some(receiver)),
        })
    }

    /// The address our datagrams come from.
    pub fn own_address(&self) -> SocketAddr {
        self.own_address
    }
}

fn receive_loop(
    socket: &Socket,
    readers: &ReaderSet,
    shared: &Shared,
    own_address: SocketAddr,
    own_frames: bool,
) {
    let mut buffer = [MaybeUninit::<u8>::uninit(); MAX_DATAGRAM + 1];
    while !shared.stop.load(Ordering::Acquire) {
        let (len, from) = match socket.recv_from(&mut buffer) {
            Ok(got) => got,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                shared.count_error(format!("receiving from the multicast group: {e}"));
                std::thread::sleep(RECEIVE_POLL);
                continue;
            }
        };
        let received_ns = crate::time::realtime_ns();
        // IP and port only: an IPv6 link-local source also carries a scope id
        // and flow info, which the connected socket's own address may lack.
        let own = from
            .as_socket()
            .is_some_and(|a| a.ip() == own_address.ip() && a.port() == own_address.port());
        if own && !own_frames {
            continue;
        }
        // SAFETY: recv_from initialised the first `len` bytes of `buffer`.
        let datagram = unsafe {
            std::slice::from_raw_parts(buffer.as_ptr().cast::<u8>(), len.min(MAX_DATAGRAM))
        };
        if len > MAX_DATAGRAM {
            shared.count_error(format!(
                "a datagram of more than {MAX_DATAGRAM} bytes from {:?}: no python-can message",
                from.as_socket()
            ));
            continue;
        }
        match decode(datagram) {
            Ok(mut frame) => {
                frame.timestamp_ns = received_ns;
                frame.flags.set(FrameFlags::TX, own);
                readers.deliver(&[frame]);
            }
            Err(e) => shared.count_error(format!(
                "a datagram from {} that is no valid message: {}",
                from.as_socket()
                    .map_or_else(|| "?".into(), |a| a.to_string()),
                e.message
            )),
        }
    }
}

impl Transport for UdpMulticastTransport {
    fn send(&self, frames: &[Frame]) -> Result<usize> {
        for (i, frame) in frames.iter().enumerate() {
            match self.send.send(&encode(frame)) {
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock) => return Ok(i),
                Err(e) if is_enobufs(&e) => return Ok(i),
                Err(e) => {
                    return Err(os(
                        &e,
                        &format!("sending to multicast group {}", self.config.group),
                    )
                    .with_sent(i as u64));
                }
            }
        }
        Ok(frames.len())
    }

    fn wait_writable(&self, timeout: Duration) -> Result<bool> {
        // The kernel gives no readiness for a full UDP send buffer that is
        // worth a poll here; a short sleep lets it drain.
        std::thread::sleep(timeout.min(Duration::from_millis(1)));
        Ok(true)
    }

    fn protocol(&self) -> Protocol {
        Protocol::opened_with_fd(self.config.fd)
    }

    fn channel_info(&self) -> String {
        format!(
            "udp_multicast group {} port {} hop limit {} (sending from {})",
            self.config.group, self.config.port, self.config.hop_limit, self.own_address
        )
    }

    fn channel_name(&self, index: u32) -> Option<String> {
        (index == 0).then(|| self.config.group.clone())
    }

    fn receive_errors(&self) -> ReceiveErrors {
        ReceiveErrors {
            count: self.shared.errors.load(Ordering::Relaxed),
            last: lock(&self.shared.last_error).clone(),
        }
    }

    fn close(&self) {
        self.shared.stop.store(true, Ordering::Release);
        join_unless_current(&self.receiver);
    }
}

impl Drop for UdpMulticastTransport {
    fn drop(&mut self) {
        self.close();
    }
}

/// ENOBUFS: the interface queue is full, a send to retry.
#[cfg(target_os = "linux")]
fn is_enobufs(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOBUFS)
}

#[cfg(not(target_os = "linux"))]
fn is_enobufs(_: &std::io::Error) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_must_be_multicast_addresses() {
        let readers = Arc::new(ReaderSet::new(true));
        for (group, text) in [
            ("10.0.0.1", "no multicast address"),
            ("::1", "no multicast address"),
            ("vcan0", "no IP address"),
        ] {
            let e = UdpMulticastTransport::open(UdpMulticastConfig::new(group), readers.clone())
                .err()
                .unwrap();
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{group}");
            assert!(e.message.contains(text), "{e}");
        }
        let mut config = UdpMulticastConfig::new(super::super::DEFAULT_GROUP_V4);
        config.hop_limit = 0;
        let e = UdpMulticastTransport::open(config, readers).err().unwrap();
        assert!(
            e.message.contains("hopLimit must be an integer 1..255"),
            "{e}"
        );
    }
}
