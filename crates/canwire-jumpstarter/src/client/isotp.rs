//! [`RemoteIsoTp`]: an exporter's ISO-TP driver (`IsoTpPython` or
//! `IsoTpSocket`) as a canwire [`IsoTpBackend`], under the same
//! `IsoTpStack` front end as the local stacks.
//!
//! | canwire | exporter call |
//! |---|---|
//! | open / `resume` | `start()` ("already started" by an earlier client is accepted) |
//! | `send` | `send([{data}, target_address_type, null])`; for a blocking send, `transmitting()` polled until the transfer ends |
//! | received payloads | `recv([true, 0.2])` polled into the inbox (see below) |
//! | `transmitting` | true while payloads wait here, else `transmitting()` |
//! | `set_address`, `stop_sending`, `stop_receiving` | the same names |
//! | `pause` / close | `stop()` |
//!
//! `IsoTpSocket` ignores `recv`'s arguments and blocks in the kernel until
//! a PDU arrives; it also answers `available()` with UNIMPLEMENTED, which is
//! how a canwire client tells it apart. With it the client keeps exactly one
//! `recv` outstanding, without a deadline, so one exporter thread waits for
//! the next PDU; a client closing meanwhile leaves that thread waiting, and
//! the PDU it then takes is lost to everyone. Prefer `IsoTpPython` exports.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use canwire_bus::isotp::{Inbox, IsoTpBackend, ReceivedPayload, TransferStatus};
use canwire_core::error::Result;
use canwire_core::isotp::{
    IsoTpAddress, IsoTpError, IsoTpErrorCode, TargetAddressType, TransferId,
};
use canwire_core::{CanwireError, ErrorCode};
use prost_types::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::isotp_values::{address_value, payload_of, send_args};
use super::report::{FoundDriver, ISOTP_CLIENT};
use super::runtime::{run_blocking, runtime};
use super::session::ExporterSession;
use super::target::ConnectOptions;
use crate::value;

/// The receive timeout of one `recv` poll, in seconds.
pub const POLL_S: f64 = 0.2;
/// How long a call other than a blocking `recv` may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long closing waits for the receive poll in flight.
const CLOSE_WAIT: Duration = Duration::from_millis(1000);
/// Payloads queued for sending before `send` refuses more.
pub const SEND_QUEUE: usize = 64;
/// How often a tracked transfer in progress is asked about.
const TRANSMIT_POLL: Duration = Duration::from_millis(5);
/// Longest a transfer may take before it fails with `ERR_TIMEOUT`.
const TRANSFER_LIMIT: Duration = Duration::from_secs(120);

/// How to open a remote ISO-TP driver.
#[derive(Debug, Clone, Default)]
pub struct IsoTpOpenOptions {
    /// Where the exporter is.
    pub connect: ConnectOptions,
    /// The driver's name or path.
    pub path: String,
    /// Received payloads kept unread before more are counted as overflow.
    pub rx_queue_payloads: usize,
}

struct Queued {
    id: TransferId,
    data: Vec<u8>,
    target: Option<TargetAddressType>,
    /// Someone waits for the transfer's end: ask the exporter until it ends.
    track: bool,
}

struct IsoTpLink {
    session: ExporterSession,
    driver: FoundDriver,
    inbox: Arc<Inbox>,
    /// The driver is an `IsoTpSocket` (blocking `recv`, no `transmitting`).
    socket_driver: bool,
    queue: Mutex<VecDeque<Queued>>,
    work: Notify,
    /// A payload handed to the exporter whose transfer has not ended.
    in_flight: AtomicBool,
    running: AtomicBool,
    closed: AtomicBool,
}

impl IsoTpLink {
    fn queue(&self) -> MutexGuard<'_, VecDeque<Queued>> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn call(
        &self,
        method: &str,
        args: Vec<Value>,
        timeout: Option<Duration>,
    ) -> Result<Value> {
        self.session
            .call(&self.driver.uuid, method, args, timeout)
            .await
    }

    /// A failure that ends the stack (a lost connection), unless closing.
    fn fail(&self, error: CanwireError) {
        if !self.closed.load(Ordering::Acquire) {
            self.inbox.fail(error);
        }
    }
}

/// `start()`, accepting a stack an earlier client left started.
async fn start(session: &ExporterSession, uuid: &str) -> Result<()> {
    match session
        .call(uuid, "start", vec![], Some(CALL_TIMEOUT))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.message.contains("already started") => Ok(()),
        Err(e) => Err(e),
    }
}

