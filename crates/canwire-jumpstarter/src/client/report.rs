//! Finding a driver in an exporter's `GetReport`: names are the
//! `jumpstarter.dev/name` labels, nested names form paths (`a/b`) by
//! following `parent_uuid`; an unnamed root (the Composite of an exporter
//! config) adds nothing to the path.

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};

use crate::proto::{DriverInstanceReport, GetReportResponse};

/// The label holding a driver's name.
pub const NAME_LABEL: &str = "jumpstarter.dev/name";
/// The label holding the Python client class of a driver.
pub const CLIENT_LABEL: &str = "jumpstarter.dev/client";
/// The client class of a `Can` driver.
pub const CAN_CLIENT: &str = "jumpstarter_driver_can.client.CanClient";
/// The client class of an `IsoTpPython` or `IsoTpSocket` driver.
pub const ISOTP_CLIENT: &str = "jumpstarter_driver_can.client.IsoTpClient";
/// The label a canwire exporter puts on a `Can` driver that offers the
/// batched calls (`canwire_recv_stream`, `canwire_send_batch`).
pub const STREAMING_LABEL: &str = "canwire.dev/streaming";

/// One driver found in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDriver {
    /// The driver instance's uuid, the target of its calls.
    pub uuid: String,
    /// Its path of names (`can`, `rig/can`).
    pub path: String,
    /// Its `jumpstarter.dev/client` label.
    pub client: String,
    /// True when it offers canwire's batched calls.
    pub streaming: bool,
}

/// The path of names of `report` in `reports`.
fn path_of(report: &DriverInstanceReport, reports: &[DriverInstanceReport]) -> String {
    let mut names = Vec::new();
    let mut current = Some(report);
    // a parent chain longer than the report is a cycle: stop there
    for _ in 0..=reports.len() {
        let Some(r) = current else { break };
        if let Some(name) = r.labels.get(NAME_LABEL) {
            names.push(name.as_str());
        }
        current = r
            .parent_uuid
            .as_deref()
            .and_then(|parent| reports.iter().find(|p| p.uuid == parent));
    }
    names.reverse();
    names.join("/")
}

/// The driver at `path` whose client class is `client`. The error names the
/// drivers the exporter has when none has that path, and the class found
/// when it is another kind of driver.
pub fn find_driver(report: &GetReportResponse, path: &str, client: &str) -> Result<FoundDriver> {
    let wanted = path.trim_matches('/');
    let paths: Vec<(String, &DriverInstanceReport)> = report
        .reports
        .iter()
        .map(|r| (path_of(r, &report.reports), r))
        .collect();
    let Some((found_path, found)) = paths.iter().find(|(p, _)| p == wanted) else {
        let mut names: Vec<&str> = paths
            .iter()
            .map(|(p, _)| p.as_str())
            .filter(|p| !p.is_empty())
            .collect();
        names.sort_unstable();
        return Err(CanwireError::new(
            ErrorCode::UnknownInterface,
            format!(
                "the exporter has no driver named '{wanted}'; it has: {}",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ),
        ));
    };
    let class = found.labels.get(CLIENT_LABEL).cloned().unwrap_or_default();
    if class != client {
        return Err(CanwireError::new(
            ErrorCode::Unsupported,
            format!("the driver '{wanted}' is a '{class}', not a '{client}'"),
        ));
    }
    Ok(FoundDriver {
        uuid: found.uuid.clone(),
        path: found_path.clone(),
        client: class,
        streaming: found.labels.get(STREAMING_LABEL).map(String::as_str) == Some("1"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(
        uuid: &str,
        parent: Option<&str>,
        name: Option<&str>,
        client: &str,
    ) -> DriverInstanceReport {
        let mut labels = std::collections::HashMap::new();
        labels.insert(CLIENT_LABEL.to_owned(), client.to_owned());
        if let Some(name) = name {
            labels.insert(NAME_LABEL.to_owned(), name.to_owned());
        }
        DriverInstanceReport {
            uuid: uuid.into(),
            parent_uuid: parent.map(Into::into),
            labels,
            ..DriverInstanceReport::default()
        }
    }

    /// The report of the C3 exporter config, plus a nested composite.
    fn report() -> GetReportResponse {
        let composite = "jumpstarter_driver_composite.client.CompositeClient";
        let mut streaming = driver("u-fast", Some("u-rig"), Some("fast"), CAN_CLIENT);
        streaming.labels.insert(STREAMING_LABEL.into(), "1".into());
        GetReportResponse {
            uuid: "exporter".into(),
            reports: vec![
                driver("u-root", None, None, composite),
                driver("u-can", Some("u-root"), Some("can"), CAN_CLIENT),
                driver("u-isotp", Some("u-root"), Some("isotp"), ISOTP_CLIENT),
                driver("u-rig", Some("u-root"), Some("rig"), composite),
                driver("u-rig-can", Some("u-rig"), Some("can"), CAN_CLIENT),
                streaming,
            ],
            ..GetReportResponse::default()
        }
    }

    #[test]
    fn names_and_nested_paths_find_their_driver() {
        let r = report();
        let can = find_driver(&r, "can", CAN_CLIENT).unwrap();
        assert_eq!(
            (can.uuid.as_str(), can.path.as_str(), can.streaming),
            ("u-can", "can", false)
        );
        assert_eq!(
            find_driver(&r, "rig/can", CAN_CLIENT).unwrap().uuid,
            "u-rig-can"
        );
        let fast = find_driver(&r, "/rig/fast", CAN_CLIENT).unwrap();
        assert_eq!((fast.uuid.as_str(), fast.streaming), ("u-fast", true));
        assert_eq!(
            find_driver(&r, "isotp", ISOTP_CLIENT).unwrap().uuid,
            "u-isotp"
        );
    }

    #[test]
    fn a_missing_name_lists_the_drivers_there_are() {
        let e = find_driver(&report(), "peer", CAN_CLIENT).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownInterface);
        assert_eq!(
            e.message,
            "the exporter has no driver named 'peer'; it has: can, isotp, rig, rig/can, rig/fast"
        );
    }

    #[test]
    fn another_kind_of_driver_is_refused_naming_its_class() {
        let e = find_driver(&report(), "isotp", CAN_CLIENT).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unsupported);
        assert_eq!(
            e.message,
            "the driver 'isotp' is a 'jumpstarter_driver_can.client.IsoTpClient', not a 'jumpstarter_driver_can.client.CanClient'"
        );
    }

    #[test]
    fn a_lone_unnamed_driver_is_found_by_the_empty_path() {
        let r = GetReportResponse {
            reports: vec![driver("solo", None, None, CAN_CLIENT)],
            ..GetReportResponse::default()
        };
        assert_eq!(find_driver(&r, "", CAN_CLIENT).unwrap().uuid, "solo");
    }
}
