//! canwire on Jumpstarter: the `jumpstarter.v1` wire schema, the
//! `google.protobuf.Value` encoding the CAN driver's calls use, and (in later
//! modules) a canwire exporter and a client transport.

pub mod can_message;
pub mod client;
pub mod proto;
pub mod server;
pub mod value;
