//! The CAN driver's `CanMessage` (python-can's `Message` as pydantic dumps
//! it) and canwire's `Frame`. All twelve keys are always written and always
//! required when read, as the Python driver requires them.

use canwire_core::error::Result;
use canwire_core::{Frame, FrameFlags};
use prost_types::Value;

use crate::value::{self, as_bool, as_bytes, as_f64, as_int, as_object, field};

/// The keys of a `CanMessage`, in the order the Python driver writes them.
pub const KEYS: [&str; 12] = [
    "timestamp",
    "arbitration_id",
    "is_extended_id",
    "is_remote_frame",
    "is_error_frame",
    "channel",
    "dlc",
    "data",
    "is_fd",
    "is_rx",
    "bitrate_switch",
    "error_state_indicator",
];

/// `frame` as a `CanMessage`: `channel` is the bus's channel name (or null),
/// `dlc` the data length (a remote frame's requested length, with empty data).
pub fn to_value(frame: &Frame, channel: Option<&str>) -> Value {
    let flags = frame.flags;
    let data: &[u8] = if frame.is_remote() { &[] } else { frame.data() };
    value::object([
        ("timestamp", value::number(seconds(frame.timestamp_ns))),
        ("arbitration_id", value::number(f64::from(frame.id))),
        ("is_extended_id", value::boolean(frame.is_extended())),
        ("is_remote_frame", value::boolean(frame.is_remote())),
        ("is_error_frame", value::boolean(frame.is_error())),
        ("channel", channel.map_or_else(value::null, value::string)),
        ("dlc", value::number(f64::from(frame.requested_len()))),
        ("data", value::bytes(data)),
        ("is_fd", value::boolean(frame.is_fd())),
        ("is_rx", value::boolean(!flags.has(FrameFlags::TX))),
        ("bitrate_switch", value::boolean(flags.has(FrameFlags::BRS))),
        (
            "error_state_indicator",
            value::boolean(flags.has(FrameFlags::ESI)),
        ),
    ])
}

const NS_PER_S: u64 = 1_000_000_000;

/// Epoch nanoseconds as float seconds, whole seconds and fraction apart so a
/// fraction such as .25 stays exact.
fn seconds(ns: u64) -> f64 {
    (ns / NS_PER_S) as f64 + (ns % NS_PER_S) as f64 / 1e9
}

/// Float seconds (0 or more) as nanoseconds, to the nearest nanosecond the double holds.
fn nanoseconds(s: f64) -> u64 {
    let whole = s.trunc();
    whole as u64 * NS_PER_S + ((s - whole) * 1e9).round() as u64
}

