//! Readers for the argument shapes the CAN driver's methods share
//! (timeouts, uuids, flags), each naming the argument in its error.

use std::time::Duration;

use prost_types::Value;
use tonic::Status;

use crate::value::{self, as_bool, as_f64, as_str};

use super::call_status::status_of;

/// The path of argument `index` in error messages (`args[1]`).
pub fn path(index: usize) -> String {
    format!("args[{index}]")
}

/// Optional seconds (`null` = none): a finite number, 0 or more.
pub fn seconds(args: &[Value], index: usize) -> Result<Option<Duration>, Status> {
    let v = value::arg(args, index);
    if value::is_null(v) {
        return Ok(None);
    }
    let s = as_f64(v, &path(index)).map_err(|e| status_of(&e))?;
    if s < 0.0 {
        return Err(Status::invalid_argument(format!(
            "{} must be 0 or more seconds, got {s}",
            path(index)
        )));
    }
    Duration::try_from_secs_f64(s)
        .map(Some)
        .map_err(|_| Status::invalid_argument(format!("{} is too many seconds: {s}", path(index))))
}

/// A boolean, `default` when null or missing.
pub fn flag(args: &[Value], index: usize, default: bool) -> Result<bool, Status> {
    let v = value::arg(args, index);
    if value::is_null(v) {
        return Ok(default);
    }
    as_bool(v, &path(index)).map_err(|e| status_of(&e))
}

/// A uuid in canonical text, as Python's `UUID(...)` reads it.
pub fn task_uuid(args: &[Value], index: usize) -> Result<uuid::Uuid, Status> {
    let text = as_str(value::arg(args, index), &path(index)).map_err(|e| status_of(&e))?;
    uuid::Uuid::parse_str(text).map_err(|_| {
        Status::invalid_argument(format!(
            "{} must be a task uuid as _send_periodic_internal returned it, got '{text}'",
            path(index)
        ))
    })
}

/// Refuses arguments past the `max` a method takes.
pub fn at_most(args: &[Value], max: usize, method: &str) -> Result<(), Status> {
    if args.len() > max {
        return Err(Status::invalid_argument(format!(
            "{method} takes at most {max} arguments, got {}",
            args.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn seconds_are_null_or_a_non_negative_number() {
        assert_eq!(seconds(&[], 0).unwrap(), None);
        assert_eq!(
            seconds(&[value::number(0.25)], 0).unwrap(),
            Some(Duration::from_millis(250))
        );
        let e = seconds(&[value::number(-1.0)], 0).unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert_eq!(e.message(), "args[0] must be 0 or more seconds, got -1");
        let e = seconds(&[value::null(), value::string("x")], 1).unwrap_err();
        assert_eq!(e.message(), "args[1] must be a finite number, got a string");
    }

    #[test]
    fn a_task_uuid_must_parse() {
        let e = task_uuid(&[value::string("abc")], 0).unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().starts_with("args[0] must be a task uuid"));
        let e = at_most(&vec![value::null(); 3], 2, "state").unwrap_err();
        assert_eq!(e.message(), "state takes at most 2 arguments, got 3");
    }
}
