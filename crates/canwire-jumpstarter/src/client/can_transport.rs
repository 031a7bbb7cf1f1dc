//! [`JumpstarterTransport`]: a `Can` driver of an exporter as a canwire
//! [`Transport`], so `Bus::with_transport` gives every bus feature on it.
//!
//! - Receive: one task feeds the bus's [`ReaderSet`] (see [`super::can_receive`]):
//!   `canwire_recv_stream` when the driver is labelled
//!   `canwire.dev/streaming`, else `_recv_internal` polls.
//! - Send: [`Transport::send`] queues into [`Outbound`] and returns; one task
//!   makes the calls (see [`super::can_send`]).
//! - A lost connection fails every reader with `ERR_UNREACHABLE` and every
//!   later send.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use canwire_bus::ReaderSet;
use canwire_bus::stats::ReceiveErrors;
use canwire_bus::transport::{BusState, Protocol, Transport};
use canwire_core::error::Result;
use canwire_core::{CanwireError, FilterSet, Frame};
use prost_types::Value;
use tokio::task::JoinHandle;

use super::can_receive::{Responses, open_stream};
use super::cyclic::RemoteCyclicTask;
use super::outbound::{CAPACITY, Outbound};
use super::report::{CAN_CLIENT, FoundDriver};
use super::runtime::{run_blocking, runtime};
use super::session::ExporterSession;
use super::target::ConnectOptions;
use crate::value;

/// How long a property call (`state`, `protocol`, `channel_info`) may take.
pub(crate) const PROPERTY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long closing waits for the receive poll in flight.
const CLOSE_WAIT: Duration = Duration::from_millis(1000);

/// How to open a remote `Can` driver.
#[derive(Debug, Clone, Default)]
pub struct CanOpenOptions {
    /// Where the exporter is (see [`super::target`]).
    pub connect: ConnectOptions,
    /// The driver's name or path (`can`, `rig/can`).
    pub path: String,
    /// Deliver and send CAN FD frames (a Python virtual bus reports CAN_20
    /// yet carries FD frames, so this is the user's choice).
    pub fd: bool,
}

/// What the receive and send tasks share with the transport.
pub(crate) struct CanLink {
    pub(crate) session: ExporterSession,
    pub(crate) driver: FoundDriver,
    pub(crate) readers: Arc<ReaderSet>,
    pub(crate) outbound: Outbound,
    pub(crate) closed: AtomicBool,
    /// Frames the exporter's stream queue lost (its cumulative `dropped`).
    pub(crate) remote_drops: AtomicU64,
    pub(crate) receive_errors: Mutex<ReceiveErrors>,
}

impl CanLink {
    /// Counts a receive failure that did not end the bus (a frame canwire refuses).
    pub(crate) fn count_receive_error(&self, error: &CanwireError) {
        let mut errors = self
            .receive_errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        errors.count += 1;
        errors.last = Some(error.to_string());
    }

    /// Ends the bus's receiving and sending with `error` (unless it is closing).
    pub(crate) fn fail(&self, error: CanwireError) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        self.outbound.lose(error.clone());
        self.readers.fail_all(error);
    }

    /// Calls a method of the driver.
    pub(crate) async fn call(
        &self,
        method: &str,
        args: Vec<Value>,
        timeout: Duration,
    ) -> Result<Value> {
        self.session
            .call(&self.driver.uuid, method, args, Some(timeout))
            .await
    }
}

/// A remote `Can` driver as a bus backend.
pub struct JumpstarterTransport {
    link: Arc<CanLink>,
    protocol: Protocol,
    channel_info: String,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// Connects, finds the driver and reads its properties.
/// What opening finds: the session, the driver, its description, and the
/// receive stream of a streaming driver.
type Connected = (ExporterSession, FoundDriver, String, Option<Responses>);

async fn connect(options: CanOpenOptions) -> Result<Connected> {
    let (session, driver) =
        ExporterSession::open_driver(&options.connect, &options.path, CAN_CLIENT).await?;
    let info = session
        .call(&driver.uuid, "channel_info", vec![], Some(PROPERTY_TIMEOUT))
        .await?;
    let info = match value::as_str(&info, "channel_info") {
        Ok(text) => text.to_owned(),
        Err(_) => String::new(),
    };
    let stream = if driver.streaming {
        Some(open_stream(&session, &driver.uuid).await?)
    } else {
        None
    };
    Ok((session, driver, info, stream))
}

impl JumpstarterTransport {
    /// Opens the driver: connects (blocking this thread, not the event loop:
    /// the binding calls it from a worker), reads the report and the
    /// channel description, and starts receiving into a new [`ReaderSet`].
    pub fn open(options: CanOpenOptions) -> Result<(Arc<ReaderSet>, Self)> {
        let fd = options.fd;
        let (session, driver, remote_info, stream) = run_blocking(connect(options))??;
        let readers = Arc::new(ReaderSet::new(fd));
        let channel_info = format!(
            "Jumpstarter {} '{}' at {}{}: {remote_info}",
            if driver.streaming {
                "streaming driver"
            } else {
                "driver"
            },
            driver.path,
            session.address(),
            if driver.streaming { "" } else { " (polled)" },
        );
        let link = Arc::new(CanLink {
            session,
            driver,
            readers: readers.clone(),
            outbound: Outbound::new(CAPACITY),
            closed: AtomicBool::new(false),
            remote_drops: AtomicU64::new(0),
            receive_errors: Mutex::default(),
        });
        let rt = runtime()?;
        let tasks = vec![
            rt.spawn(super::can_receive::run(link.clone(), stream)),
            rt.spawn(super::can_send::run(link.clone())),
        ];
        Ok((
            readers,
            Self {
                link,
                protocol: Protocol::opened_with_fd(fd),
                channel_info,
                tasks: Mutex::new(tasks),
            },
        ))
    }