/// The frame a `CanMessage` describes, validated by canwire's frame rules
/// (the data decides the length; `dlc` only gives a remote frame's length).
/// `path` names the value in errors (`args[0]`).
pub fn from_value(message: &Value, path: &str) -> Result<Frame> {
    let fields = as_object(message, path)?;
    let get = |key: &str| field(fields, key, path);
    let at = |key: &str| format!("{path}.{key}");
    for key in KEYS {
        get(key)?;
    }
    let id = as_int(
        get("arbitration_id")?,
        &at("arbitration_id"),
        0,
        i64::from(u32::MAX),
    )? as u32;
    let extended = as_bool(get("is_extended_id")?, &at("is_extended_id"))?;
    let remote = as_bool(get("is_remote_frame")?, &at("is_remote_frame"))?;
    let error = as_bool(get("is_error_frame")?, &at("is_error_frame"))?;
    let fd = as_bool(get("is_fd")?, &at("is_fd"))?;
    let brs = as_bool(get("bitrate_switch")?, &at("bitrate_switch"))?;
    let esi = as_bool(get("error_state_indicator")?, &at("error_state_indicator"))?;
    let is_rx = as_bool(get("is_rx")?, &at("is_rx"))?;
    let data = as_bytes(get("data")?, &at("data"))?;
    let timestamp = get("timestamp")?;
    let timestamp_s = if value::is_null(timestamp) {
        0.0
    } else {
        as_f64(timestamp, &at("timestamp"))?
    };
    let dlc = get("dlc")?;
    let mut frame = if remote {
        let requested = if value::is_null(dlc) {
            0
        } else {
            as_int(dlc, &at("dlc"), 0, 8)? as u8
        };
        Frame::remote(id, extended, requested)
    } else if fd {
        Frame::fd(id, extended, &data, brs)
    } else {
        Frame::classic(id, extended, &data)
    };
    frame.flags.set(FrameFlags::ERROR, error);
    frame.flags.set(FrameFlags::ESI, esi);
    frame.flags.set(FrameFlags::TX, !is_rx);
    if !fd {
        frame.flags.set(FrameFlags::BRS, brs);
    }
    if timestamp_s < 0.0 {
        return Err(canwire_core::CanwireError::invalid_argument(format!(
            "{path}.timestamp must be 0 or more seconds, got {timestamp_s}"
        )));
    }
    frame.timestamp_ns = nanoseconds(timestamp_s);
    frame.validate()?;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{as_str, kind_name};
    use prost_types::value::Kind;

    fn fields(v: &Value) -> &std::collections::BTreeMap<String, Value> {
        as_object(v, "m").unwrap()
    }

    #[test]
    fn a_received_extended_frame_has_the_twelve_keys_python_writes() {
        let mut frame = Frame::classic(417_001_744, true, &[0x10, 0x20]);
        frame.timestamp_ns = 1_700_000_000_250_000_000;
        let v = to_value(&frame, Some("js0"));
        let f = fields(&v);
        assert_eq!(f.keys().cloned().collect::<Vec<_>>().len(), 12);
        for key in KEYS {
            assert!(f.contains_key(key), "{key}");
        }
        assert_eq!(
            f["arbitration_id"].kind,
            Some(Kind::NumberValue(417_001_744.0))
        );
        assert_eq!(as_str(&f["data"], "d").unwrap(), "ECA=");
        assert_eq!(f["dlc"].kind, Some(Kind::NumberValue(2.0)));
        assert_eq!(f["is_rx"].kind, Some(Kind::BoolValue(true)));
        assert_eq!(as_str(&f["channel"], "c").unwrap(), "js0");
        assert_eq!(
            f["timestamp"].kind,
            Some(Kind::NumberValue(1_700_000_000.25))
        );
        assert_eq!(from_value(&v, "m").unwrap(), {
            let mut back = frame;
            back.timestamp_ns = 1_700_000_000_250_000_000;
            back
        });
    }

    #[test]
    fn fd_remote_and_error_frames_round_trip() {
        let mut fd = Frame::fd(0x18DA_F110, true, &[0x10; 12], true);
        fd.flags.set(FrameFlags::ESI, true);
        let remote = Frame::remote(0x123, false, 4);
        let mut error = Frame::classic(0x4, true, &[0, 4, 0, 0, 0, 0, 0, 0]);
        error.flags.set(FrameFlags::ERROR, true);
        for frame in [fd, remote, error] {
            assert_eq!(from_value(&to_value(&frame, None), "m").unwrap(), frame);
        }
        let remote_fields = to_value(&remote, None);
        assert_eq!(as_str(&fields(&remote_fields)["data"], "d").unwrap(), "");
        assert_eq!(
            fields(&remote_fields)["dlc"].kind,
            Some(Kind::NumberValue(4.0))
        );
        assert_eq!(kind_name(&fields(&remote_fields)["channel"]), "null");
    }

    #[test]
    fn a_missing_key_is_named() {
        let v = to_value(&Frame::classic(1, false, &[]), None);
        let mut f = fields(&v).clone();
        f.remove("is_rx");
        let v = Value {
            kind: Some(Kind::StructValue(prost_types::Struct { fields: f })),
        };
        let e = from_value(&v, "args[0]").unwrap_err();
        assert_eq!(e.code.as_str(), "ERR_INVALID_ARGUMENT");
        assert_eq!(e.message, "args[0].is_rx: field required");
    }

    #[test]
    fn canwire_frame_rules_apply() {
        let mut f = fields(&to_value(&Frame::classic(0x800, false, &[]), None)).clone();
        f.insert("arbitration_id".into(), value::number(2048.0));
        let v = Value {
            kind: Some(Kind::StructValue(prost_types::Struct { fields: f })),
        };
        assert_eq!(
            from_value(&v, "m").unwrap_err().code.as_str(),
            "ERR_ID_OUT_OF_RANGE"
        );
    }
}
