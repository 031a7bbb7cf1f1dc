//! What a client asks a socketcand server: one [`Command`] per element.
//!
//! [`parse_command`] is a pure function from an element's bytes to a
//! command, so every syntax rule is tested without a socket. Which command
//! a mode accepts is the server's business (`server::session`).

use canwire_core::Frame;
use canwire_core::dlc::FD_LENGTHS;

use super::tokens::{
    parse_bytes, parse_decimal, parse_hex, parse_hex_string, parse_id, parse_interval, words,
};

/// The longest bus name accepted (IFNAMSIZ - 1).
pub const MAX_BUS_NAME_LEN: usize = 15;
/// The longest ISO-TP payload `sendpdu` may carry.
pub const MAX_PDU_LEN: usize = 4095;

/// A connection's mode, after `< open BUS >`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The broadcast manager mode (the mode after `open`).
    Bcm,
    /// Every frame, and `send`.
    Raw,
    /// Interface statistics.
    Control,
    /// ISO-TP payloads.
    IsoTp,
}

/// A CAN id with its format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanId {
    /// The id bits.
    pub id: u32,
    /// 29-bit.
    pub extended: bool,
}

/// The fields of `< isotpconf … >`, as given (hex and decimal already read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsoTpConf {
    /// The id the server transmits on.
    pub tx: CanId,
    /// The id the server receives on.
    pub rx: CanId,
    /// `CAN_ISOTP_*` flag bits.
    pub flags: u32,
    /// Block size.
    pub blocksize: u8,
    /// STmin.
    pub stmin: u8,
    /// WFTmax.
    pub wftmax: u8,
    /// Transmit padding byte.
    pub txpad: u8,
    /// Receive padding byte.
    pub rxpad: u8,
    /// Transmit address extension.
    pub ext: u8,
    /// Receive address extension.
    pub rxext: u8,
}

/// The `CAN_ISOTP_*` flags of `isotp.h`.
pub mod isotp_flags {
    /// Receive without flow control.
    pub const LISTEN_MODE: u32 = 0x001;
    /// Extended addressing (address byte first).
    pub const EXTEND_ADDR: u32 = 0x002;
    /// Pad transmitted frames.
    pub const TX_PADDING: u32 = 0x004;
    /// Expect padded received frames.
    pub const RX_PADDING: u32 = 0x008;
    /// A separate receive address extension.
    pub const RX_EXT_ADDR: u32 = 0x200;
    /// Every flag `isotp.h` defines.
    pub const ALL: u32 = 0x3FF;
}

/// The fields of a bus configuration command (negative: leave unset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusChange {
    /// `B`: bitrate, sample_point (tenths of a percent), tq (ns), prop_seg,
    /// phase_seg1, phase_seg2, sjw, brp.
    Timing([i64; 8]),
    /// `C`: listen_only, loopback, three_samples (each 0 or 1).
    Modes([i64; 3]),
}

fn decimal_fields<const N: usize>(args: &[&str]) -> Option<[i64; N]> {
    if args.len() != N {
        return None;
    }
    let mut out = [0i64; N];
    for (slot, text) in out.iter_mut().zip(args) {
        *slot = text.parse().ok()?;
    }
    Some(out)
}