async fn connect(options: &IsoTpOpenOptions) -> Result<(ExporterSession, FoundDriver, bool)> {
    let (session, driver) =
        ExporterSession::open_driver(&options.connect, &options.path, ISOTP_CLIENT).await?;
    start(&session, &driver.uuid).await?;
    let socket_driver = match session
        .call(&driver.uuid, "available", vec![], Some(CALL_TIMEOUT))
        .await
    {
        Ok(_) => false,
        Err(e) if e.code == ErrorCode::Unsupported => true,
        Err(e) => return Err(e),
    };
    Ok((session, driver, socket_driver))
}

/// An exporter's ISO-TP driver.
pub struct RemoteIsoTp {
    link: Arc<IsoTpLink>,
    next_id: AtomicU64,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl RemoteIsoTp {
    /// Connects, finds the driver, starts it and starts receiving; returns
    /// the inbox it reports into (for `IsoTpStack::with_backend`). Blocks
    /// this thread for the round trips: call it off the event loop.
    pub fn open(options: IsoTpOpenOptions) -> Result<(Arc<Inbox>, Self)> {
        let inbox = Arc::new(Inbox::new(options.rx_queue_payloads.max(1)));
        let (session, driver, socket_driver) =
            run_blocking(async move { connect(&options).await })??;
        let link = Arc::new(IsoTpLink {
            session,
            driver,
            inbox: inbox.clone(),
            socket_driver,
            queue: Mutex::default(),
            work: Notify::new(),
            in_flight: AtomicBool::new(false),
            running: AtomicBool::new(true),
            closed: AtomicBool::new(false),
        });
        let rt = runtime()?;
        let tasks = vec![
            rt.spawn(receive(link.clone())),
            rt.spawn(transmit(link.clone())),
        ];
        Ok((
            inbox,
            Self {
                link,
                next_id: AtomicU64::new(1),
                tasks: Mutex::new(tasks),
            },
        ))
    }

    /// True when the driver is an `IsoTpSocket`.
    pub fn is_socket_driver(&self) -> bool {
        self.link.socket_driver
    }

    fn blocking(&self, method: &'static str, args: Vec<Value>) -> Result<Value> {
        let link = self.link.clone();
        run_blocking(async move { link.call(method, args, Some(CALL_TIMEOUT)).await })?
    }

    /// Makes a call in the background; its failure is counted in the stats.
    fn background(&self, method: &'static str) {
        let link = self.link.clone();
        if let Ok(rt) = runtime() {
            rt.spawn(async move {
                match link.call(method, vec![], Some(CALL_TIMEOUT)).await {
                    Ok(_) => {}
                    Err(e) if e.code == ErrorCode::Unreachable => link.fail(e),
                    Err(e) => link.inbox.push_os_error(&e),
                }
            });
        }
    }
}

/// The payloads the exporter reassembled, into the inbox.
async fn receive(link: Arc<IsoTpLink>) {
    let (args, deadline) = if link.socket_driver {
        (vec![value::boolean(true), value::null()], None)
    } else {
        (
            vec![value::boolean(true), value::number(POLL_S)],
            Some(Duration::from_secs(15)),
        )
    };
    // a closing stack lets the call in flight end (see `RemoteIsoTp::close`)
    while !link.closed.load(Ordering::Acquire) {
        match link.call("recv", args.clone(), deadline).await {
            Ok(result) => match payload_of(&result) {
                Ok(Some(data)) => link.inbox.push_payload(ReceivedPayload {
                    data,
                    target_address_type: TargetAddressType::Physical,
                }),
                Ok(None) => {}
                Err(e) => link.inbox.push_os_error(&e),
            },
            Err(e) if e.code == ErrorCode::Unreachable => {
                link.fail(e);
                return;
            }
            Err(e) => {
                // the exporter refused (e.g. its stack is stopped): say so, retry gently
                link.inbox.push_os_error(&e);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Hands one payload to the exporter and waits for its transfer to end.
async fn transfer(link: &IsoTpLink, item: &Queued) -> Result<()> {
    link.call(
        "send",
        send_args(&item.data, item.target),
        Some(CALL_TIMEOUT),
    )
    .await?;
    // An untracked payload is handed over: the exporter's stack sends its
    // queue in order, and asking it meanwhile only competes with that stack
    // for the exporter's interpreter.
    if link.socket_driver || !item.track {
        return Ok(());
    }
    let started = tokio::time::Instant::now();
    loop {
        let busy = link
            .call("transmitting", vec![], Some(CALL_TIMEOUT))
            .await?;
        if !value::as_bool(&busy, "transmitting result")? {
            return Ok(());
        }
        if started.elapsed() > TRANSFER_LIMIT {
            return Err(CanwireError::new(
                ErrorCode::Timeout,
                format!(
                    "the exporter's transfer did not end within {} s",
                    TRANSFER_LIMIT.as_secs()
                ),
            ));
        }
        tokio::time::sleep(TRANSMIT_POLL).await;
    }
}

/// Sends queued payloads one transfer at a time, in order.
async fn transmit(link: Arc<IsoTpLink>) {
    loop {
        let notified = link.work.notified();
        let next = link.queue().pop_front();
        let Some(item) = next else {
            notified.await;
            continue;
        };
        link.in_flight.store(true, Ordering::Release);
        let outcome = transfer(&link, &item).await;
        link.in_flight.store(false, Ordering::Release);
        match outcome {
            Ok(()) => link
                .inbox
                .finish_transfer(item.id, TransferStatus::Complete),
            Err(e) if e.code == ErrorCode::Unreachable => {
                link.fail(e);
                return;
            }
            Err(e) => {
                link.inbox.push_os_error(&e);
                link.inbox
                    .finish_transfer(item.id, TransferStatus::OsFailed(e));
            }
        }
    }
}

impl IsoTpBackend for RemoteIsoTp {
    fn send(
        &self,
        payload: Vec<u8>,
        target: Option<TargetAddressType>,
        track: bool,
    ) -> Result<TransferId> {
        if !self.link.running.load(Ordering::Acquire) {
            return Err(canwire_bus::isotp::backend::stopped());
        }
        if let Some(failure) = self.link.inbox.failure() {
            return Err(failure);
        }
        let mut queue = self.link.queue();
        if queue.len() >= SEND_QUEUE {
            return Err(CanwireError::new(
                ErrorCode::TxBufferFull,
                format!("{SEND_QUEUE} payloads already wait to be sent to the exporter"),
            ));
        }
        let id = TransferId(self.next_id.fetch_add(1, Ordering::Relaxed));
        if track {
            self.link.inbox.track(id);
        }
        queue.push_back(Queued {
            id,
            data: payload,
            target,
            track,
        });
        drop(queue);
        self.link.work.notify_one();
        Ok(id)
    }

    /// True while payloads wait here or a tracked one is under way; else
    /// the exporter is asked (a round trip), since untracked payloads are
    /// left to it once handed over.
    fn transmitting(&self) -> bool {
        if self.link.in_flight.load(Ordering::Acquire) || !self.link.queue().is_empty() {
            return true;
        }
        if self.link.socket_driver {
            return false;
        }
        matches!(
            self.blocking("transmitting", vec![])
                .and_then(|v| value::as_bool(&v, "transmitting result")),
            Ok(true)
        )
    }

    /// Drops the payloads not yet handed over (their transfers fail with
    /// `ERR_ISOTP_SEND_STOPPED`) and asks the exporter to stop its own.
    fn stop_sending(&self) {
        let dropped: Vec<Queued> = self.link.queue().drain(..).collect();
        for item in dropped {
            self.link.inbox.finish_transfer(
                item.id,
                TransferStatus::Failed(IsoTpError::new(
                    IsoTpErrorCode::SendStopped,
                    "stopSending() dropped this payload before it reached the exporter",
                )),
            );
        }
        self.background("stop_sending");
    }

    fn stop_receiving(&self) {
        self.background("stop_receiving");
    }

    fn set_address(&self, address: IsoTpAddress) -> Result<()> {
        let value = address_value(&address)?;
        self.blocking("set_address", vec![value]).map(drop)
    }

    fn pause(&self) {
        self.link.running.store(false, Ordering::Release);
        self.background("stop");
    }

    fn resume(&self) -> Result<()> {
        let link = self.link.clone();
        run_blocking(async move { start(&link.session, &link.driver.uuid).await })??;
        self.link.running.store(true, Ordering::Release);
        Ok(())
    }

    fn is_running(&self) -> bool {
        self.link.running.load(Ordering::Acquire)
    }

    /// Stops receiving and sending, then `stop()` on the exporter (waited
    /// for, so the next client's `start()` finds it stopped).
    fn close(&self) {
        if self.link.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut tasks = std::mem::take(
            &mut *self
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if !self.link.socket_driver {
            // let the `recv` poll in flight end: `jmp shell` aborts when it
            // tears its exporter down under a call still being served
            let waited = run_blocking(async move {
                if let Some(receive) = tasks.first_mut() {
                    let _ = tokio::time::timeout(CLOSE_WAIT, receive).await;
                }
                tasks
            });
            tasks = waited.unwrap_or_default();
        }
        for task in tasks {
            task.abort();
        }
        if self.link.running.load(Ordering::Acquire) && self.link.inbox.failure().is_none() {
            let link = self.link.clone();
            let _ = run_blocking(async move {
                link.call("stop", vec![], Some(Duration::from_secs(2)))
                    .await
            });
        }
    }
}

impl Drop for RemoteIsoTp {
    fn drop(&mut self) {
        self.close();
    }
}
