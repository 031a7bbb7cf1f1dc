//! NO_BUS over a real loopback connection: exact bytes of every reply.

mod common;

use common::Rig;
use std::time::Duration;

#[test]
fn hi_open_ok() {
    let rig = Rig::default();
    let mut c = rig.connect();
    c.expect("< hi >");
    c.send("< open vcan0 >");
    c.expect("< ok >");
    c.send("< echo >");
    c.expect("< echo >");
}

#[test]
fn a_bus_not_exported_is_refused_and_closed() {
    let rig = Rig::default();
    let mut c = rig.connect();
    c.expect("< hi >");
    c.send("< open can1 >");
    c.expect("< error could not open bus >");
    assert!(c.closed());
}

#[test]
fn a_bus_name_over_15_characters_is_refused_and_closed() {
    let rig = Rig::default();
    let mut c = rig.connect();
    c.expect("< hi >");
    c.send(&format!("< open {} >", "v".repeat(200)));
    c.expect("< error could not open bus >");
    assert!(c.closed());
}

#[test]
fn unknown_commands_in_no_bus_get_error_then_ok() {
    let rig = Rig::default();
    let mut c = rig.connect();
    c.expect("< hi >");
    for text in [
        "< rawmode >",
        "< send 123 0 >",
        "< nosuch >",
        "< echo >",
        "<>",
    ] {
        c.send(text);
        c.expect("< error unknown command >< ok >");
    }
    c.send("< open vcan0 >");
    c.expect("< ok >");
    assert_eq!(rig.server.stats().unknown, 5);
}

#[test]
fn bus_configuration_is_refused() {
    let rig = Rig::default();
    for text in [
        "< vcan0 B 500000 -1 -1 -1 -1 -1 -1 -1 >",
        "< vcan0 C 0 1 0 >",
    ] {
        let mut c = rig.connect();
        c.expect("< hi >");
        c.send(text);
        c.expect("< error configuring interface vcan0 > \n");
        assert!(c.closed());
    }
}

/// One connection sending `text` in NO_BUS: the reply, and whether the server closed.
fn configure(rig: &Rig, text: &str) -> (String, bool) {
    let mut c = rig.connect();
    c.expect("< hi >");
    c.send(text);
    let reply = c.next_element();
    // the trailing " \n" of socketcand's configuration replies
    c.expect(" \n");
    (format!("{reply} \n"), c.closed())
}

#[test]
fn with_reconfiguration_allowed_a_bus_without_controller_is_not_supported() {
    let rig = Rig::new(canwire_socketcand::server::ServerConfig {
        allow_reconfigure: true,
        ..Default::default()
    });
    assert_eq!(
        configure(&rig, "< vcan0 B 500000 -1 -1 -1 -1 -1 -1 -1 >"),
        (
            "< configuration operation not supported B > \n".into(),
            true
        )
    );
    assert_eq!(
        configure(&rig, "< vcan0 C 1 0 0 >"),
        (
            "< configuration operation not supported C > \n".into(),
            true
        )
    );
    // a bus not exported, fields that are not socketcand's, nothing set: the configuring error
    for text in [
        "< can9 B 500000 -1 -1 -1 -1 -1 -1 -1 >",
        "< vcan0 B 500000 >",
        "< vcan0 C 0 2 0 >",
        "< vcan0 B -1 -1 -1 -1 -1 -1 -1 -1 >",
    ] {
        let bus = text.split(' ').nth(1).unwrap();
        assert_eq!(
            configure(&rig, text),
            (format!("< error configuring interface {bus} > \n"), true),
            "{text}"
        );
    }
}

#[test]
fn a_read_only_server_refuses_reconfiguration_even_when_allowed() {
    let rig = Rig::new(canwire_socketcand::server::ServerConfig {
        allow_reconfigure: true,
        read_only: true,
        ..Default::default()
    });
    assert_eq!(
        configure(&rig, "< vcan0 C 1 0 0 >"),
        ("< error configuring interface vcan0 > \n".into(), true)
    );
}

#[test]
fn the_handshake_times_out() {
    let rig = Rig::new(canwire_socketcand::server::ServerConfig {
        handshake_timeout: Duration::from_millis(200),
        ..Default::default()
    });
    let mut c = rig.connect();
    c.expect("< hi >");
    std::thread::sleep(Duration::from_millis(300));
    assert!(c.closed());
    assert_eq!(rig.server.stats().timed_out, 1);
    // an opened connection does not time out
    let mut c = rig.bcm_client();
    std::thread::sleep(Duration::from_millis(300));
    c.send("< echo >");
    c.expect("< echo >");
}

#[test]
fn noise_oversize_and_split_elements() {
    let rig = Rig::default();
    let mut c = rig.connect();
    c.expect("< hi >");
    c.send("garbage outside elements\n");
    let mut big = b"< ".to_vec();
    big.extend(std::iter::repeat_n(b'x', 10_000));
    big.extend_from_slice(b" >");
    c.send_bytes(&big);
    c.send("< op");
    std::thread::sleep(Duration::from_millis(50));
    c.send("en vc");
    std::thread::sleep(Duration::from_millis(50));
    c.send("an0 >");
    c.expect("< ok >");
    assert_eq!(rig.server.stats().oversize, 1);
}