    /// The session, for periodic tasks on this bus.
    pub fn session(&self) -> &ExporterSession {
        &self.link.session
    }

    /// The driver this bus drives.
    pub fn driver(&self) -> &FoundDriver {
        &self.link.driver
    }

    /// A call made on this thread; at once the connection loss instead, if
    /// there was one (no caller waits for a dead exporter).
    fn blocking_call(&self, method: &'static str, args: Vec<Value>) -> Result<Value> {
        if let Some(lost) = self.link.outbound.lost() {
            return Err(lost);
        }
        let link = self.link.clone();
        run_blocking(async move { link.call(method, args, PROPERTY_TIMEOUT).await })?
    }
}

/// A filter as the driver's `_apply_filters` takes it.
fn filter_value(filter: &canwire_core::CanFilter) -> Value {
    let mut fields = vec![
        ("can_id", value::number(f64::from(filter.id))),
        ("can_mask", value::number(f64::from(filter.mask))),
    ];
    if let Some(extended) = filter.extended {
        fields.push(("extended", value::boolean(extended)));
    }
    value::object(fields)
}

impl Transport for JumpstarterTransport {
    fn send(&self, frames: &[Frame]) -> Result<usize> {
        self.link.outbound.push(frames)
    }

    fn wait_writable(&self, timeout: Duration) -> Result<bool> {
        Ok(self.link.outbound.wait_room(timeout))
    }

    fn protocol(&self) -> Protocol {
        self.protocol
    }

    fn channel_info(&self) -> String {
        self.channel_info.clone()
    }

    fn channel_name(&self, _index: u32) -> Option<String> {
        Some(self.link.driver.path.clone())
    }

    /// Asks the exporter (a round trip on the calling thread); `Unknown` when it cannot tell.
    fn state(&self) -> BusState {
        match self.blocking_call("state", vec![]) {
            Ok(v) => match value::as_int(&v, "state", 0, 10) {
                Ok(1) => BusState::Active,
                Ok(2) => BusState::Passive,
                Ok(3) => BusState::BusOff,
                _ => BusState::Unknown,
            },
            Err(_) => BusState::Unknown,
        }
    }

    /// `_apply_filters` on the exporter; a driver without hardware filters
    /// (UNIMPLEMENTED) is fine: the bus filters in software anyway. Inverted
    /// or joined filters stay in software only (the driver has neither).
    fn apply_filters(&self, filters: &FilterSet) -> Result<()> {
        let list = filters.filters();
        let arg = if list.is_empty() {
            value::null()
        } else if list.iter().any(|f| f.inverted) || filters.is_joined() {
            return Ok(());
        } else {
            value::list(list.iter().map(filter_value).collect())
        };
        match self.blocking_call("_apply_filters", vec![arg]) {
            Ok(_) => Ok(()),
            Err(e) if e.code == canwire_core::ErrorCode::Unsupported => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Discards the frames not yet handed to the exporter, and asks it to
    /// flush its own queue (in the background: an error reaches the next send).
    fn flush_tx_buffer(&self) -> Result<()> {
        self.link.outbound.flush();
        let link = self.link.clone();
        runtime()?.spawn(async move {
            match link.call("flush_tx_buffer", vec![], PROPERTY_TIMEOUT).await {
                Ok(_) => {}
                Err(e) if e.code == canwire_core::ErrorCode::Unsupported => {}
                Err(e) => link.outbound.fail(e),
            }
        });
        Ok(())
    }

    /// Periodic tasks run on the exporter (see [`super::cyclic`]).
    fn cyclic_backend(
        &self,
        frames: &[Frame],
        timing: &canwire_core::cyclic::CyclicTiming,
        hooks: &canwire_bus::cyclic::TaskHooks,
    ) -> Option<Result<Box<dyn canwire_bus::cyclic::CyclicBackend>>> {
        Some(
            RemoteCyclicTask::create(
                &self.link.session,
                &self.link.driver.uuid,
                frames,
                timing,
                hooks,
            )
            .map(|task| Box::new(task) as Box<dyn canwire_bus::cyclic::CyclicBackend>),
        )
    }

    fn kernel_drops(&self) -> u64 {
        self.link.remote_drops.load(Ordering::Relaxed)
    }

    fn receive_errors(&self) -> ReceiveErrors {
        self.link
            .receive_errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Stops receiving and sending. The exporter's bus stays up: it may
    /// serve other clients (`shutdown` would end it for all of them).
    fn close(&self) {
        if self.link.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.link.outbound.close();
        let tasks = std::mem::take(
            &mut *self
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let tasks = if self.link.driver.streaming {
            tasks
        } else {
            // Let the `_recv_internal` in flight end rather than cancel it: the
            // Python exporter keeps serving a cancelled call, and `jmp shell`
            // aborts when it tears the exporter down under one.
            let waited = run_blocking(async move {
                let mut tasks = tasks;
                if let Some(receive) = tasks.first_mut() {
                    let _ = tokio::time::timeout(CLOSE_WAIT, receive).await;
                }
                tasks
            });
            waited.unwrap_or_default()
        };
        for task in tasks {
            task.abort();
        }
    }
}

impl Drop for JumpstarterTransport {
    fn drop(&mut self) {
        self.close();
    }
}
