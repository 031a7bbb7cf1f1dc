//! The discovery beacon: what a server broadcasts (UDP port 42000, every
//! 3 s, only when asked) and what a listener makes of it, as pure
//! functions, plus the sender and the listener.
//!
//! ```text
//! <CANBeacon name="HOSTNAME" type="SocketCAN" description="canwire socketcand">
//! <URL>can://127.0.0.1:29536</URL><Bus name="vcan0"/></CANBeacon>
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};

/// The beacon's UDP port.
pub const BEACON_PORT: u16 = 42000;
/// How often a server broadcasts it.
pub const BEACON_INTERVAL: Duration = Duration::from_secs(3);
/// The longest host name a beacon carries, in bytes.
const MAX_NAME: usize = 32;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The beacon of a server at `address` exporting `buses`.
pub fn beacon_text(host_name: &str, address: SocketAddr, buses: &[String]) -> String {
    let mut name: String = host_name.chars().filter(|c| !c.is_control()).collect();
    while name.len() > MAX_NAME {
        name.pop();
    }
    let mut text = format!(
        "<CANBeacon name=\"{}\" type=\"SocketCAN\" description=\"canwire socketcand\">\n<URL>can://{address}</URL>",
        escape(&name)
    );
    for bus in buses {
        text.push_str(&format!("<Bus name=\"{}\"/>", escape(bus)));
    }
    text.push_str("</CANBeacon>");
    text
}

/// One bus a beacon advertised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertisedBus {
    /// The server's host (the address in its URL).
    pub host: String,
    /// The server's port.
    pub port: u16,
    /// The bus name to open.
    pub channel: String,
    /// The beacon's `name` attribute (the server's host name).
    pub server_name: String,
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + end]))
}

/// The buses a beacon advertises; `None` for anything that is not a beacon
/// with a `can://HOST:PORT` URL and at least one bus.
pub fn parse_beacon(text: &str) -> Option<Vec<AdvertisedBus>> {
    let text = text.trim();
    let head_end = text.find('>')?;
    let head = &text[..head_end];
    if !head.starts_with("<CANBeacon") || !text.ends_with("</CANBeacon>") {
        return None;
    }
    let server_name = attribute(head, "name").unwrap_or_default();
    let url_start = text.find("<URL>")? + "<URL>".len();
    let url_end = text[url_start..].find("</URL>")? + url_start;
    let authority = text[url_start..url_end].trim().strip_prefix("can://")?;
    let authority = authority.trim_end_matches('/');
    let (host, port) = authority.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let buses: Vec<AdvertisedBus> = text
        .match_indices("<Bus ")
        .filter_map(|(i, _)| {
            let end = text[i..].find('>')? + i;
            attribute(&text[i..end], "name")
        })
        .map(|channel| AdvertisedBus {
            host: host.clone(),
            port,
            channel,
            server_name: server_name.clone(),
        })
        .collect();
    (!buses.is_empty()).then_some(buses)
}

/// Where a server bound to `address` sends its beacon: the loopback
/// broadcast for a loopback address, the limited broadcast otherwise. A
/// server bound to the unspecified address has no address to advertise.
pub fn beacon_destination(address: SocketAddr) -> Result<SocketAddr> {
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => Err(CanwireError::invalid_argument(
            "the beacon advertises the address the server is bound to; bind a specific address, not 0.0.0.0",
        )),
        IpAddr::V4(ip) if ip.is_loopback() => Ok(SocketAddr::from((
            Ipv4Addr::new(127, 255, 255, 255),
            BEACON_PORT,
        ))),
        IpAddr::V4(_) => Ok(SocketAddr::from((Ipv4Addr::BROADCAST, BEACON_PORT))),
        IpAddr::V6(_) => Err(CanwireError::new(
            ErrorCode::Unsupported,
            "the socketcand beacon is IPv4 broadcast only; bind an IPv4 address",
        )),
    }
}

/// This machine's host name, as the beacon names it.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "canwire".into())
}

fn os_error(what: &str, e: &std::io::Error) -> CanwireError {
    CanwireError::new(ErrorCode::Os, format!("{what}: {e}"))
}

