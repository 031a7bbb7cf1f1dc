//! Bounds: clients, addresses, slow clients, Unix socket permissions.

mod common;

use canwire_core::Frame;
use canwire_socketcand::server::{AddressRange, LocalAddress, ServerConfig, SocketcandServer};
use common::Rig;
use std::io::Read;
use std::time::{Duration, Instant};

#[test]
fn clients_over_the_bound_are_refused() {
    let rig = Rig::new(ServerConfig {
        max_clients: 2,
        ..Default::default()
    });
    let mut a = rig.bcm_client();
    let _b = rig.bcm_client();
    let mut c = rig.connect();
    c.expect("< error too many clients >");
    assert!(c.closed());
    drop(_b);
    std::thread::sleep(Duration::from_millis(100));
    let mut d = rig.connect();
    d.expect("< hi >");
    a.send("< echo >");
    a.expect("< echo >");
    assert_eq!(rig.server.stats().refused, 1);
}

#[test]
fn addresses_outside_the_allowlist_are_closed_at_once() {
    let rig = Rig::new(ServerConfig {
        allowed_clients: vec![AddressRange::parse("10.0.0.0/8").unwrap()],
        ..Default::default()
    });
    let mut c = rig.connect();
    assert!(c.closed());
    let rig = Rig::new(ServerConfig {
        allowed_clients: vec![AddressRange::parse("127.0.0.0/8").unwrap()],
        ..Default::default()
    });
    rig.connect().expect("< hi >");
}

#[test]
fn a_slow_client_loses_frames_counted_and_stalls_nobody() {
    let rig = Rig::new(ServerConfig {
        output_queue_frames: 64,
        ..Default::default()
    });
    let slow = rig.raw_client();
    let mut fast = rig.raw_client();
    let total = 200_000u32;
    let start = Instant::now();
    for i in 0..total {
        rig.peer_send(Frame::classic(0x100, false, &i.to_le_bytes()), 0);
    }
    let sending = start.elapsed();
    // the fast client reads everything it gets; the slow one reads nothing
    let mut received = 0u32;
    let mut buf = vec![0u8; 1 << 16];
    fast.stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    while let Ok(n) = fast.stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        received += buf[..n].iter().filter(|&&b| b == b'>').count() as u32;
    }
    let dropped = rig.server.stats().dropped_frames;
    assert!(dropped > 0, "the slow client lost frames");
    assert!(
        received + (dropped as u32) >= total,
        "fast got {received}, dropped {dropped}"
    );
    assert!(
        sending < Duration::from_secs(20),
        "the bus was not stalled ({sending:?})"
    );
    drop(slow);
}

#[test]
fn idle_connections_close() {
    let rig = Rig::new(ServerConfig {
        idle_timeout: Some(Duration::from_millis(200)),
        ..Default::default()
    });
    let mut c = rig.bcm_client();
    std::thread::sleep(Duration::from_millis(100));
    c.send("< echo >");
    c.expect("< echo >");
    std::thread::sleep(Duration::from_millis(300));
    assert!(c.closed());
}

#[cfg(unix)]
#[test]
fn a_unix_socket_is_for_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("canwire-socketcand-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.sock");
    let _ = std::fs::remove_file(&path);
    let server = SocketcandServer::start(
        ServerConfig {
            listen: canwire_socketcand::server::Listen::Unix(path.clone()),
            ..Default::default()
        },
        vec![("vcan0".into(), common::virtual_bus("unix-test"))],
    )
    .unwrap();
    assert_eq!(server.local_address(), &LocalAddress::Unix(path.clone()));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mut s = std::os::unix::net::UnixStream::connect(&path).unwrap();
    let mut buf = [0u8; 6];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"< hi >");
    // a second server on the same path is refused
    let err = SocketcandServer::start(
        ServerConfig {
            listen: canwire_socketcand::server::Listen::Unix(path.clone()),
            ..Default::default()
        },
        vec![("vcan0".into(), common::virtual_bus("unix-test"))],
    )
    .err()
    .unwrap();
    assert_eq!(err.code, canwire_core::ErrorCode::InvalidArgument);
    server.close();
    assert!(!path.exists(), "close removes the socket file");
}

#[test]
fn bus_names_are_checked() {
    let bus = common::virtual_bus("names");
    for bad in ["", "1234567890123456", "a b", "a<b"] {
        let err = SocketcandServer::start(ServerConfig::default(), vec![(bad.into(), bus.clone())])
            .err()
            .unwrap();
        assert_eq!(
            err.code,
            canwire_core::ErrorCode::InvalidArgument,
            "{bad:?}"
        );
    }
    let err = SocketcandServer::start(ServerConfig::default(), vec![])
        .err()
        .unwrap();
    assert!(err.message.contains("at least one bus"));
}