/// One client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `< open BUS >`.
    Open(String),
    /// `< BUS B … >` / `< BUS C … >`: bus configuration.
    Configure {
        /// The bus named.
        bus: String,
        /// The operation letter, `B` or `C`.
        op: char,
        /// The fields, or `None` when they are not the 8 (B) or 3 (C) decimal integers.
        change: Option<BusChange>,
    },
    /// `< rawmode >`, `< bcmmode >`, `< controlmode >`, `< isotpmode >`.
    SwitchMode(Mode),
    /// `< echo >`.
    Echo,
    /// `< send ID DLC b… >` or `< sendfd ID LEN b… >`.
    Send(Frame),
    /// `< add SEC USEC ID DLC b… >`.
    Add {
        /// The interval.
        interval_us: u64,
        /// The frame sent every interval.
        frame: Frame,
    },
    /// `< update ID DLC b… >`.
    Update(Frame),
    /// `< delete ID >`.
    Delete(CanId),
    /// `< filter SEC USEC ID DLC mask… >`.
    Filter {
        /// Throttle interval (0 = none).
        interval_us: u64,
        /// The id.
        id: CanId,
        /// Bits whose change is reported.
        mask: Vec<u8>,
    },
    /// `< muxfilter SEC USEC ID N tuple… >`: tuple 0 is the mux mask.
    Muxfilter {
        /// Throttle interval.
        interval_us: u64,
        /// The id.
        id: CanId,
        /// The 8-byte tuples.
        tuples: Vec<[u8; 8]>,
    },
    /// `< subscribe SEC USEC ID >`.
    Subscribe {
        /// Throttle interval (0 = every frame).
        interval_us: u64,
        /// The id.
        id: CanId,
    },
    /// `< unsubscribe ID >`.
    Unsubscribe(CanId),
    /// `< subscribe SEC USEC ID >` with `CAN_ERR_FLAG` (0x20000000) in ID:
    /// error frames whose class shares a bit with `classes` (ID's low 29 bits).
    SubscribeErrors {
        /// Throttle interval: at most one error frame per interval.
        interval_us: u64,
        /// The error classes (`CAN_ERR_MASK` bits).
        classes: u32,
    },
    /// `< unsubscribe ID >` with `CAN_ERR_FLAG` in ID.
    UnsubscribeErrors,
    /// `< statistics IVAL_MS >`.
    Statistics {
        /// 0 = off.
        interval_ms: u32,
    },
    /// `< isotpconf … >`.
    IsoTpConf(IsoTpConf),
    /// `< sendpdu HEX >`.
    SendPdu(Vec<u8>),
    /// A command socketcand does not know.
    Unknown,
}

/// A known command whose fields are wrong: socketcand logs it and replies nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The command word.
    pub command: String,
    /// What was wrong.
    pub reason: &'static str,
}

/// `CAN_ERR_FLAG`: the id names error frames (socketcand passes it to the kernel's BCM).
const ERR_FLAG: u32 = 0x2000_0000;

/// The class bits of an error id (`CAN_ERR_FLAG` set, EFF bit 31 allowed), if it is one.
fn error_id(token: &str) -> Option<u32> {
    if token.is_empty() || token.len() > 8 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let raw = u32::from_str_radix(token, 16).ok()?;
    (raw & ERR_FLAG != 0 && raw & 0x4000_0000 == 0).then_some(raw & 0x1FFF_FFFF)
}

fn can_id(token: &str) -> Result<CanId, &'static str> {
    parse_id(token)
        .map(|(id, extended)| CanId { id, extended })
        .ok_or("the id is not 1..8 hex digits of an 11- or 29-bit id")
}

/// `ID DLC b…` with DLC decimal 0..8 and exactly DLC byte tokens.
fn classic_frame(args: &[&str]) -> Result<Frame, &'static str> {
    let [id, dlc, bytes @ ..] = args else {
        return Err("expected ID DLC and DLC data bytes");
    };
    let id = can_id(id)?;
    let dlc = parse_decimal(dlc, 8).ok_or("DLC must be 0..8 (decimal)")?;
    if bytes.len() as u64 != dlc {
        return Err("the number of data bytes differs from the DLC");
    }
    let data = parse_bytes(bytes).ok_or("a data byte is not 1..2 hex digits")?;
    Ok(Frame::classic(id.id, id.extended, &data))
}