/// Broadcasts `text` to `destination` every [`BEACON_INTERVAL`] until `shutdown`.
pub async fn broadcast(
    text: String,
    destination: SocketAddr,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let Ok(socket) = tokio::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).await else {
        return;
    };
    let _ = socket.set_broadcast(true);
    loop {
        let _ = socket.send_to(text.as_bytes(), destination).await;
        tokio::select! {
            _ = tokio::time::sleep(BEACON_INTERVAL) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Listens on UDP port 42000 for `timeout` and returns every bus the beacons
/// heard advertise (each once), as python-can's `detect_beacon` does.
pub fn detect(timeout: Duration) -> Result<Vec<AdvertisedBus>> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| os_error("opening the beacon listener failed", &e))?;
    socket
        .set_reuse_address(true)
        .map_err(|e| os_error("the beacon listener", &e))?;
    socket
        .bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, BEACON_PORT)).into())
        .map_err(|e| {
            os_error(
                &format!("listening on UDP port {BEACON_PORT} for beacons failed"),
                &e,
            )
        })?;
    let socket: std::net::UdpSocket = socket.into();
    let deadline = Instant::now() + timeout;
    let mut found: Vec<AdvertisedBus> = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(found);
        }
        socket
            .set_read_timeout(Some(left))
            .map_err(|e| os_error("the beacon listener", &e))?;
        match socket.recv(&mut buf) {
            Ok(n) => {
                if let Some(buses) = parse_beacon(&String::from_utf8_lossy(&buf[..n])) {
                    for bus in buses {
                        if !found.contains(&bus) {
                            found.push(bus);
                        }
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(os_error("reading beacons failed", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_beacon_text_and_back() {
        let text = beacon_text(
            "rig-7",
            "127.0.0.1:29536".parse().unwrap(),
            &["vcan0".into(), "can1".into()],
        );
        assert_eq!(
            text,
            "<CANBeacon name=\"rig-7\" type=\"SocketCAN\" description=\"canwire socketcand\">\n<URL>can://127.0.0.1:29536</URL><Bus name=\"vcan0\"/><Bus name=\"can1\"/></CANBeacon>"
        );
        let buses = parse_beacon(&text).unwrap();
        assert_eq!(buses.len(), 2);
        assert_eq!(
            buses[1],
            AdvertisedBus {
                host: "127.0.0.1".into(),
                port: 29536,
                channel: "can1".into(),
                server_name: "rig-7".into()
            }
        );
    }

    #[test]
    fn socketcands_own_beacon_parses() {
        let text = "<CANBeacon name=\"pi\" type=\"SocketCAN\" description=\"socketcand\">\n<URL>can://192.168.1.5:29536</URL><Bus name=\"vcan0\"/><Bus name=\"can1\"/></CANBeacon>";
        let buses = parse_beacon(text).unwrap();
        assert_eq!(
            (
                buses[0].host.as_str(),
                buses[0].port,
                buses[0].channel.as_str()
            ),
            ("192.168.1.5", 29536, "vcan0")
        );
        assert_eq!(
            parse_beacon("<CANBeacon name=\"x\"><URL>can://h:1</URL></CANBeacon>"),
            None,
            "no bus"
        );
        assert_eq!(parse_beacon("<Other/>"), None);
        assert_eq!(
            parse_beacon("<CANBeacon><URL>http://h:1</URL><Bus name=\"a\"/></CANBeacon>"),
            None
        );
    }

    #[test]
    fn names_are_bounded_and_escaped() {
        let text = beacon_text(
            &"h\"<".repeat(20),
            "127.0.0.1:1".parse().unwrap(),
            &["a".into()],
        );
        let name = attribute(&text[..text.find('>').unwrap()], "name").unwrap();
        assert!(name.len() <= 32 && name.starts_with("h\"<h\"<"), "{name}");
    }

    #[test]
    fn only_the_bound_address_is_advertised() {
        assert_eq!(
            beacon_destination("127.0.0.1:1".parse().unwrap()).unwrap(),
            "127.255.255.255:42000".parse().unwrap()
        );
        assert_eq!(
            beacon_destination("10.1.2.3:1".parse().unwrap()).unwrap(),
            "255.255.255.255:42000".parse().unwrap()
        );
        assert_eq!(
            beacon_destination("0.0.0.0:1".parse().unwrap())
                .unwrap_err()
                .code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            beacon_destination("[::1]:1".parse().unwrap())
                .unwrap_err()
                .code,
            ErrorCode::Unsupported
        );
    }
}
