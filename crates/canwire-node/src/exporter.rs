//! The Jumpstarter exporter: buses and ISO-TP stacks the facade opened,
//! served as `jumpstarter.v1.ExporterService` (see
//! `canwire_jumpstarter::server`). Options are validated here; the facade
//! reads the YAML and the PEM files.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use canwire_jumpstarter::server::{
    Export, ExportDriver, ExporterHandle, ExporterServer, Listen, ServerOptions, TlsPem,
};
use napi::bindgen_prelude::{AsyncTask, Buffer, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status, Task};
use napi_derive::napi;

use crate::bus::NativeBus;
use crate::error::{IntoNapi, invalid_argument};
use crate::isotp::NativeIsoTp;

/// Where and how to serve.
#[napi(object)]
pub struct NativeExporterOptions {
    /// `HOST:PORT` with an IP address (`127.0.0.1:0` when neither this nor `unix` is given).
    pub listen: Option<String>,
    /// A Unix socket path.
    pub unix: Option<String>,
    pub passphrase: Option<String>,
    /// PEM certificate chain (with `tls_key`).
    pub tls_cert: Option<Buffer>,
    /// PEM private key (with `tls_cert`).
    pub tls_key: Option<Buffer>,
    pub read_only: Option<bool>,
}

/// The exports of a server, added one by one before `NativeExporter.start`.
#[napi]
#[derive(Default)]
pub struct NativeExportList {
    exports: Vec<Export>,
}

fn labels_from(labels: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    labels.unwrap_or_default().into_iter().collect()
}

impl NativeExportList {
    /// Adds one export.
    fn push(
        &mut self,
        name: String,
        description: Option<String>,
        labels: Option<HashMap<String, String>>,
        driver: ExportDriver,
    ) {
        self.exports.push(Export {
            name,
            description,
            labels: labels_from(labels),
            driver,
        });
    }
}

#[napi]
impl NativeExportList {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a bus, served as the `Can` driver.
    #[napi(catch_unwind)]
    pub fn add_bus(
        &mut self,
        name: String,
        bus: &NativeBus,
        description: Option<String>,
        labels: Option<HashMap<String, String>>,
    ) {
        self.push(name, description, labels, ExportDriver::Can(bus.shared()));
    }

    /// Adds an ISO-TP stack, served as the `IsoTpPython` driver.
    #[napi(catch_unwind)]
    pub fn add_iso_tp(
        &mut self,
        name: String,
        isotp: &NativeIsoTp,
        description: Option<String>,
        labels: Option<HashMap<String, String>>,
    ) {
        self.push(
            name,
            description,
            labels,
            ExportDriver::IsoTp(isotp.shared()),
        );
    }
}

fn listen_from(options: &NativeExporterOptions) -> napi::Result<Listen> {
    match (&options.listen, &options.unix) {
        (Some(_), Some(_)) => Err(invalid_argument(
            "listen and unix exclude each other: serve on one address",
        )),
        (None, Some(path)) if path.is_empty() => {
            Err(invalid_argument("unix must be a socket path, got ''"))
        }
        (None, Some(path)) => Ok(Listen::Unix(PathBuf::from(path))),
        (Some(text), None) => {
            let normalized = text
                .strip_prefix("localhost:")
                .map(|port| format!("127.0.0.1:{port}"));
            normalized
                .as_deref()
                .unwrap_or(text)
                .parse::<SocketAddr>()
                .map(Listen::Tcp)
                .map_err(|_| {
                    invalid_argument(format!(
                        "listen must be HOST:PORT with an IP address (127.0.0.1:4000, [::1]:4000, 0.0.0.0:4000), got '{text}'"
                    ))
                })
        }
        (None, None) => Ok(Listen::default()),
    }
}

fn tls_from(options: &NativeExporterOptions) -> napi::Result<Option<TlsPem>> {
    match (&options.tls_cert, &options.tls_key) {
        (Some(cert), Some(key)) => Ok(Some(TlsPem {
            cert: cert.to_vec(),
            key: key.to_vec(),
        })),
        (None, None) => Ok(None),
        _ => Err(invalid_argument(
            "tlsCert and tlsKey go together: give both (PEM) or neither",
        )),
    }
}

fn passphrase_from(options: &NativeExporterOptions) -> napi::Result<Option<String>> {
    match options.passphrase.as_deref() {
        Some("") => Err(invalid_argument(
            "passphrase must not be empty: give one, or leave it out to serve without",
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

type ClientCallback = ThreadsafeFunction<String, (), String, Status, false, false>;

/// A running exporter. While it runs it keeps Node alive, as a listening
/// `net.Server` does.
#[napi]
pub struct NativeExporter {
    handle: Arc<ExporterHandle>,
    on_client: Arc<Mutex<Option<ClientCallback>>>,
}

/// Closes a server off the JS thread (it waits for connections to finish).
pub struct CloseTask {
    handle: Arc<ExporterHandle>,
    on_client: Arc<Mutex<Option<ClientCallback>>>,
}

impl Task for CloseTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> napi::Result<()> {
        self.handle.close();
        self.on_client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        Ok(())
    }

    fn resolve(&mut self, _: Env, (): ()) -> napi::Result<()> {
        Ok(())
    }
}

#[napi]
impl NativeExporter {
    /// Starts serving `exports`; `on_client(address)` runs on the JS thread
    /// for each connection.
    #[napi(factory, catch_unwind)]
    pub fn start(
        exports: &NativeExportList,
        options: NativeExporterOptions,
        on_client: Function<String, ()>,
    ) -> napi::Result<NativeExporter> {
        let callback: ClientCallback = on_client
            .build_threadsafe_function::<String>()
            .callee_handled::<false>()
            .build_callback(|ctx| Ok(ctx.value))?;
        let on_client = Arc::new(Mutex::new(Some(callback)));
        let hook_target = on_client.clone();
        let server_options = ServerOptions {
            listen: listen_from(&options)?,
            passphrase: passphrase_from(&options)?,
            tls: tls_from(&options)?,
            read_only: options.read_only.unwrap_or(false),
            on_connect: Some(Arc::new(move |peer: &str| {
                if let Some(callback) = hook_target
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .as_ref()
                {
                    callback.call(peer.to_owned(), ThreadsafeFunctionCallMode::NonBlocking);
                }
            })),
            ..ServerOptions::default()
        };
        let handle = ExporterServer::start(exports.exports.clone(), server_options).into_napi()?;
        Ok(NativeExporter {
            handle: Arc::new(handle),
            on_client,
        })
    }

    /// `127.0.0.1:PORT` or the Unix socket path.
    #[napi(getter, catch_unwind)]
    pub fn address(&self) -> String {
        self.handle.local_address().to_owned()
    }

    /// Warnings about the options (an open address without TLS or passphrase).
    #[napi(getter, catch_unwind)]
    pub fn warnings(&self) -> Vec<String> {
        self.handle.warnings().to_vec()
    }

    /// Stops serving (idempotent); the exported objects stay open.
    #[napi(catch_unwind)]
    pub fn close(&self) -> AsyncTask<CloseTask> {
        AsyncTask::new(CloseTask {
            handle: self.handle.clone(),
            on_client: self.on_client.clone(),
        })
    }
}
