use super::*;

fn cmd(s: &str) -> Command {
    parse_command(s.as_bytes()).unwrap()
}

fn bad(s: &str) -> &'static str {
    parse_command(s.as_bytes()).unwrap_err().reason
}

#[test]
fn modes_echo_and_open() {
    assert_eq!(cmd("< rawmode >"), Command::SwitchMode(Mode::Raw));
    assert_eq!(cmd("<bcmmode>"), Command::SwitchMode(Mode::Bcm));
    assert_eq!(cmd("< controlmode >"), Command::SwitchMode(Mode::Control));
    assert_eq!(cmd("< isotpmode >"), Command::SwitchMode(Mode::IsoTp));
    assert_eq!(cmd("< echo >"), Command::Echo);
    assert_eq!(cmd("< rawmode x >"), Command::Unknown);
    assert_eq!(cmd("< open vcan0 >"), Command::Open("vcan0".into()));
    assert_eq!(
        cmd("< open 123456789012345 >"),
        Command::Open("123456789012345".into())
    );
    assert_eq!(
        bad("< open 1234567890123456 >"),
        "a bus name has at most 15 characters"
    );
    assert_eq!(
        cmd("< vcan0 B 500000 -1 -1 -1 -1 -1 -1 -1 >"),
        Command::Configure {
            bus: "vcan0".into(),
            op: 'B',
            change: Some(BusChange::Timing([500000, -1, -1, -1, -1, -1, -1, -1]))
        }
    );
    assert_eq!(
        cmd("< vcan0 C 0 1 0 >"),
        Command::Configure {
            bus: "vcan0".into(),
            op: 'C',
            change: Some(BusChange::Modes([0, 1, 0]))
        }
    );
    for (text, op) in [
        ("< vcan0 B 500000 >", 'B'),
        ("< vcan0 B 1 2 3 4 5 6 7 x >", 'B'),
        ("< vcan0 C 0 2 0 >", 'C'),
        ("< vcan0 C 0 1 >", 'C'),
    ] {
        assert_eq!(
            cmd(text),
            Command::Configure {
                bus: "vcan0".into(),
                op,
                change: None
            },
            "{text}"
        );
    }
    assert_eq!(cmd("< nosuch >"), Command::Unknown);
    assert_eq!(cmd("< >"), Command::Unknown);
}

#[test]
fn send_in_every_convention() {
    assert_eq!(
        cmd("< send 123 0 >"),
        Command::Send(Frame::classic(0x123, false, &[]))
    );
    assert_eq!(
        cmd("< send 7FF 0  >"),
        Command::Send(Frame::classic(0x7FF, false, &[]))
    );
    assert_eq!(
        cmd("< send 1AAAAAAA 2 1 f1 >"),
        Command::Send(Frame::classic(0x1AAA_AAAA, true, &[1, 0xF1]))
    );
    assert_eq!(
        cmd("< send 80000123 1 01 >"),
        Command::Send(Frame::classic(0x123, true, &[1])),
        "SavvyCAN's bit 31"
    );
    assert_eq!(
        cmd("< send 1abcd 1 01 >"),
        Command::Send(Frame::classic(0x1ABCD, true, &[1])),
        "python-can 4.1's unpadded extended id"
    );
    assert_eq!(
        cmd("< sendfd 123 12 0 1 2 3 4 5 6 7 8 9 a b >"),
        Command::Send(Frame::fd(
            0x123,
            false,
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
            false
        ))
    );
}

#[test]
fn malformed_sends() {
    assert_eq!(
        bad("< send 123 2 01 >"),
        "the number of data bytes differs from the DLC"
    );
    assert_eq!(
        bad("< send 123 9 1 2 3 4 5 6 7 8 9 >"),
        "DLC must be 0..8 (decimal)"
    );
    assert_eq!(
        bad("< send 123 1 100 >"),
        "a data byte is not 1..2 hex digits"
    );
    assert_eq!(
        bad("< send 3FFFFFFFF 0 >"),
        "the id is not 1..8 hex digits of an 11- or 29-bit id"
    );
    assert_eq!(
        bad("< send 20000000 0 >"),
        "the id is not 1..8 hex digits of an 11- or 29-bit id"
    );
    assert_eq!(bad("< send >"), "expected ID DLC and DLC data bytes");
    assert_eq!(
        bad("< sendfd 123 9 1 2 3 4 5 6 7 8 9 >"),
        "LEN must be a CAN FD length: 0..8, 12, 16, 20, 24, 32, 48, 64"
    );
}

