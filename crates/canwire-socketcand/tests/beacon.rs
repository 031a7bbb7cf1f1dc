//! The discovery beacon, tested only inside a private network namespace
//! (`unshare -n` with loopback up): nothing is ever broadcast on the
//! machine's own interfaces.

#![allow(clippy::unwrap_used)] // helpers of the tests below: a failed setup is a failed test

mod common;

use std::process::Command;
use std::time::Duration;

use canwire_socketcand::beacon::detect;
use canwire_socketcand::server::{Listen, LocalAddress, ServerConfig, SocketcandServer};

const INSIDE: &str = "CANWIRE_TEST_PRIVATE_NETNS";

#[test]
fn beacon_in_a_private_network_namespace() {
    let probe = Command::new("unshare")
        .args(["-n", "--map-root-user", "true"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        let message = "unshare -n --map-root-user is not available: the beacon test needs a private network namespace";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("skipped: {message}");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("unshare")
        .args(["-n", "--map-root-user", "sh", "-c"])
        .arg("ip link set lo up && exec \"$0\" --exact inner_beacon --ignored --test-threads=1")
        .arg(exe)
        .env(INSIDE, "1")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the beacon test inside the namespace failed"
    );
}

fn server(beacon: bool, bus: &str) -> SocketcandServer {
    SocketcandServer::start(
        ServerConfig {
            listen: Listen::Tcp("127.0.0.1:0".parse().unwrap()),
            beacon,
            ..Default::default()
        },
        vec![(bus.into(), common::virtual_bus(bus))],
    )
    .unwrap()
}

#[test]
#[ignore = "runs inside a private network namespace, started by beacon_in_a_private_network_namespace"]
fn inner_beacon() {
    assert_eq!(
        std::env::var(INSIDE).as_deref(),
        Ok("1"),
        "refusing to broadcast outside the private namespace"
    );
    // off by default
    let listener = std::thread::spawn(|| detect(Duration::from_millis(1000)).unwrap());
    std::thread::sleep(Duration::from_millis(100));
    let quiet = server(false, "can3");
    assert_eq!(listener.join().unwrap(), []);
    drop(quiet);
    // on request: the bound address and the exported buses
    let listener = std::thread::spawn(|| detect(Duration::from_millis(1500)).unwrap());
    std::thread::sleep(Duration::from_millis(100));
    let loud = server(true, "vcan0");
    let LocalAddress::Tcp(addr) = *loud.local_address() else {
        panic!()
    };
    let found = listener.join().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (
            found[0].host.as_str(),
            found[0].port,
            found[0].channel.as_str()
        ),
        ("127.0.0.1", addr.port(), "vcan0")
    );
    // python-can 4.6's detect_beacon finds it too
    let python = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/py-peers/bin/python");
    if python.exists() {
        let out = Command::new(&python)
            .args([
                "-c",
                "from can.interfaces.socketcand import detect_beacon; print(detect_beacon(3500))",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text.trim(),
            format!(
                "[{{'interface': 'socketcand', 'host': '127.0.0.1', 'port': {}, 'channel': 'vcan0'}}]",
                addr.port()
            )
        );
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python-can 4.6 venv missing"
        );
        eprintln!("skipped python-can's detect_beacon: no target/py-peers");
    }
    // a server bound to every address has no address to advertise
    let err = SocketcandServer::start(
        ServerConfig {
            listen: Listen::Tcp("0.0.0.0:0".parse().unwrap()),
            beacon: true,
            ..Default::default()
        },
        vec![("vcan0".into(), common::virtual_bus("b"))],
    )
    .err()
    .unwrap();
    assert_eq!(err.code, canwire_core::ErrorCode::InvalidArgument);
}
