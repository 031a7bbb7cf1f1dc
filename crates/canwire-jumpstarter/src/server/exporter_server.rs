//! [`ExporterServer::start`]: binds, builds the session and serves it on a
//! tokio runtime of its own; [`ExporterHandle`] tells where it listens and
//! closes it (idempotent, also on drop).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};
use tokio::sync::oneshot;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::proto::exporter_service_server::ExporterServiceServer;

use super::budget::Budget;
use super::can_export::CanExport;
use super::context::ServeContext;
use super::export::{Export, ExportDriver};
use super::isotp_export::IsoTpExport;
use super::listener::{self, BoundListener};
use super::log_book::LogBook;
use super::options::ServerOptions;
use super::passphrase::PassphraseCheck;
use super::report::build_report;
use super::session::{ExporterSession, ServedDriver};

/// How long `close()` lets connections finish before it drops them.
const GRACE: Duration = Duration::from_secs(3);
/// Worker threads of a server's runtime.
const WORKERS: usize = 2;

/// The entry point: see [`ExporterServer::start`].
pub struct ExporterServer;

struct Running {
    runtime: tokio::runtime::Runtime,
    shutdown: oneshot::Sender<()>,
    serve: tokio::task::JoinHandle<()>,
    session: Arc<ExporterSession>,
    socket_path: Option<PathBuf>,
}

/// A running server.
pub struct ExporterHandle {
    address: String,
    warnings: Vec<String>,
    closing: Arc<AtomicBool>,
    running: Mutex<Option<Running>>,
}

fn build_session(
    exports: &[Export],
    context: &Arc<ServeContext>,
    log: Arc<LogBook>,
    exporter_uuid: &str,
) -> Result<ExporterSession> {
    let uuids: Vec<String> = exports
        .iter()
        .map(|_| uuid::Uuid::new_v4().hyphenated().to_string())
        .collect();
    let root = uuid::Uuid::new_v4().hyphenated().to_string();
    let report = build_report(exporter_uuid, &root, exports, &uuids);
    let mut drivers = HashMap::new();
    for (export, uuid) in exports.iter().zip(&uuids) {
        let driver = match &export.driver {
            ExportDriver::Can(bus) => ServedDriver::Can(
                CanExport::new(bus.clone(), context.clone()).map_err(|status| {
                    CanwireError::new(
                        ErrorCode::Closed,
                        format!("export '{}': {}", export.name, status.message()),
                    )
                })?,
            ),
            ExportDriver::IsoTp(stack) => {
                ServedDriver::IsoTp(IsoTpExport::new(stack.clone(), context.clone()))
            }
        };
        drivers.insert(uuid.clone(), driver);
    }
    Ok(ExporterSession::new(report, drivers, log, context.clone()))
}

fn check_exports(exports: &[Export]) -> Result<()> {
    if exports.is_empty() {
        return Err(CanwireError::invalid_argument(
            "an exporter needs at least one export",
        ));
    }
    let mut names = std::collections::HashSet::new();
    for export in exports {
        if export.name.is_empty() || !names.insert(export.name.as_str()) {
            return Err(CanwireError::invalid_argument(format!(
                "export names must be unique and not empty, got '{}' twice or empty",
                export.name
            )));
        }
    }
    Ok(())
}

impl ExporterServer {
    /// Serves `exports` as `jumpstarter.v1.ExporterService`, listening where
    /// `options` say (127.0.0.1 on a free port by default).
    pub fn start(exports: Vec<Export>, options: ServerOptions) -> Result<ExporterHandle> {
        check_exports(&exports)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("canwire-exporter")
            .enable_all()
            .build()
            .map_err(|e| {
                CanwireError::new(
                    ErrorCode::Os,
                    format!("cannot start the exporter runtime: {e}"),
                )
            })?;
        let bound = {
            let _context = runtime.enter();
            BoundListener::bind(&options.listen)?
        };
        let address = bound.local_address();
        let socket_path = bound.socket_path();
        let exporter_uuid = uuid::Uuid::new_v4().hyphenated().to_string();
        let closing = Arc::new(AtomicBool::new(false));
        let context = Arc::new(ServeContext {
            read_only: options.read_only,
            closing: closing.clone(),
            periodic_tasks: Budget::new(options.limits.periodic_tasks),
            receive_streams: Budget::new(options.limits.receive_streams),
        });
        let log = Arc::new(LogBook::new(exporter_uuid.clone(), &address));
        let session = Arc::new(build_session(
            &exports,
            &context,
            log.clone(),
            &exporter_uuid,
        )?);

        let mut builder = Server::builder()
            .max_concurrent_streams(options.limits.streams_per_connection)
            .http2_keepalive_interval(Some(Duration::from_secs(30)));
        if let Some(tls) = &options.tls {
            let config = ServerTlsConfig::new().identity(Identity::from_pem(&tls.cert, &tls.key));
            builder = builder.tls_config(config).map_err(|e| {
                CanwireError::invalid_argument(format!(
                    "the TLS certificate or key is not usable PEM: {e}"
                ))
            })?;
        }
        let service = InterceptedService::new(
            ExporterServiceServer::from_arc(session.clone())
                .max_decoding_message_size(options.limits.max_message_bytes),
            PassphraseCheck::new(options.passphrase.as_deref()),
        );
        let router = builder.add_service(service);
        let hook = options.on_connect.clone();
        let announce = move |peer: &str| {
            log.client_connected(peer);
            if let Some(hook) = &hook {
                hook(peer);
            }
        };
        let (shutdown, signal) = oneshot::channel::<()>();
        let signal = async move {
            let _ = signal.await;
        };
        let serve = runtime.spawn(async move {
            let _ = match bound {
                BoundListener::Tcp(l) => {
                    router
                        .serve_with_incoming_shutdown(listener::tcp_incoming(l, announce), signal)
                        .await
                }
                #[cfg(unix)]
                BoundListener::Unix(l, path) => {
                    router
                        .serve_with_incoming_shutdown(
                            listener::unix_incoming(l, &path, announce),
                            signal,
                        )
                        .await
                }
            };
        });
        Ok(ExporterHandle {
            address,
            warnings: options.warnings(),
            closing,
            running: Mutex::new(Some(Running {
                runtime,
                shutdown,
                serve,
                session,
                socket_path,
            })),
        })
    }
}

impl ExporterHandle {
    /// Where clients connect: `127.0.0.1:PORT` or the Unix socket path.
    pub fn local_address(&self) -> &str {
        &self.address
    }

    /// Warnings about the options (an open address without TLS or passphrase).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// True once [`ExporterHandle::close`] ran.
    pub fn is_closed(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Stops the server: waiting calls and streams end, periodic tasks
    /// clients created stop, the socket file goes. Idempotent. The exported
    /// buses and stacks stay open (their owner closes them).
    pub fn close(&self) {
        self.closing.store(true, Ordering::Release);
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some(running) = running else { return };
        let stop = move || {
            running.session.stop_client_tasks();
            let _ = running.shutdown.send(());
            let serve = running.serve;
            running.runtime.block_on(async {
                let _ = tokio::time::timeout(GRACE, serve).await;
            });
            running.runtime.shutdown_timeout(Duration::from_millis(500));
            if let Some(path) = running.socket_path {
                let _ = std::fs::remove_file(path);
            }
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            // A runtime cannot be blocked on from inside another one.
            let _ = std::thread::Builder::new()
                .name("canwire-exporter-close".into())
                .spawn(stop)
                .map(|t| t.join());
        } else {
            stop();
        }
    }
}

impl Drop for ExporterHandle {
    fn drop(&mut self) {
        self.close();
    }
}