#[test]
fn bcm_commands() {
    assert_eq!(
        cmd("< add 0 20000 123 4 42 42 42 42 >"),
        Command::Add {
            interval_us: 20_000,
            frame: Frame::classic(0x123, false, &[0x42; 4])
        }
    );
    assert_eq!(
        bad("< add 0 0 123 0 >"),
        "a cyclic job needs an interval above 0"
    );
    assert_eq!(bad("< add 0 123 0 >"), "expected ID DLC and DLC data bytes");
    assert_eq!(
        cmd("< update 123 1 ff >"),
        Command::Update(Frame::classic(0x123, false, &[0xFF]))
    );
    assert_eq!(
        cmd("< delete 123 >"),
        Command::Delete(CanId {
            id: 0x123,
            extended: false
        })
    );
    assert_eq!(
        cmd("< filter 0 0 123 1 FF >"),
        Command::Filter {
            interval_us: 0,
            id: CanId {
                id: 0x123,
                extended: false
            },
            mask: vec![0xFF]
        }
    );
    assert_eq!(
        cmd("< subscribe 1 0 00000123 >"),
        Command::Subscribe {
            interval_us: 1_000_000,
            id: CanId {
                id: 0x123,
                extended: true
            }
        }
    );
    assert_eq!(bad("< subscribe 0 123 >"), "expected SEC USEC ID");
    assert_eq!(
        cmd("< unsubscribe 123 >"),
        Command::Unsubscribe(CanId {
            id: 0x123,
            extended: false
        })
    );
    let mux = "< muxfilter 0 0 123 2 FF 00 00 00 00 00 00 00 01 02 03 04 05 06 07 08 >";
    assert_eq!(
        cmd(mux),
        Command::Muxfilter {
            interval_us: 0,
            id: CanId {
                id: 0x123,
                extended: false
            },
            tuples: vec![[0xFF, 0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7, 8]]
        }
    );
    assert_eq!(
        bad("< muxfilter 0 0 123 1 FF 00 00 00 00 00 00 00 >"),
        "N must be 2..257"
    );
}

#[test]
fn control_and_isotp_commands() {
    assert_eq!(
        cmd("< statistics 1000 >"),
        Command::Statistics { interval_ms: 1000 }
    );
    assert_eq!(
        bad("< statistics x >"),
        "IVAL_MS must be decimal milliseconds"
    );
    assert_eq!(
        cmd("< isotpconf 1F998877 1F998876 C 4 0 0 AA 55 >"),
        Command::IsoTpConf(IsoTpConf {
            tx: CanId {
                id: 0x1F99_8877,
                extended: true
            },
            rx: CanId {
                id: 0x1F99_8876,
                extended: true
            },
            flags: 0xC,
            blocksize: 4,
            stmin: 0,
            wftmax: 0,
            txpad: 0xAA,
            rxpad: 0x55,
            ext: 0,
            rxext: 0,
        })
    );
    assert!(matches!(
        cmd("< isotpconf 7E0 7E8 0 0 0 >"),
        Command::IsoTpConf(_)
    ));
    assert_eq!(
        bad("< isotpconf 7E0 7E8 4 0 0 >"),
        "the flags need more trailing fields"
    );
    assert_eq!(
        cmd("< sendpdu 0102AB >"),
        Command::SendPdu(vec![1, 2, 0xAB])
    );
    assert_eq!(
        bad("< sendpdu 010 >"),
        "expected 1..4095 bytes as an even-length hex string"
    );
    assert_eq!(
        bad(&format!("< sendpdu {} >", "00".repeat(4096))),
        "expected 1..4095 bytes as an even-length hex string"
    );
}
