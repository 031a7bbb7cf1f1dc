//! An ISO-TP export: the Python `IsoTpPython` driver's methods (C7) on a
//! canwire `IsoTpStack`. As there, the stack starts stopped: a client calls
//! `start()` first (a second `start()` is UNKNOWN "Transport Layer is
//! already started"), and `send` only queues the payload.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use canwire_bus::isotp::IsoTpStack;
use canwire_core::isotp::TargetAddressType;
use prost_types::Value;
use tonic::Status;

use crate::value::{self, as_bytes, as_int, as_object, field};

use super::call_args::{at_most, flag, path, seconds};
use super::call_status::{invalid, method_not_found, read_only, status_of};
use super::context::ServeContext;
use super::isotp_address::parse_address;
use super::ready_wait::wait_ready;

/// Longest single wait of a blocking `recv`, after which it looks at the
/// server's closing flag again.
const WAIT_SLICE: Duration = Duration::from_secs(1);

/// One exported ISO-TP stack.
pub struct IsoTpExport {
    stack: Arc<IsoTpStack>,
    started: AtomicBool,
    /// Whether the stack ran before it was exported, to restore on drop.
    was_running: bool,
    context: Arc<ServeContext>,
}

impl Drop for IsoTpExport {
    /// Leaves the stack running or paused as its owner had it.
    fn drop(&mut self) {
        if self.was_running {
            let _ = self.stack.resume();
        } else {
            self.stack.pause();
        }
    }
}

fn null_result(result: canwire_core::error::Result<()>) -> Result<Value, Status> {
    result.map(|()| value::null()).map_err(|e| status_of(&e))
}

impl IsoTpExport {
    /// Serves `stack`, stopping it until a client calls `start()`.
    pub fn new(stack: Arc<IsoTpStack>, context: Arc<ServeContext>) -> Self {
        let was_running = stack.is_running();
        stack.pause();
        Self {
            stack,
            started: AtomicBool::new(false),
            was_running,
            context,
        }
    }

    /// Runs one driver method.
    pub async fn call(&self, method: &str, args: &[Value]) -> Result<Value, Status> {
        let no_args = |n| at_most(args, n, method);
        match method {
            "start" => {
                no_args(0)?;
                if self.started.swap(true, Ordering::AcqRel) {
                    return Err(Status::unknown("Transport Layer is already started"));
                }
                let resumed = null_result(self.stack.resume());
                if resumed.is_err() {
                    self.started.store(false, Ordering::Release);
                }
                resumed
            }
            "stop" => {
                no_args(0)?;
                self.started.store(false, Ordering::Release);
                self.stack.pause();
                Ok(value::null())
            }
            "send" => self.send(args),
            "recv" => self.recv(args).await,
            "available" => {
                no_args(0)?;
                Ok(value::boolean(self.stack.available()))
            }
            "transmitting" => {
                no_args(0)?;
                Ok(value::boolean(self.stack.transmitting()))
            }
            "set_address" => {
                no_args(1)?;
                let address =
                    parse_address(value::arg(args, 0), &path(0)).map_err(|e| status_of(&e))?;
                null_result(self.stack.set_address(address))
            }
            "stop_sending" => {
                no_args(0)?;
                self.stack.stop_sending();
                Ok(value::null())
            }
            "stop_receiving" => {
                no_args(0)?;
                self.stack.stop_receiving();
                Ok(value::null())
            }
            _ => Err(method_not_found(method)),
        }
    }

    fn send(&self, args: &[Value]) -> Result<Value, Status> {
        at_most(args, 3, "send")?;
        if self.context.read_only {
            return Err(read_only("send"));
        }
        let message = as_object(value::arg(args, 0), &path(0)).map_err(|e| status_of(&e))?;
        let data = field(message, "data", &path(0))
            .and_then(|d| as_bytes(d, "args[0].data"))
            .map_err(|e| status_of(&e))?;
        let target = match value::arg(args, 1) {
            v if value::is_null(v) => None,
            v => match as_int(v, &path(1), 0, 1).map_err(|e| status_of(&e))? {
                0 => Some(TargetAddressType::Physical),
                _ => Some(TargetAddressType::Functional),
            },
        };
        seconds(args, 2)?; // send_timeout: checked; sends only queue, as in Python
        if data.is_empty() {
            return Err(invalid("args[0].data must hold at least 1 byte"));
        }
        self.stack
            .send(data, target, false)
            .map(|_| value::null())
            .map_err(|e| status_of(&e))
    }

    async fn recv(&self, args: &[Value]) -> Result<Value, Status> {
        at_most(args, 2, "recv")?;
        let block = flag(args, 0, false)?;
        let timeout = seconds(args, 1)?;
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(payload) = self.stack.try_recv() {
                return Ok(value::object([("data", value::bytes(&payload.data))]));
            }
            let left = deadline.map_or(WAIT_SLICE, |d| d.saturating_duration_since(Instant::now()));
            if !block || left.is_zero() || self.stack.is_closed() || self.context.is_closing() {
                return Ok(value::object([("data", value::null())]));
            }
            let inbox = self.stack.inbox();
            wait_ready(
                |k, h| inbox.notify_when_readable(k, h),
                |k| inbox.cancel_notify(k),
                left.min(WAIT_SLICE),
            )
            .await;
        }
    }
}
