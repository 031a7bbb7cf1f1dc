//! `GetReport`: the tree of driver instances, as the Python exporter lists it
//! (C6): one export is a single report without parent, so `env()` returns
//! its client directly; several hang under a `CompositeClient` root that has
//! no name, listed depth-first (root first, then the exports in order).

use std::collections::HashMap;

use crate::proto::{DriverInstanceReport, GetReportResponse};

use super::export::{
    CLIENT_LABEL, COMPOSITE_CLIENT, Export, ExportDriver, NAME_LABEL, STREAMING_LABEL,
};

/// The report of `exports`, whose driver uuids are `uuids` (same order);
/// `root_uuid` names the composite root when there are several.
pub fn build_report(
    exporter_uuid: &str,
    root_uuid: &str,
    exports: &[Export],
    uuids: &[String],
) -> GetReportResponse {
    let mut reports = Vec::with_capacity(exports.len() + 1);
    let parent = if exports.len() > 1 {
        reports.push(DriverInstanceReport {
            uuid: root_uuid.to_owned(),
            parent_uuid: None,
            labels: HashMap::from([(CLIENT_LABEL.to_owned(), COMPOSITE_CLIENT.to_owned())]),
            description: None,
            methods_description: HashMap::new(),
        });
        Some(root_uuid.to_owned())
    } else {
        None
    };
    for (export, uuid) in exports.iter().zip(uuids) {
        let mut labels: HashMap<String, String> = export
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.insert(NAME_LABEL.to_owned(), export.name.clone());
        labels.insert(
            CLIENT_LABEL.to_owned(),
            export.driver.client_class().to_owned(),
        );
        if matches!(export.driver, ExportDriver::Can(_)) {
            labels.insert(STREAMING_LABEL.to_owned(), "1".to_owned());
        }
        reports.push(DriverInstanceReport {
            uuid: uuid.clone(),
            parent_uuid: parent.clone(),
            labels,
            description: export.description.clone(),
            methods_description: HashMap::new(),
        });
    }
    GetReportResponse {
        uuid: exporter_uuid.to_owned(),
        labels: HashMap::new(),
        reports,
        alternative_endpoints: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use canwire_bus::virtual_bus::VirtualConfig;
    use canwire_bus::{Bus, BusConfig};

    use super::*;

    fn bus() -> Arc<Bus> {
        Arc::new(
            Bus::open(BusConfig::Virtual(VirtualConfig {
                channel: "report-test".into(),
                ..VirtualConfig::default()
            }))
            .unwrap(),
        )
    }

    #[test]
    fn one_export_is_a_single_report_without_parent() {
        let exports = [Export::new("can", ExportDriver::Can(bus()))];
        let r = build_report("E", "R", &exports, &["A".into()]);
        assert_eq!(r.uuid, "E");
        assert_eq!(r.reports.len(), 1);
        let can = &r.reports[0];
        assert_eq!(can.uuid, "A");
        assert_eq!(can.parent_uuid, None);
        assert_eq!(can.labels[NAME_LABEL], "can");
        assert_eq!(
            can.labels[CLIENT_LABEL],
            "jumpstarter_driver_can.client.CanClient"
        );
        assert_eq!(can.labels[STREAMING_LABEL], "1");
        assert_eq!(can.labels.len(), 3);
        assert_eq!(can.description, None);
    }

    #[test]
    fn several_exports_hang_under_a_composite_root_depth_first() {
        let mut peer = Export::new("peer", ExportDriver::Can(bus()));
        peer.description = Some("the tester side".into());
        peer.labels.insert("rig".into(), "bench-3".into());
        let exports = [Export::new("can", ExportDriver::Can(bus())), peer];
        let r = build_report("E", "R", &exports, &["A".into(), "B".into()]);
        let uuids: Vec<_> = r.reports.iter().map(|d| d.uuid.as_str()).collect();
        assert_eq!(uuids, ["R", "A", "B"]);
        let root = &r.reports[0];
        assert_eq!(root.parent_uuid, None);
        assert_eq!(
            root.labels,
            HashMap::from([(
                CLIENT_LABEL.to_owned(),
                "jumpstarter_driver_composite.client.CompositeClient".to_owned()
            )])
        );
        assert_eq!(r.reports[1].parent_uuid.as_deref(), Some("R"));
        assert_eq!(r.reports[2].parent_uuid.as_deref(), Some("R"));
        assert_eq!(r.reports[2].labels[NAME_LABEL], "peer");
        assert_eq!(r.reports[2].labels["rig"], "bench-3");
        assert_eq!(r.reports[2].description.as_deref(), Some("the tester side"));
    }
}
