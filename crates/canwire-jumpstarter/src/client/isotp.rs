//! [`RemoteIsoTp`]: an exporter's ISO-TP driver (`IsoTpPython` or
//! `IsoTpSocket`) as a canwire [`IsoTpBackend`], under the same
//! `IsoTpStack` front end as the local stacks.
//!
//! | canwire | exporter call |
//! |---|---|
//! | open / `resume` | `start()` ("already started" by an earlier client is accepted) |
//! | `send` | `send([{data}, target_address_type, null])`, then `transmitting()` polled until the transfer ends |
//! | received payloads | `recv([true, 0.2])` polled into the inbox (see below) |
//! | `transmitting` | known locally: a payload queued or not yet reported done |
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

use super::report::{FoundDriver, ISOTP_CLIENT, find_driver};
use super::runtime::{run_blocking, runtime};
use super::session::ExporterSession;
use super::target::{ConnectOptions, resolve};
use crate::value;

/// The receive timeout of one `recv` poll, in seconds.
pub const POLL_S: f64 = 0.2;
/// How long a call other than a blocking `recv` may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long closing waits for the receive poll in flight.
const CLOSE_WAIT: Duration = Duration::from_millis(1000);
/// Payloads queued for sending before `send` refuses more.
pub const SEND_QUEUE: usize = 64;
/// How often a transfer in progress is asked about.
const TRANSMIT_POLL: Duration = Duration::from_millis(2);
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
    let target = resolve(
        &options.connect,
        |k: &str| std::env::var(k).ok(),
        |path: &str| std::fs::read_to_string(path),
    )?;
    let session = ExporterSession::connect(&target).await?;
    let report = session.report().await?;
    let driver = find_driver(&report, &options.path, ISOTP_CLIENT)?;
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

/// The payload of a `recv` result (`{data: base64|null}`), if any.
pub fn payload_of(result: &Value) -> Result<Option<Vec<u8>>> {
    let fields = value::as_object(result, "recv result")?;
    let data = value::field(fields, "data", "recv result")?;
    if value::is_null(data) {
        return Ok(None);
    }
    value::as_bytes(data, "recv result.data").map(Some)
}

/// The arguments of the driver's `send`.
pub fn send_args(data: &[u8], target: Option<TargetAddressType>) -> Vec<Value> {
    vec![
        value::object([("data", value::bytes(data))]),
        match target {
            None => value::null(),
            Some(TargetAddressType::Physical) => value::number(0.0),
            Some(TargetAddressType::Functional) => value::number(1.0),
        },
        value::null(),
    ]
}

/// Hands one payload to the exporter and waits for its transfer to end.
async fn transfer(link: &IsoTpLink, item: &Queued) -> Result<()> {
    link.call(
        "send",
        send_args(&item.data, item.target),
        Some(CALL_TIMEOUT),
    )
    .await?;
    if link.socket_driver {
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

/// The driver's `IsoTpAddress` for a normal-addressing canwire address;
/// other modes are `ERR_UNSUPPORTED` (canwire keeps them resolved to CAN
/// ids and prefixes, which the Python address cannot be rebuilt from).
pub fn address_value(address: &IsoTpAddress) -> Result<Value> {
    let (Some(tx), Some(rx)) = (address.tx(), address.rx()) else {
        return Err(unsupported_address());
    };
    if tx.prefix.is_some()
        || rx.prefix.is_some()
        || tx.physical_id != tx.functional_id
        || tx.extended != rx.extended
    {
        return Err(unsupported_address());
    }
    let mode = if tx.extended { 1.0 } else { 0.0 };
    Ok(value::object([
        ("addressing_mode", value::number(mode)),
        ("txid", value::number(f64::from(tx.physical_id))),
        ("rxid", value::number(f64::from(rx.physical_id))),
        ("target_address", value::null()),
        ("source_address", value::null()),
        ("physical_id", value::null()),
        ("functional_id", value::null()),
        ("address_extension", value::null()),
        ("rx_only", value::boolean(false)),
        ("tx_only", value::boolean(false)),
    ]))
}

fn unsupported_address() -> CanwireError {
    CanwireError::new(
        ErrorCode::Unsupported,
        "setAddress on a Jumpstarter ISO-TP driver takes a normal address (txid and rxid, 11 or 29 bits, both directions)",
    )
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
        });
        drop(queue);
        self.link.work.notify_one();
        Ok(id)
    }

    fn transmitting(&self) -> bool {
        self.link.in_flight.load(Ordering::Acquire) || !self.link.queue().is_empty()
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

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::isotp::AddressConfig;

    #[test]
    fn a_send_is_the_payload_as_base64_the_target_type_and_no_timeout() {
        let args = send_args(&[0x10, 0x20], Some(TargetAddressType::Functional));
        let fields = value::as_object(&args[0], "a").unwrap();
        assert_eq!(value::as_str(&fields["data"], "d").unwrap(), "ECA=");
        assert_eq!(value::as_f64(&args[1], "t").unwrap(), 1.0);
        assert!(value::is_null(&args[2]));
        assert!(value::is_null(&send_args(&[], None)[1]));
    }

    #[test]
    fn a_recv_result_is_a_payload_or_nothing() {
        let got = value::object([("data", value::bytes(&[1, 2, 3]))]);
        assert_eq!(payload_of(&got).unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(
            payload_of(&value::object([("data", value::null())])).unwrap(),
            None
        );
        assert_eq!(
            payload_of(&value::null()).unwrap_err().message,
            "recv result must be an object, got null"
        );
    }

    #[test]
    fn a_normal_address_becomes_the_drivers_ten_keys_and_others_are_refused() {
        let address = IsoTpAddress::new(AddressConfig::normal(false, 0x7e0, 0x7e8)).unwrap();
        let v = address_value(&address).unwrap();
        let fields = value::as_object(&v, "a").unwrap();
        assert_eq!(fields.len(), 10);
        assert_eq!(value::as_f64(&fields["txid"], "t").unwrap(), 2016.0);
        assert_eq!(value::as_f64(&fields["rxid"], "r").unwrap(), 2024.0);
        assert_eq!(value::as_f64(&fields["addressing_mode"], "m").unwrap(), 0.0);
        let extended =
            IsoTpAddress::new(AddressConfig::extended(false, 0x7e0, 0x7e8, 0x55, 0xaa)).unwrap();
        assert_eq!(
            address_value(&extended).unwrap_err().code,
            ErrorCode::Unsupported
        );
    }
}
