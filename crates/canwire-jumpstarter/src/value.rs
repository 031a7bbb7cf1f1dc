//! `google.protobuf.Value` as Jumpstarter's drivers use it: numbers are
//! doubles, `None` is `null_value` (a missing value reads as null too), bytes
//! are standard padded base64 strings, structs have string keys.
//!
//! Readers take the path of the value (`args[0].arbitration_id`) so a wrong
//! argument is an `ERR_INVALID_ARGUMENT` that names it and what is allowed.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use canwire_core::CanwireError;
use canwire_core::error::Result;
use prost_types::value::Kind;
use prost_types::{ListValue, Struct, Value};

/// `null`.
pub fn null() -> Value {
    Value {
        kind: Some(Kind::NullValue(0)),
    }
}

/// A number (every number travels as a double).
pub fn number(n: f64) -> Value {
    Value {
        kind: Some(Kind::NumberValue(n)),
    }
}

/// A string.
pub fn string(s: impl Into<String>) -> Value {
    Value {
        kind: Some(Kind::StringValue(s.into())),
    }
}

/// A boolean.
pub fn boolean(b: bool) -> Value {
    Value {
        kind: Some(Kind::BoolValue(b)),
    }
}

/// A list.
pub fn list(values: Vec<Value>) -> Value {
    Value {
        kind: Some(Kind::ListValue(ListValue { values })),
    }
}

/// A struct from key/value pairs.
pub fn object<'a>(fields: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value {
        kind: Some(Kind::StructValue(Struct {
            fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        })),
    }
}

/// Bytes as standard padded base64 (pydantic's `Base64Bytes`).
pub fn bytes(data: &[u8]) -> Value {
    string(STANDARD.encode(data))
}

/// A short name of what a value holds, for error messages.
pub fn kind_name(value: &Value) -> &'static str {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => "null",
        Some(Kind::NumberValue(_)) => "a number",
        Some(Kind::StringValue(_)) => "a string",
        Some(Kind::BoolValue(_)) => "a boolean",
        Some(Kind::StructValue(_)) => "an object",
        Some(Kind::ListValue(_)) => "a list",
    }
}

fn wrong(path: &str, expected: &str, value: &Value) -> CanwireError {
    CanwireError::invalid_argument(format!(
        "{path} must be {expected}, got {}",
        kind_name(value)
    ))
}

/// True for `null` and for a value with no kind set.
pub fn is_null(value: &Value) -> bool {
    matches!(value.kind, None | Some(Kind::NullValue(_)))
}

/// A number.
pub fn as_f64(value: &Value, path: &str) -> Result<f64> {
    match value.kind {
        Some(Kind::NumberValue(n)) if n.is_finite() => Ok(n),
        _ => Err(wrong(path, "a finite number", value)),
    }
}

/// A whole number in `min..=max` (a double with no fraction, as pydantic accepts).
pub fn as_int(value: &Value, path: &str, min: i64, max: i64) -> Result<i64> {
    let n = as_f64(value, path)?;
    if n.fract() != 0.0 || n < min as f64 || n > max as f64 {
        return Err(CanwireError::invalid_argument(format!(
            "{path} must be a whole number in {min}..={max}, got {n}"
        )));
    }
    Ok(n as i64)
}

/// A boolean (0 and 1 are accepted as pydantic does).
pub fn as_bool(value: &Value, path: &str) -> Result<bool> {
    match value.kind {
        Some(Kind::BoolValue(b)) => Ok(b),
        Some(Kind::NumberValue(n)) if n == 0.0 || n == 1.0 => Ok(n == 1.0),
        _ => Err(wrong(path, "a boolean", value)),
    }
}

/// A string.
pub fn as_str<'a>(value: &'a Value, path: &str) -> Result<&'a str> {
    match &value.kind {
        Some(Kind::StringValue(s)) => Ok(s),
        _ => Err(wrong(path, "a string", value)),
    }
}

/// A list's items.
pub fn as_list<'a>(value: &'a Value, path: &str) -> Result<&'a [Value]> {
    match &value.kind {
        Some(Kind::ListValue(l)) => Ok(&l.values),
        _ => Err(wrong(path, "a list", value)),
    }
}

/// A struct's fields.
pub fn as_object<'a>(value: &'a Value, path: &str) -> Result<&'a BTreeMap<String, Value>> {
    match &value.kind {
        Some(Kind::StructValue(s)) => Ok(&s.fields),
        _ => Err(wrong(path, "an object", value)),
    }
}

/// The field `key` of a struct, which must be present (it may be null).
pub fn field<'a>(fields: &'a BTreeMap<String, Value>, key: &str, path: &str) -> Result<&'a Value> {
    fields
        .get(key)
        .ok_or_else(|| CanwireError::invalid_argument(format!("{path}.{key}: field required")))
}

/// The `index`th argument of a call; missing arguments read as null.
pub fn arg(args: &[Value], index: usize) -> &Value {
    static NULL: Value = Value { kind: None };
    args.get(index).unwrap_or(&NULL)
}

/// Bytes from base64 (standard alphabet, padding required, line breaks
/// ignored, as Python's `b64decode` reads pydantic's `Base64Bytes`); null is empty.
pub fn as_bytes(value: &Value, path: &str) -> Result<Vec<u8>> {
    if is_null(value) {
        return Ok(Vec::new());
    }
    let text = as_str(value, path)?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).map_err(|e| {
        CanwireError::invalid_argument(format!("{path} must be standard base64 with padding: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_padded_standard_base64_and_read_back() {
        let v = bytes(&[0xaa, 0xbb]);
        assert_eq!(as_str(&v, "data").unwrap(), "qrs=");
        assert_eq!(as_bytes(&v, "data").unwrap(), vec![0xaa, 0xbb]);
        assert_eq!(
            as_bytes(&string("qrs=\n"), "data").unwrap(),
            vec![0xaa, 0xbb]
        );
        assert_eq!(as_bytes(&null(), "data").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn unpadded_base64_is_refused_naming_the_path() {
        let e = as_bytes(&string("3q0"), "args[0].data").unwrap_err();
        assert_eq!(e.code.as_str(), "ERR_INVALID_ARGUMENT");
        assert!(
            e.message
                .starts_with("args[0].data must be standard base64"),
            "{}",
            e.message
        );
    }

    #[test]
    fn whole_numbers_only_within_their_range() {
        assert_eq!(as_int(&number(291.0), "id", 0, 0x7ff).unwrap(), 291);
        let e = as_int(&number(291.5), "id", 0, 0x7ff).unwrap_err();
        assert_eq!(
            e.message,
            "id must be a whole number in 0..=2047, got 291.5"
        );
        let e = as_int(&string("1"), "id", 0, 1).unwrap_err();
        assert_eq!(e.message, "id must be a finite number, got a string");
    }

    #[test]
    fn a_missing_value_is_null() {
        assert!(is_null(&Value { kind: None }));
        assert!(is_null(arg(&[], 3)));
    }
}
