//! [`ExporterSession`]: one gRPC channel to an exporter, with the passphrase
//! sent on every call and every failure mapped to a [`CanwireError`]
//! (see [`super::status_map`]).

use std::time::Duration;

use canwire_core::CanwireError;
use canwire_core::error::Result;
use prost_types::Value;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Request, Streaming};

use super::report::{FoundDriver, find_driver};
use super::status_map::{error_from_status, unreachable};
use super::target::{ConnectOptions, Target, Transport, resolve};
use crate::proto::exporter_service_client::ExporterServiceClient;
use crate::proto::{
    DriverCallRequest, GetReportResponse, StreamingDriverCallRequest, StreamingDriverCallResponse,
};

/// The metadata key of the exporter's passphrase.
pub const PASSPHRASE_KEY: &str = "x-jumpstarter-passphrase";
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2 pings find a peer that vanished without closing the connection.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
/// How long a ping may go unanswered before the connection counts as lost.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest message accepted (a 4 KiB ISO-TP payload or a batch of 1024
/// records is far below).
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// A connection to one exporter.
#[derive(Clone)]
pub struct ExporterSession {
    client: ExporterServiceClient<Channel>,
    passphrase: Option<AsciiMetadataValue>,
    address: String,
}

/// The message of `error` and each of its sources, joined.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = e.source();
    }
    text
}

impl ExporterSession {
    /// Connects where `options` (else the environment `jmp shell` sets)
    /// point, reads the report and finds the driver at `path` whose client
    /// label is `client`: what opening any remote driver starts with.
    pub async fn open_driver(
        options: &ConnectOptions,
        path: &str,
        client: &str,
    ) -> Result<(Self, FoundDriver)> {
        let target = resolve(
            options,
            |k: &str| std::env::var(k).ok(),
            |file: &str| std::fs::read_to_string(file),
        )?;
        let session = Self::connect(&target).await?;
        let report = session.report().await?;
        let driver = find_driver(&report, path, client)?;
        Ok((session, driver))
    }

    /// Connects to `target` (the channel reconnects by itself later; calls
    /// made while it cannot fail with `ERR_UNREACHABLE`).
    pub async fn connect(target: &Target) -> Result<Self> {
        let address = target.address();
        let passphrase = match &target.passphrase {
            Some(p) => Some(MetadataValue::try_from(p.as_str()).map_err(|_| {
                CanwireError::invalid_argument(
                    "the passphrase must be printable ASCII (it travels as gRPC metadata)",
                )
            })?),
            None => None,
        };
        let endpoint = match &target.transport {
            Transport::Unix(path) => Endpoint::from_shared(format!("unix://{path}")),
            Transport::Plain(authority) => Endpoint::from_shared(format!("http://{authority}")),
            Transport::Tls { authority, .. } => {
                Endpoint::from_shared(format!("https://{authority}"))
            }
        }
        .map_err(|e| {
            CanwireError::invalid_argument(format!(
                "'{address}' is not a valid exporter address: {}",
                chain(&e)
            ))
        })?;
        let mut endpoint = endpoint
            .connect_timeout(CONNECT_TIMEOUT)
            .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
            .keep_alive_timeout(KEEPALIVE_TIMEOUT)
            .keep_alive_while_idle(true);
        if let Transport::Tls { ca_pem, .. } = &target.transport {
            let mut tls = ClientTlsConfig::new().with_native_roots();
            if let Some(pem) = ca_pem {
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls).map_err(|e| {
                CanwireError::invalid_argument(format!(
                    "TLS settings for {address} were refused: {}",
                    chain(&e)
                ))
            })?;
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| unreachable(&address, &chain(&e)))?;
        let client = ExporterServiceClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        Ok(Self {
            client,
            passphrase,
            address,
        })
    }

    /// The address errors name.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn request<T>(&self, message: T, timeout: Option<Duration>) -> Request<T> {
        let mut request = Request::new(message);
        if let Some(p) = &self.passphrase {
            request.metadata_mut().insert(PASSPHRASE_KEY, p.clone());
        }
        if let Some(t) = timeout {
            request.set_timeout(t);
        }
        request
    }

    /// The exporter's report of its drivers.
    pub async fn report(&self) -> Result<GetReportResponse> {
        let request = self.request((), Some(CONNECT_TIMEOUT));
        let mut client = self.client.clone();
        client
            .get_report(request)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| error_from_status(&s, "GetReport", &self.address))
    }

    /// Calls `method` of the driver `uuid`; a missing result is null.
    /// `timeout` bounds the whole call (it travels to the exporter too).
    pub async fn call(
        &self,
        uuid: &str,
        method: &str,
        args: Vec<Value>,
        timeout: Option<Duration>,
    ) -> Result<Value> {
        let request = self.request(
            DriverCallRequest {
                uuid: uuid.to_owned(),
                method: method.to_owned(),
                args,
            },
            timeout,
        );
        let mut client = self.client.clone();
        match client.driver_call(request).await {
            Ok(response) => Ok(response
                .into_inner()
                .result
                .unwrap_or_else(crate::value::null)),
            Err(status) => Err(error_from_status(&status, method, &self.address)),
        }
    }

    /// Starts the server stream `method` of the driver `uuid`.
    pub async fn stream(
        &self,
        uuid: &str,
        method: &str,
        args: Vec<Value>,
    ) -> Result<Streaming<StreamingDriverCallResponse>> {
        let request = self.request(
            StreamingDriverCallRequest {
                uuid: uuid.to_owned(),
                method: method.to_owned(),
                args,
            },
            None,
        );
        let mut client = self.client.clone();
        client
            .streaming_driver_call(request)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| error_from_status(&s, method, &self.address))
    }

    /// The error of a stream item, mapped like a call's.
    pub fn stream_error(&self, status: &tonic::Status, method: &str) -> CanwireError {
        error_from_status(status, method, &self.address)
    }
}
