//! A `Can` export: the Python `Can` driver's methods (C7) on a canwire bus.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use canwire_bus::{Bus, BusState, Protocol};
use canwire_core::cyclic::{CyclicLimit, CyclicTiming};
use canwire_core::{CanFilter, ErrorCode, FilterSet, Frame, FrameFlags};
use prost_types::Value;
use tonic::Status;

use crate::can_message;
use crate::value::{self, as_int, as_list, as_object};

use super::call_args::{self, at_most, path, seconds};
use super::call_status::{closed_bus, invalid, method_not_found, read_only, status_of};
use super::context::ServeContext;
use super::periodic_tasks::PeriodicTasks;
use super::ready_wait::wait_ready;
use super::shared_receiver::{Received, SharedReceiver};

/// How long a send with a null timeout may wait for transmit room.
const SEND_WAIT_CAP: Duration = Duration::from_secs(60);

/// One exported bus and what clients made on it.
pub struct CanExport {
    pub(super) bus: Arc<Bus>,
    pub(super) receiver: SharedReceiver,
    pub(super) tasks: PeriodicTasks,
    pub(super) shut_down: AtomicBool,
    pub(super) context: Arc<ServeContext>,
}

fn bus_error(error: canwire_core::CanwireError) -> Status {
    if error.code == ErrorCode::Closed {
        closed_bus()
    } else {
        status_of(&error)
    }
}

impl Drop for CanExport {
    /// Detaches the shared queue, so a bus that outlives the server does not
    /// keep filling it.
    fn drop(&mut self) {
        self.bus.remove_reader(self.receiver.queue());
    }
}

impl CanExport {
    /// Serves `bus`, attaching its shared receive queue now.
    pub fn new(bus: Arc<Bus>, context: Arc<ServeContext>) -> Result<Self, Status> {
        let receiver = SharedReceiver::attach(&bus).map_err(bus_error)?;
        Ok(Self {
            tasks: PeriodicTasks::new(context.periodic_tasks.clone()),
            bus,
            receiver,
            shut_down: AtomicBool::new(false),
            context,
        })
    }

    pub(super) fn check_alive(&self) -> Result<(), Status> {
        if self.shut_down.load(Ordering::Acquire) || self.bus.is_closed() {
            Err(closed_bus())
        } else {
            Ok(())
        }
    }

    pub(super) fn check_writable(&self, what: &str) -> Result<(), Status> {
        if self.context.read_only {
            Err(read_only(what))
        } else {
            Ok(())
        }
    }

    /// Runs one driver method.
    pub async fn call(&self, method: &str, args: &[Value]) -> Result<Value, Status> {
        match method {
            "send" => self.send(args).await,
            "_recv_internal" => self.recv_internal(args).await,
            "_send_periodic_internal" => self.send_periodic(args),
            "_start_task" => self.start_task(args),
            "_stop_task" => self.stop_task(args),
            "_apply_filters" => self.apply_filters(args),
            "state" => self.state(args),
            "protocol" => {
                at_most(args, 0, method)?;
                Ok(value::number(match self.bus.protocol() {
                    Protocol::Can20 => 1.0,
                    Protocol::CanFd => 2.0,
                }))
            }
            "channel_info" => {
                at_most(args, 0, method)?;
                Ok(value::string(self.bus.channel_info()))
            }
            "flush_tx_buffer" => {
                at_most(args, 0, method)?;
                self.check_writable("flush_tx_buffer")?;
                self.check_alive()?;
                self.bus.flush_tx_buffer().map_err(bus_error)?;
                Ok(value::null())
            }
            "shutdown" => {
                at_most(args, 0, method)?;
                self.check_writable("shutdown")?;
                self.shutdown();
                Ok(value::null())
            }
            "canwire_send_batch" => self.send_batch(args).await,
            _ => Err(method_not_found(method)),
        }
    }