/// `ID LEN b…` with LEN a CAN FD length.
fn fd_frame(args: &[&str]) -> Result<Frame, &'static str> {
    let [id, len, bytes @ ..] = args else {
        return Err("expected ID LEN and LEN data bytes");
    };
    let id = can_id(id)?;
    let len = parse_decimal(len, 64)
        .filter(|l| FD_LENGTHS.contains(&(*l as u8)))
        .ok_or("LEN must be a CAN FD length: 0..8, 12, 16, 20, 24, 32, 48, 64")?;
    if bytes.len() as u64 != len {
        return Err("the number of data bytes differs from LEN");
    }
    let data = parse_bytes(bytes).ok_or("a data byte is not 1..2 hex digits")?;
    Ok(Frame::fd(id.id, id.extended, &data, false))
}

fn interval(args: &[&str]) -> Result<u64, &'static str> {
    match args {
        [sec, usec, ..] => {
            parse_interval(sec, usec).ok_or("SEC USEC must be decimal and at most one day in all")
        }
        _ => Err("expected SEC USEC"),
    }
}

fn muxfilter(args: &[&str]) -> Result<Command, &'static str> {
    let interval_us = interval(args)?;
    let [_, _, id, n, bytes @ ..] = args else {
        return Err("expected SEC USEC ID N and N 8-byte tuples");
    };
    let id = can_id(id)?;
    let n = parse_decimal(n, 257)
        .filter(|n| *n >= 2)
        .ok_or("N must be 2..257")? as usize;
    if bytes.len() != n * 8 {
        return Err("the number of bytes differs from N * 8");
    }
    let bytes = parse_bytes(bytes).ok_or("a data byte is not 1..2 hex digits")?;
    let tuples = bytes
        .chunks_exact(8)
        .map(|c| {
            let mut t = [0u8; 8];
            t.copy_from_slice(c);
            t
        })
        .collect();
    Ok(Command::Muxfilter {
        interval_us,
        id,
        tuples,
    })
}

fn isotpconf(args: &[&str]) -> Result<IsoTpConf, &'static str> {
    if args.len() < 5 || args.len() > 10 {
        return Err("expected TX_ID RX_ID FLAGS BS STMIN [WFTMAX TXPAD RXPAD EXT RXEXT]");
    }
    let flags = parse_hex(args[2], u64::from(isotp_flags::ALL))
        .ok_or("FLAGS must be hex CAN_ISOTP_* bits")? as u32;
    let needed = if flags & isotp_flags::RX_EXT_ADDR != 0 {
        10
    } else if flags & isotp_flags::EXTEND_ADDR != 0 {
        9
    } else if flags & isotp_flags::RX_PADDING != 0 {
        8
    } else if flags & isotp_flags::TX_PADDING != 0 {
        7
    } else {
        5
    };
    if args.len() < needed {
        return Err("the flags need more trailing fields");
    }
    let hex_byte = |i: usize| -> Result<u8, &'static str> {
        args.get(i)
            .map_or(Some(0), |t| parse_hex(t, 0xFF))
            .map(|v| v as u8)
            .ok_or("a pad or address byte is not hex 00..FF")
    };
    Ok(IsoTpConf {
        tx: can_id(args[0])?,
        rx: can_id(args[1])?,
        flags,
        blocksize: parse_decimal(args[3], 255).ok_or("BS must be decimal 0..255")? as u8,
        stmin: parse_hex(args[4], 0xFF).ok_or("STMIN must be hex 00..FF")? as u8,
        wftmax: args
            .get(5)
            .map_or(Some(0), |t| parse_decimal(t, 255))
            .ok_or("WFTMAX must be decimal 0..255")? as u8,
        txpad: hex_byte(6)?,
        rxpad: hex_byte(7)?,
        ext: hex_byte(8)?,
        rxext: hex_byte(9)?,
    })
}

