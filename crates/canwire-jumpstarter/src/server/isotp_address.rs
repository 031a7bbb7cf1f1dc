//! The ISO-TP driver's `set_address` argument (C7): an `IsoTpAddress`
//! (python-can-isotp's `Address`, every key present) or
//! `{tx_addr, rx_addr}` (its `AsymmetricAddress`).

use std::collections::BTreeMap;

use canwire_core::error::Result;
use canwire_core::isotp::{AddressConfig, AddressingMode, IsoTpAddress};
use canwire_core::{CanwireError, frame::EXTENDED_ID_MAX};
use prost_types::Value;

use crate::value::{self, as_bool, as_int, as_object, field};

/// Addressing modes by python-can-isotp's number.
const MODES: [AddressingMode; 7] = [
    AddressingMode::Normal11Bits,
    AddressingMode::Normal29Bits,
    AddressingMode::NormalFixed29Bits,
    AddressingMode::Extended11Bits,
    AddressingMode::Extended29Bits,
    AddressingMode::Mixed11Bits,
    AddressingMode::Mixed29Bits,
];

/// The keys of an `IsoTpAddress`.
pub const ADDRESS_KEYS: [&str; 10] = [
    "addressing_mode",
    "txid",
    "rxid",
    "target_address",
    "source_address",
    "physical_id",
    "functional_id",
    "address_extension",
    "rx_only",
    "tx_only",
];

fn optional(
    fields: &BTreeMap<String, Value>,
    key: &str,
    path: &str,
    max: i64,
) -> Result<Option<i64>> {
    let v = field(fields, key, path)?;
    if value::is_null(v) {
        Ok(None)
    } else {
        as_int(v, &format!("{path}.{key}"), 0, max).map(Some)
    }
}

/// One `IsoTpAddress`: its configuration and its `rx_only` / `tx_only` flags.
fn config(value: &Value, path: &str) -> Result<(AddressConfig, bool, bool)> {
    let fields = as_object(value, path)?;
    for key in ADDRESS_KEYS {
        field(fields, key, path)?;
    }
    let mode = as_int(
        field(fields, "addressing_mode", path)?,
        &format!("{path}.addressing_mode"),
        0,
        6,
    )? as usize;
    let id =
        |key| optional(fields, key, path, i64::from(EXTENDED_ID_MAX)).map(|v| v.map(|n| n as u32));
    let byte = |key| optional(fields, key, path, 0xff).map(|v| v.map(|n| n as u8));
    let config = AddressConfig {
        mode: MODES[mode],
        txid: id("txid")?,
        rxid: id("rxid")?,
        target_address: byte("target_address")?,
        source_address: byte("source_address")?,
        address_extension: byte("address_extension")?,
        physical_id: id("physical_id")?,
        functional_id: id("functional_id")?,
    };
    let rx_only = as_bool(field(fields, "rx_only", path)?, &format!("{path}.rx_only"))?;
    let tx_only = as_bool(field(fields, "tx_only", path)?, &format!("{path}.tx_only"))?;
    if rx_only && tx_only {
        return Err(CanwireError::invalid_argument(format!(
            "{path}: rx_only and tx_only cannot both be true"
        )));
    }
    Ok((config, rx_only, tx_only))
}

/// The address `value` describes.
pub fn parse_address(value: &Value, path: &str) -> Result<IsoTpAddress> {
    let fields = as_object(value, path)?;
    if fields.contains_key("tx_addr") || fields.contains_key("rx_addr") {
        let (tx, ..) = config(field(fields, "tx_addr", path)?, &format!("{path}.tx_addr"))?;
        let (rx, ..) = config(field(fields, "rx_addr", path)?, &format!("{path}.rx_addr"))?;
        return IsoTpAddress::asymmetric(tx, rx);
    }
    match config(value, path)? {
        (c, true, _) => IsoTpAddress::rx_only(c),
        (c, _, true) => IsoTpAddress::tx_only(c),
        (c, ..) => IsoTpAddress::new(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(mode: f64, txid: f64, rxid: f64) -> Value {
        let mut pairs: Vec<(&str, Value)> =
            ADDRESS_KEYS.iter().map(|k| (*k, value::null())).collect();
        pairs[0].1 = value::number(mode);
        pairs[1].1 = value::number(txid);
        pairs[2].1 = value::number(rxid);
        pairs[8].1 = value::boolean(false);
        pairs[9].1 = value::boolean(false);
        value::object(pairs)
    }

    #[test]
    fn the_client_shape_of_normal_11_bits_parses() {
        let a = parse_address(&address(0.0, 2016.0, 2024.0), "args[0]").unwrap();
        let expected = IsoTpAddress::new(AddressConfig::normal(false, 0x7e0, 0x7e8)).unwrap();
        assert_eq!(a, expected);
    }

    #[test]
    fn asymmetric_and_bad_modes() {
        let v = value::object([
            ("tx_addr", address(1.0, 0x18da_f110 as f64, 0.0)),
            ("rx_addr", address(1.0, 0.0, 0x18da_10f1 as f64)),
        ]);
        assert!(parse_address(&v, "args[0]").is_ok());
        let e = parse_address(&address(7.0, 1.0, 2.0), "args[0]").unwrap_err();
        assert_eq!(
            e.message,
            "args[0].addressing_mode must be a whole number in 0..=6, got 7"
        );
        let e =
            parse_address(&value::object([("txid", value::number(1.0))]), "args[0]").unwrap_err();
        assert_eq!(e.message, "args[0].addressing_mode: field required");
    }
}