    /// Marks the export dead for the rest of the server's life: tasks stop,
    /// the bus closes (ending receive streams).
    pub fn shutdown(&self) {
        self.shut_down.store(true, Ordering::Release);
        self.tasks.clear();
        self.bus.close();
    }

    /// A frame a client asked to send: transmitted flag and timestamp are the bus's business.
    pub(super) fn outgoing(mut frame: Frame) -> Frame {
        frame.flags.set(FrameFlags::TX, false);
        frame.timestamp_ns = 0;
        frame
    }

    async fn send(&self, args: &[Value]) -> Result<Value, Status> {
        at_most(args, 2, "send")?;
        self.check_writable("send")?;
        let frame =
            can_message::from_value(value::arg(args, 0), &path(0)).map_err(|e| status_of(&e))?;
        let timeout = seconds(args, 1)?;
        self.check_alive()?;
        self.transmit(&[Self::outgoing(frame)], timeout).await?;
        Ok(value::null())
    }

    /// Sends `frames` in order, waiting for transmit room up to `timeout`
    /// (`None`: [`SEND_WAIT_CAP`]) without holding a thread.
    pub(super) async fn transmit(
        &self,
        frames: &[Frame],
        timeout: Option<Duration>,
    ) -> Result<usize, Status> {
        let timeout = timeout.unwrap_or(SEND_WAIT_CAP);
        let mut pending = match self.bus.send_or_wait(frames, timeout).map_err(bus_error)? {
            Ok(sent) => return Ok(sent),
            Err(pending) => pending,
        };
        loop {
            wait_ready(
                |k, h| pending.notify_once(k, h),
                |k| pending.cancel_notify(k),
                pending.remaining(),
            )
            .await;
            if let Some(sent) = pending.poll().map_err(bus_error)? {
                return Ok(sent);
            }
        }
    }

    async fn recv_internal(&self, args: &[Value]) -> Result<Value, Status> {
        at_most(args, 1, "_recv_internal")?;
        let timeout = seconds(args, 0)?;
        self.check_alive()?;
        match self.receiver.recv(timeout, &self.context.closing).await {
            Received::Frame(frame) => {
                let channel = self.bus.channel_name(frame.channel);
                Ok(value::list(vec![
                    can_message::to_value(&frame, channel.as_deref()),
                    value::boolean(false),
                ]))
            }
            Received::Nothing => Ok(value::list(vec![value::null(), value::boolean(false)])),
            Received::Closed => Err(closed_bus()),
        }
    }

