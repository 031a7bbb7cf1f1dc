//! The values of the ISO-TP driver's calls, as the Python `IsoTpClient`
//! makes and reads them: `send`'s arguments, `recv`'s result, and
//! `set_address`'s `IsoTpAddress`.

use canwire_core::error::Result;
use canwire_core::isotp::{IsoTpAddress, TargetAddressType};
use canwire_core::{CanwireError, ErrorCode};
use prost_types::Value;

use crate::value;

/// The payload of a `recv` result (`{data: base64|null}`), if any.
pub fn payload_of(result: &Value) -> Result<Option<Vec<u8>>> {
    let fields = value::as_object(result, "recv result")?;
    let data = value::field(fields, "data", "recv result")?;
    if value::is_null(data) {
        return Ok(None);
    }
    value::as_bytes(data, "recv result.data").map(Some)
}

/// The arguments of the driver's `send`.
pub fn send_args(data: &[u8], target: Option<TargetAddressType>) -> Vec<Value> {
    vec![
        value::object([("data", value::bytes(data))]),
        match target {
            None => value::null(),
            Some(TargetAddressType::Physical) => value::number(0.0),
            Some(TargetAddressType::Functional) => value::number(1.0),
        },
        value::null(),
    ]
}

/// The driver's `IsoTpAddress` for a normal-addressing canwire address;
/// other modes are `ERR_UNSUPPORTED` (canwire keeps them resolved to CAN
/// ids and prefixes, which the Python address cannot be rebuilt from).
pub fn address_value(address: &IsoTpAddress) -> Result<Value> {
    let (Some(tx), Some(rx)) = (address.tx(), address.rx()) else {
        return Err(unsupported_address());
    };
    if tx.prefix.is_some()
        || rx.prefix.is_some()
        || tx.physical_id != tx.functional_id
        || tx.extended != rx.extended
    {
        return Err(unsupported_address());
    }
    let mode = if tx.extended { 1.0 } else { 0.0 };
    Ok(value::object([
        ("addressing_mode", value::number(mode)),
        ("txid", value::number(f64::from(tx.physical_id))),
        ("rxid", value::number(f64::from(rx.physical_id))),
        ("target_address", value::null()),
        ("source_address", value::null()),
        ("physical_id", value::null()),
        ("functional_id", value::null()),
        ("address_extension", value::null()),
        ("rx_only", value::boolean(false)),
        ("tx_only", value::boolean(false)),
    ]))
}

fn unsupported_address() -> CanwireError {
    CanwireError::new(
        ErrorCode::Unsupported,
        "setAddress on a Jumpstarter ISO-TP driver takes a normal address (txid and rxid, 11 or 29 bits, both directions)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::isotp::AddressConfig;

    #[test]
    fn a_send_is_the_payload_as_base64_the_target_type_and_no_timeout() {
        let args = send_args(&[0x10, 0x20], Some(TargetAddressType::Functional));
        let fields = value::as_object(&args[0], "a").unwrap();
        assert_eq!(value::as_str(&fields["data"], "d").unwrap(), "ECA=");
        assert_eq!(value::as_f64(&args[1], "t").unwrap(), 1.0);
        assert!(value::is_null(&args[2]));
        assert!(value::is_null(&send_args(&[], None)[1]));
    }

    #[test]
    fn a_recv_result_is_a_payload_or_nothing() {
        let got = value::object([("data", value::bytes(&[1, 2, 3]))]);
        assert_eq!(payload_of(&got).unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(
            payload_of(&value::object([("data", value::null())])).unwrap(),
            None
        );
        assert_eq!(
            payload_of(&value::null()).unwrap_err().message,
            "recv result must be an object, got null"
        );
    }

    #[test]
    fn a_normal_address_becomes_the_drivers_ten_keys_and_others_are_refused() {
        let address = IsoTpAddress::new(AddressConfig::normal(false, 0x7e0, 0x7e8)).unwrap();
        let v = address_value(&address).unwrap();
        let fields = value::as_object(&v, "a").unwrap();
        assert_eq!(fields.len(), 10);
        assert_eq!(value::as_f64(&fields["txid"], "t").unwrap(), 2016.0);
        assert_eq!(value::as_f64(&fields["rxid"], "r").unwrap(), 2024.0);
        assert_eq!(value::as_f64(&fields["addressing_mode"], "m").unwrap(), 0.0);
        let extended =
            IsoTpAddress::new(AddressConfig::extended(false, 0x7e0, 0x7e8, 0x55, 0xaa)).unwrap();
        assert_eq!(
            address_value(&extended).unwrap_err().code,
            ErrorCode::Unsupported
        );
    }
}
