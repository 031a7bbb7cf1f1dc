//! String enums that cross napi as their string values (`#[napi(string_enum)]`),
//! so the generated declarations name each allowed string and the facade
//! needs no casts. The build runs napi with `--no-const-enum`, which declares
//! each as a union of string literals.

use canwire_bus::{BusState, Protocol};
use napi_derive::napi;

/// The protocol a bus was opened for.
#[napi(string_enum)]
pub enum NativeProtocol {
    #[napi(value = "CAN_20")]
    Can20,
    #[napi(value = "CAN_FD")]
    CanFd,
}

impl From<Protocol> for NativeProtocol {
    fn from(p: Protocol) -> Self {
        match p {
            Protocol::Can20 => Self::Can20,
            Protocol::CanFd => Self::CanFd,
        }
    }
}

/// A controller state.
#[napi(string_enum)]
pub enum NativeBusState {
    #[napi(value = "active")]
    Active,
    #[napi(value = "warning")]
    Warning,
    #[napi(value = "passive")]
    Passive,
    #[napi(value = "bus-off")]
    BusOff,
    #[napi(value = "unknown")]
    Unknown,
}

impl From<BusState> for NativeBusState {
    fn from(s: BusState) -> Self {
        match s {
            BusState::Active => Self::Active,
            BusState::Warning => Self::Warning,
            BusState::Passive => Self::Passive,
            BusState::BusOff => Self::BusOff,
            BusState::Unknown => Self::Unknown,
        }
    }
}

/// Who runs a watch: SocketCAN's broadcast manager or canwire's own thread.
#[napi(string_enum)]
pub enum NativeWatchBackend {
    #[napi(value = "kernel")]
    Kernel,
    #[napi(value = "native")]
    Native,
}