    fn send_periodic(&self, args: &[Value]) -> Result<Value, Status> {
        at_most(args, 5, "_send_periodic_internal")?;
        self.check_writable("_send_periodic_internal")?;
        let messages = as_list(value::arg(args, 0), &path(0)).map_err(|_| {
            invalid("args[0] must be a list of CanMessage (python-can's send_periodic always sends a list)")
        })?;
        if messages.is_empty() {
            return Err(invalid("args[0] must hold at least one CanMessage"));
        }
        let frames = messages
            .iter()
            .enumerate()
            .map(|(i, m)| can_message::from_value(m, &format!("args[0][{i}]")).map(Self::outgoing))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| status_of(&e))?;
        let period = seconds(args, 1)?
            .filter(|p| !p.is_zero())
            .ok_or_else(|| invalid("args[1] (period) must be a number of seconds above 0"))?;
        let limit = match seconds(args, 2)? {
            None => CyclicLimit::Forever,
            Some(d) if d.is_zero() => {
                return Err(invalid(
                    "args[2] (duration) must be null or a number of seconds above 0",
                ));
            }
            Some(d) => CyclicLimit::Duration(d.as_nanos().min(u128::from(u64::MAX)) as u64),
        };
        let autostart = call_args::flag(args, 3, true)?;
        if !value::is_null(value::arg(args, 4)) {
            return Err(invalid(
                "args[4] (modifier_callback) must be null: a callback cannot cross the wire",
            ));
        }
        self.check_alive()?;
        let timing = CyclicTiming {
            period_ns: period.as_nanos().min(u128::from(u64::MAX)) as u64,
            initial: None,
            limit,
        };
        let uuid = self.tasks.create(&self.bus, frames, timing, autostart)?;
        Ok(value::string(uuid.hyphenated().to_string()))
    }

    fn start_task(&self, args: &[Value]) -> Result<Value, Status> {
        at_most(args, 1, "_start_task")?;
        self.check_writable("_start_task")?;
        let uuid = call_args::task_uuid(args, 0)?;
        self.tasks.start(&uuid)?;
        Ok(value::null())
    }

    fn stop_task(&self, args: &[Value]) -> Result<Value, Status> {
        at_most(args, 1, "_stop_task")?;
        let uuid = call_args::task_uuid(args, 0)?;
        self.tasks.stop(&uuid)?;
        Ok(value::null())
    }

    fn apply_filters(&self, args: &[Value]) -> Result<Value, Status> {
        at_most(args, 1, "_apply_filters")?;
        let filters = parse_filters(value::arg(args, 0))?;
        self.check_alive()?;
        self.receiver.set_filters(filters);
        Ok(value::null())
    }

    fn state(&self, args: &[Value]) -> Result<Value, Status> {
        at_most(args, 1, "state")?;
        let wanted = value::arg(args, 0);
        let is_get = value::is_null(wanted)
            || matches!(wanted.kind, Some(prost_types::value::Kind::NumberValue(n)) if n == 0.0);
        if is_get {
            return Ok(value::number(match self.bus.state() {
                BusState::Passive => 2.0,
                BusState::BusOff => 3.0,
                _ => 1.0,
            }));
        }
        self.check_writable("setting the state")?;
        as_int(wanted, &path(0), 1, 3).map_err(|e| status_of(&e))?;
        Err(Status::unimplemented("Property is not implemented."))
    }
}

/// python-can's `can_filters`: null (no filter) or a list of
/// `{can_id, can_mask, extended?}`.
pub fn parse_filters(value: &Value) -> Result<FilterSet, Status> {
    if value::is_null(value) {
        return Ok(FilterSet::default());
    }
    let items = as_list(value, "args[0]").map_err(|e| status_of(&e))?;
    let filters = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("args[0][{i}]");
            let fields = as_object(item, &at)?;
            let id = as_int(
                value::field(fields, "can_id", &at)?,
                &format!("{at}.can_id"),
                0,
                i64::from(u32::MAX),
            )? as u32;
            let mask = as_int(
                value::field(fields, "can_mask", &at)?,
                &format!("{at}.can_mask"),
                0,
                i64::from(u32::MAX),
            )? as u32;
            let extended = match fields.get("extended") {
                Some(v) if !value::is_null(v) => {
                    Some(value::as_bool(v, &format!("{at}.extended"))?)
                }
                _ => None,
            };
            Ok(CanFilter {
                extended,
                ..CanFilter::new(id, mask)
            })
        })
        .collect::<canwire_core::error::Result<Vec<_>>>()
        .map_err(|e| status_of(&e))?;
    Ok(FilterSet::any_of(filters))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn filters_are_pythons_can_filters() {
        let v = value::list(vec![value::object([
            ("can_id", value::number(291.0)),
            ("can_mask", value::number(2047.0)),
            ("extended", value::boolean(false)),
        ])]);
        let set = parse_filters(&v).unwrap();
        assert_eq!(
            set.filters(),
            &[CanFilter {
                extended: Some(false),
                ..CanFilter::new(0x123, 0x7ff)
            }]
        );
        assert!(parse_filters(&value::null()).unwrap().filters().is_empty());
        let bad = value::list(vec![value::object([("can_id", value::number(1.0))])]);
        let e = parse_filters(&bad).unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert_eq!(e.message(), "args[0][0].can_mask: field required");
    }
}
