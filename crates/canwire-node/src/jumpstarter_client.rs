//! Opening a Jumpstarter exporter's drivers as canwire objects. Opening
//! connects and reads the exporter's report, so it runs on a libuv worker
//! (`AsyncTask`): the event loop never waits for the network.

use canwire_bus::Bus;
use canwire_bus::isotp::IsoTpStack;
use canwire_jumpstarter::client::can_transport::{CanOpenOptions, JumpstarterTransport};
use canwire_jumpstarter::client::isotp::{IsoTpOpenOptions, RemoteIsoTp};
use canwire_jumpstarter::client::target::ConnectOptions;
use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use napi_derive::napi;

use crate::bus::NativeBus;
use crate::error::IntoNapi;
use crate::isotp::NativeIsoTp;

/// Where the exporter is; unset fields come from the environment `jmp shell` sets.
#[napi(object)]
pub struct NativeJumpstarterConnect {
    pub host: Option<String>,
    pub passphrase: Option<String>,
    pub insecure: Option<bool>,
    pub tls_ca: Option<String>,
}

impl From<NativeJumpstarterConnect> for ConnectOptions {
    fn from(o: NativeJumpstarterConnect) -> Self {
        ConnectOptions {
            host: o.host,
            passphrase: o.passphrase,
            insecure: o.insecure,
            tls_ca: o.tls_ca,
        }
    }
}

/// Opens the `Can` driver `channel` (a name or a path `a/b`) off the JS thread.
pub struct OpenJumpstarterBus {
    options: Option<CanOpenOptions>,
}

impl Task for OpenJumpstarterBus {
    type Output = Bus;
    type JsValue = NativeBus;

    fn compute(&mut self) -> napi::Result<Bus> {
        let options = self.options.take().unwrap_or_default();
        let opened = std::panic::catch_unwind(|| JumpstarterTransport::open(options))
            .map_err(|_| crate::error::to_napi(panicked("opening a Jumpstarter bus")))?;
        let (readers, transport) = opened.into_napi()?;
        Ok(Bus::with_transport(readers, Box::new(transport)))
    }

    fn resolve(&mut self, _env: Env, bus: Bus) -> napi::Result<NativeBus> {
        Ok(NativeBus::from_bus(bus))
    }
}

/// The error for a panic caught on a worker thread (it never unwinds into Node).
pub(crate) fn panicked(what: &str) -> canwire_core::CanwireError {
    canwire_core::CanwireError::new(
        canwire_core::ErrorCode::Internal,
        format!("a bug in canwire: {what} panicked"),
    )
}

/// Opens the `Can` driver `channel` of a Jumpstarter exporter as a bus.
#[napi(catch_unwind, ts_return_type = "Promise<NativeBus>")]
pub fn open_jumpstarter_bus(
    channel: String,
    fd: bool,
    connect: NativeJumpstarterConnect,
) -> AsyncTask<OpenJumpstarterBus> {
    AsyncTask::new(OpenJumpstarterBus {
        options: Some(CanOpenOptions {
            connect: connect.into(),
            path: channel,
            fd,
        }),
    })
}

/// Opens an ISO-TP driver (`IsoTpPython`, `IsoTpSocket`) off the JS thread.
pub struct OpenJumpstarterIsoTp {
    options: Option<IsoTpOpenOptions>,
}

impl Task for OpenJumpstarterIsoTp {
    type Output = IsoTpStack;
    type JsValue = NativeIsoTp;

    fn compute(&mut self) -> napi::Result<IsoTpStack> {
        let options = self.options.take().unwrap_or_default();
        let opened = std::panic::catch_unwind(|| RemoteIsoTp::open(options))
            .map_err(|_| crate::error::to_napi(panicked("opening a Jumpstarter ISO-TP driver")))?;
        let (inbox, backend) = opened.into_napi()?;
        Ok(IsoTpStack::with_backend(inbox, Box::new(backend)))
    }

    fn resolve(&mut self, _env: Env, stack: IsoTpStack) -> napi::Result<NativeIsoTp> {
        Ok(NativeIsoTp::from_stack(stack))
    }
}

/// Opens the ISO-TP driver `channel` of a Jumpstarter exporter and starts it.
#[napi(catch_unwind, ts_return_type = "Promise<NativeIsoTp>")]
pub fn open_jumpstarter_iso_tp(
    channel: String,
    rx_queue_payloads: Option<f64>,
    connect: NativeJumpstarterConnect,
) -> napi::Result<AsyncTask<OpenJumpstarterIsoTp>> {
    let rx_queue_payloads = crate::isotp::rx_queue_size(rx_queue_payloads)?;
    Ok(AsyncTask::new(OpenJumpstarterIsoTp {
        options: Some(IsoTpOpenOptions {
            connect: connect.into(),
            path: channel,
            rx_queue_payloads,
        }),
    }))
}
