//! [`ExporterSession`]: the `jumpstarter.v1.ExporterService` of one server,
//! a struct of shared state plus one handler per RPC. As in `jmp run`, one
//! session lives as long as the server, across clients: queues keep frames
//! between clients, periodic tasks outlive the client that made them, and
//! `shutdown` kills a bus for every later client.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio_stream::Stream;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::proto::exporter_service_server::ExporterService;
use crate::proto::{
    DriverCallRequest, DriverCallResponse, EndSessionRequest, EndSessionResponse, ExporterStatus,
    GetReportResponse, GetStatusRequest, GetStatusResponse, LogStreamResponse, ResetRequest,
    ResetResponse, StreamingDriverCallRequest, StreamingDriverCallResponse,
};

use super::call_status::{method_not_found, unknown_driver};
use super::can_export::CanExport;
use super::context::ServeContext;
use super::isotp_export::IsoTpExport;
use super::log_book::LogBook;

/// The method name of the batched receive stream.
pub const RECV_STREAM: &str = "canwire_recv_stream";
/// How often a log stream with nothing to say looks at the closing flag.
const LOG_IDLE_CHECK: Duration = Duration::from_secs(1);

/// A served driver instance.
pub enum ServedDriver {
    /// A `Can` export.
    Can(CanExport),
    /// An ISO-TP export.
    IsoTp(IsoTpExport),
}

/// The service state of one server.
pub struct ExporterSession {
    report: GetReportResponse,
    drivers: HashMap<String, ServedDriver>,
    log: Arc<LogBook>,
    context: Arc<ServeContext>,
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

impl ExporterSession {
    /// A session serving `drivers` by uuid, described by `report`.
    pub fn new(
        report: GetReportResponse,
        drivers: HashMap<String, ServedDriver>,
        log: Arc<LogBook>,
        context: Arc<ServeContext>,
    ) -> Self {
        Self {
            report,
            drivers,
            log,
            context,
        }
    }

    /// The log, for connection records.
    pub fn log(&self) -> &Arc<LogBook> {
        &self.log
    }

    /// Stops every periodic task clients created.
    pub fn stop_client_tasks(&self) {
        for driver in self.drivers.values() {
            if let ServedDriver::Can(can) = driver {
                can.tasks.clear();
            }
        }
    }

    /// The driver `uuid` names (any spelling Python's `UUID()` accepts).
    fn driver(&self, uuid: &str) -> Result<(&str, &ServedDriver), Status> {
        if let Some((key, driver)) = self.drivers.get_key_value(uuid) {
            return Ok((key, driver));
        }
        uuid::Uuid::parse_str(uuid)
            .ok()
            .and_then(|u| self.drivers.get_key_value(&u.hyphenated().to_string()))
            .map(|(k, d)| (k.as_str(), d))
            .ok_or_else(|| unknown_driver(uuid))
    }
}

#[tonic::async_trait]
impl ExporterService for ExporterSession {
    async fn get_report(&self, _: Request<()>) -> Result<Response<GetReportResponse>, Status> {
        Ok(Response::new(self.report.clone()))
    }

    async fn driver_call(
        &self,
        request: Request<DriverCallRequest>,
    ) -> Result<Response<DriverCallResponse>, Status> {
        let call = request.into_inner();
        let (uuid, driver) = self.driver(&call.uuid)?;
        let result = match driver {
            ServedDriver::Can(can) => can.call(&call.method, &call.args).await,
            ServedDriver::IsoTp(isotp) => isotp.call(&call.method, &call.args).await,
        };
        match result {
            Ok(value) => Ok(Response::new(DriverCallResponse {
                uuid: uuid::Uuid::new_v4().hyphenated().to_string(),
                result: Some(value),
            })),
            Err(status) => {
                self.log.driver_error(uuid, &call.method, &status);
                Err(status)
            }
        }
    }

    type StreamingDriverCallStream = BoxStream<StreamingDriverCallResponse>;

    async fn streaming_driver_call(
        &self,
        request: Request<StreamingDriverCallRequest>,
    ) -> Result<Response<Self::StreamingDriverCallStream>, Status> {
        let call = request.into_inner();
        let (uuid, driver) = self.driver(&call.uuid)?;
        let started = match driver {
            ServedDriver::Can(can) if call.method == RECV_STREAM => {
                can.recv_stream(&call.method, &call.args)
            }
            _ => Err(method_not_found(&call.method)),
        };
        let records =
            started.inspect_err(|status| self.log.driver_error(uuid, &call.method, status))?;
        let stream_uuid = uuid::Uuid::new_v4().hyphenated().to_string();
        let responses = ReceiverStream::new(records).map(move |result| {
            result.map(|value| StreamingDriverCallResponse {
                uuid: stream_uuid.clone(),
                result: Some(value),
            })
        });
        Ok(Response::new(Box::pin(responses)))
    }

    type LogStreamStream = BoxStream<LogStreamResponse>;

    async fn log_stream(&self, _: Request<()>) -> Result<Response<Self::LogStreamStream>, Status> {
        let (tx, rx) = mpsc::channel(16);
        let mut live = self.log.subscribe();
        let log = self.log.clone();
        let context = self.context.clone();
        tokio::spawn(async move {
            if tx.send(Ok(log.started())).await.is_err() {
                return;
            }
            while !context.is_closing() {
                let record = tokio::select! {
                    received = live.recv() => match received {
                        Ok(record) => record,
                        Err(broadcast::error::RecvError::Lagged(n)) => log.skipped(n),
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                    () = tokio::time::sleep(LOG_IDLE_CHECK) => continue,
                    () = tx.closed() => break,
                };
                if tx.send(Ok(record)).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn reset(&self, _: Request<ResetRequest>) -> Result<Response<ResetResponse>, Status> {
        Ok(Response::new(ResetResponse {}))
    }

    async fn get_status(
        &self,
        _: Request<GetStatusRequest>,
    ) -> Result<Response<GetStatusResponse>, Status> {
        Ok(Response::new(GetStatusResponse {
            status: ExporterStatus::LeaseReady as i32,
            message: Some("Ready for commands".to_owned()),
            status_version: 1,
            previous_status: Some(ExporterStatus::Available as i32),
        }))
    }

    /// Succeeds and leaves the status at LEASE_READY: a standalone exporter
    /// has no lease to end, and Python's flip to AVAILABLE would make every
    /// later `jmp shell --tls-grpc` wait 300 s for a status that never returns.
    async fn end_session(
        &self,
        _: Request<EndSessionRequest>,
    ) -> Result<Response<EndSessionResponse>, Status> {
        Ok(Response::new(EndSessionResponse {
            success: true,
            message: None,
        }))
    }
}
