//! What a server exports: named canwire buses and ISO-TP stacks, each
//! becoming one driver instance in `GetReport`.

use std::collections::BTreeMap;
use std::sync::Arc;

use canwire_bus::Bus;
use canwire_bus::isotp::IsoTpStack;

/// The object behind an export.
#[derive(Clone)]
pub enum ExportDriver {
    /// A bus, served as the Python `Can` driver (`CanClient`).
    Can(Arc<Bus>),
    /// An ISO-TP stack, served as the Python `IsoTpPython` driver (`IsoTpClient`).
    IsoTp(Arc<IsoTpStack>),
}

impl ExportDriver {
    /// The Python client class a Jumpstarter client loads for this driver.
    pub const fn client_class(&self) -> &'static str {
        match self {
            ExportDriver::Can(_) => CAN_CLIENT,
            ExportDriver::IsoTp(_) => ISOTP_CLIENT,
        }
    }
}

/// The client label of a `Can` driver.
pub const CAN_CLIENT: &str = "jumpstarter_driver_can.client.CanClient";
/// The client label of an ISO-TP driver.
pub const ISOTP_CLIENT: &str = "jumpstarter_driver_can.client.IsoTpClient";
/// The client label of the root of several exports.
pub const COMPOSITE_CLIENT: &str = "jumpstarter_driver_composite.client.CompositeClient";
/// The label naming a report's client class.
pub const CLIENT_LABEL: &str = "jumpstarter.dev/client";
/// The label naming an export (its key in `export:`).
pub const NAME_LABEL: &str = "jumpstarter.dev/name";
/// The label by which a canwire client finds the streaming extension.
pub const STREAMING_LABEL: &str = "canwire.dev/streaming";

/// One named export.
#[derive(Clone)]
pub struct Export {
    /// The key in `export:` (`jumpstarter.dev/name`).
    pub name: String,
    /// Free text shown by clients.
    pub description: Option<String>,
    /// Labels of the user's own, added to the report.
    pub labels: BTreeMap<String, String>,
    /// The bus or stack served.
    pub driver: ExportDriver,
}

impl Export {
    /// An export with no description and no labels of its own.
    pub fn new(name: impl Into<String>, driver: ExportDriver) -> Self {
        Self {
            name: name.into(),
            description: None,
            labels: BTreeMap::new(),
            driver,
        }
    }
}