/// Reads one element a client sent.
pub fn parse_command(element: &[u8]) -> Result<Command, Malformed> {
    let Some(words) = words(element) else {
        return Ok(Command::Unknown);
    };
    let Some((&first, args)) = words.split_first() else {
        return Ok(Command::Unknown);
    };
    let malformed = |reason| Malformed {
        command: first.to_string(),
        reason,
    };
    let no_args = |command| {
        if args.is_empty() {
            Ok(command)
        } else {
            Ok(Command::Unknown)
        }
    };
    match first {
        "rawmode" => no_args(Command::SwitchMode(Mode::Raw)),
        "bcmmode" => no_args(Command::SwitchMode(Mode::Bcm)),
        "controlmode" => no_args(Command::SwitchMode(Mode::Control)),
        "isotpmode" => no_args(Command::SwitchMode(Mode::IsoTp)),
        "echo" => no_args(Command::Echo),
        "open" => match args {
            [bus] if bus.len() <= MAX_BUS_NAME_LEN => Ok(Command::Open(bus.to_string())),
            [_] => Err(malformed("a bus name has at most 15 characters")),
            _ => Err(malformed("expected one bus name")),
        },
        "send" => classic_frame(args).map(Command::Send).map_err(malformed),
        "sendfd" => fd_frame(args).map(Command::Send).map_err(malformed),
        "add" => {
            let interval_us = interval(args).map_err(malformed)?;
            let frame = classic_frame(&args[2..]).map_err(malformed)?;
            if interval_us == 0 {
                return Err(malformed("a cyclic job needs an interval above 0"));
            }
            Ok(Command::Add { interval_us, frame })
        }
        "update" => classic_frame(args).map(Command::Update).map_err(malformed),
        "unsubscribe" if matches!(args, [id] if error_id(id).is_some()) => {
            Ok(Command::UnsubscribeErrors)
        }
        "subscribe" if matches!(args, [_, _, id] if error_id(id).is_some()) => {
            Ok(Command::SubscribeErrors {
                interval_us: interval(args).map_err(malformed)?,
                classes: error_id(args[2]).unwrap_or(0),
            })
        }
        "delete" | "unsubscribe" => match args {
            [id] => {
                let id = can_id(id).map_err(malformed)?;
                Ok(if first == "delete" {
                    Command::Delete(id)
                } else {
                    Command::Unsubscribe(id)
                })
            }
            _ => Err(malformed("expected one ID")),
        },
        "subscribe" => match args {
            [_, _, id] => Ok(Command::Subscribe {
                interval_us: interval(args).map_err(malformed)?,
                id: can_id(id).map_err(malformed)?,
            }),
            _ => Err(malformed("expected SEC USEC ID")),
        },
        "filter" => {
            let interval_us = interval(args).map_err(malformed)?;
            let frame = classic_frame(&args[2..]).map_err(malformed)?;
            Ok(Command::Filter {
                interval_us,
                id: CanId {
                    id: frame.id,
                    extended: frame.is_extended(),
                },
                mask: frame.data().to_vec(),
            })
        }
        "muxfilter" => muxfilter(args).map_err(malformed),
        "statistics" => match args {
            [ms] => Ok(Command::Statistics {
                interval_ms: parse_decimal(ms, u64::from(u32::MAX))
                    .ok_or(malformed("IVAL_MS must be decimal milliseconds"))?
                    as u32,
            }),
            _ => Err(malformed("expected IVAL_MS")),
        },
        "isotpconf" => isotpconf(args).map(Command::IsoTpConf).map_err(malformed),
        "sendpdu" => match args {
            [hex] => parse_hex_string(hex, MAX_PDU_LEN)
                .filter(|p| !p.is_empty())
                .map(Command::SendPdu)
                .ok_or(malformed(
                    "expected 1..4095 bytes as an even-length hex string",
                )),
            _ => Err(malformed("expected one hex string")),
        },
        bus if matches!(args.first(), Some(&"B") | Some(&"C")) => Ok(Command::Configure {
            bus: bus.to_string(),
            op: if args[0] == "B" { 'B' } else { 'C' },
            change: if args[0] == "B" {
                decimal_fields(&args[1..]).map(BusChange::Timing)
            } else {
                decimal_fields(&args[1..])
                    .filter(|f: &[i64; 3]| f.iter().all(|v| *v == 0 || *v == 1))
                    .map(BusChange::Modes)
            },
        }),
        _ => Ok(Command::Unknown),
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
