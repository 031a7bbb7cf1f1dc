//! Cyclic tasks exported to JS.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use canwire_bus::cyclic::{
    CyclicTask, ErrorSink, FrameModifier, ModifierReply, ModifierTurn, SchedulerKind, TaskHooks,
};
use canwire_core::cyclic::{CyclicLimit, CyclicTiming};
use canwire_core::record::{decode_batch, encode_batch};
use canwire_core::{CanwireError, Frame};
use napi::bindgen_prelude::JsObjectValue;
use napi::bindgen_prelude::{Buffer, FnArgs, Function, Uint8Array};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status, Unknown};
use napi_derive::napi;

use crate::bus::NativeBus;
use crate::error::{IntoNapi, invalid_argument};

/// Timing of a task, in ms (fractions allowed).
#[napi(object)]
pub struct NativeCyclicTiming {
    pub period_ms: f64,
    pub duration_ms: Option<f64>,
    pub count: Option<f64>,
    pub initial_period_ms: Option<f64>,
    pub initial_count: Option<f64>,
}

/// Counters of a task.
#[napi(object)]
pub struct NativeCyclicStats {
    pub sent: i64,
    pub missed: i64,
    pub late: i64,
    pub lateness_ms: f64,
    pub max_lateness_ms: f64,
    pub send_errors: i64,
    pub last_error: Option<String>,
    pub running: bool,
    pub late_modifier: i64,
    pub modifier_errors: i64,
    /// `"frames"` (counted) or `"schedule"` (estimated from the schedule).
    pub sent_counted: String,
}

/// `onError(message)`: weak (it does not keep Node alive), called without waiting.
pub type ErrorCallback = ThreadsafeFunction<String, (), String, Status, false, true>;

/// `modifier(record, slot)` → a record, or null to keep the frame (the facade
/// converts to and from messages); weak, called without waiting.
pub type ModifierCallback = ThreadsafeFunction<
    FnArgs<(Buffer, f64)>,
    Option<Uint8Array>,
    FnArgs<(Buffer, f64)>,
    Status,
    false,
    true,
>;

fn error_sink(callback: ErrorCallback) -> ErrorSink {
    Arc::new(move |error: &CanwireError| {
        callback.call(
            crate::error::envelope(error),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    })
}

/// The JS modifier behind the scheduler's [`FrameModifier`].
struct JsModifier(ModifierCallback);

impl FrameModifier for JsModifier {
    fn request(&self, frame: &Frame, slot: u64, mut reply: ModifierReply) {
        let mut record = Vec::new();
        encode_batch(std::slice::from_ref(frame), &mut record);
        let args = FnArgs::from((Buffer::from(record), slot as f64));
        let turn = reply.take_turn();
        let mut pending = Some((reply, turn));
        let status = self.0.call_with_return_value(
            args,
            ThreadsafeFunctionCallMode::NonBlocking,
            move |answer: napi::Result<Option<Uint8Array>>, env| {
                let Some((reply, turn)) = pending.take() else {
                    return Ok(());
                };
                match answer {
                    Ok(None) => reply.answer(None),
                    Ok(Some(bytes)) => match decode_batch(&bytes) {
                        Ok(frames) if frames.len() == 1 => reply.answer(Some(frames[0])),
                        Ok(_) => reply.fail(CanwireError::invalid_argument(
                            "the modifier must answer one message",
                        )),
                        Err(e) => reply.fail(e),
                    },
                    Err(e) => reply.fail(thrown(&e.reason)),
                }
                end_turn_after_dispatch(&env, turn);
                Ok(())
            },
        );
        // Any other status: the JS side is going away and will not answer; the
        // content stays (the reply and turn, moved into the callback, drop
        // unanswered and let the task ask again).
        let _ = status;
    }
}

/// Ends a modifier turn from the event loop's next check phase
/// (`setImmediate`), not now. This runs inside Node's threadsafe-function
/// dispatch, which keeps calling the modifier (up to ~1000 times) while a
/// call is queued during the previous one; a task asking again right after
/// the answer could queue its next question in time, again and again, and
/// timers would never run. Asking only after the dispatch returned to the
/// event loop gives timers and I/O their turn between two questions.
fn end_turn_after_dispatch(env: &Env, turn: ModifierTurn) {
    let held = Rc::new(RefCell::new(Some(turn)));
    let in_immediate = held.clone();
    let scheduled = (|| -> napi::Result<()> {
        let set_immediate: Function<Function<(), ()>, Unknown> =
            env.get_global()?.get_named_property("setImmediate")?;
        let end = env.create_function_from_closure("endModifierTurn", move |_| {
            in_immediate.borrow_mut().take();
            Ok(())
        })?;
        set_immediate.call(end)?;
        Ok(())
    })();
    if scheduled.is_err() {
        // No later turn to wait for (the environment is going away): end it now.
        held.borrow_mut().take();
    }
}

/// A modifier's exception: the error its envelope names (the facade wraps
/// every exception as one), else the raw reason.
fn thrown(reason: &str) -> CanwireError {
    crate::error::from_envelope(reason)
        .unwrap_or_else(|| CanwireError::invalid_argument(format!("the modifier threw: {reason}")))
}

fn ms_to_ns(name: &str, ms: f64) -> napi::Result<u64> {
    crate::convert::duration_ms(name, ms).into_napi()
}

/// The largest frame count: the largest integer a JS number holds exactly.
const MAX_COUNT: u64 = (1 << 53) - 1;

fn count(name: &str, value: f64) -> napi::Result<u64> {
    crate::convert::integer(name, value, 1..=MAX_COUNT).into_napi()
}

fn timing_from(t: &NativeCyclicTiming) -> napi::Result<CyclicTiming> {
    let limit = match (t.duration_ms, t.count) {
        (Some(_), Some(_)) => {
            return Err(invalid_argument("give durationMs or count, not both"));
        }
        (Some(d), None) => CyclicLimit::Duration(ms_to_ns("durationMs", d)?),
        (None, Some(c)) => CyclicLimit::Count(count("count", c)?),
        (None, None) => CyclicLimit::Forever,
    };
    let initial = match (t.initial_count, t.initial_period_ms) {
        (Some(c), Some(p)) => Some((count("initialCount", c)?, ms_to_ns("initialPeriodMs", p)?)),
        (None, None) => None,
        _ => {
            return Err(invalid_argument(
                "initialCount and initialPeriodMs go together",
            ));
        }
    };
    Ok(CyclicTiming {
        period_ns: ms_to_ns("periodMs", t.period_ms)?,
        initial,
        limit,
    })
}

/// Which scheduler runs a task.
#[napi(string_enum)]
pub enum NativeCyclicScheduler {
    /// canwire's scheduler thread.
    #[napi(value = "native")]
    Native,
    /// The kernel's broadcast manager (SocketCAN).
    #[napi(value = "kernel")]
    Kernel,
}

impl From<NativeCyclicScheduler> for SchedulerKind {
    fn from(s: NativeCyclicScheduler) -> Self {
        match s {
            NativeCyclicScheduler::Native => Self::Native,
            NativeCyclicScheduler::Kernel => Self::Kernel,
        }
    }
}

impl From<SchedulerKind> for NativeCyclicScheduler {
    fn from(s: SchedulerKind) -> Self {
        match s {
            SchedulerKind::Native => Self::Native,
            SchedulerKind::Kernel => Self::Kernel,
        }
    }
}

/// A cyclic task, on the native scheduler or the kernel's (BCM).
#[napi]
pub struct NativeCyclicTask {
    task: CyclicTask,
}

#[napi]
impl NativeCyclicTask {
    /// Creates a task sending the record batch's frames round-robin.
    #[napi(factory, catch_unwind)]
    #[allow(clippy::type_complexity)] // the aliases would hide the JS types from the declarations
    pub fn create(
        bus: &NativeBus,
        records: Uint8Array,
        timing: NativeCyclicTiming,
        autostart: bool,
        scheduler: Option<NativeCyclicScheduler>,
        // Written out (not the aliases) so the generated declarations give their JS types.
        on_error: Option<ThreadsafeFunction<String, (), String, Status, false, true>>,
        modifier: Option<
            ThreadsafeFunction<
                FnArgs<(Buffer, f64)>,
                Option<Uint8Array>,
                FnArgs<(Buffer, f64)>,
                Status,
                false,
                true,
            >,
        >,
    ) -> napi::Result<NativeCyclicTask> {
        let kind = scheduler.map_or(SchedulerKind::Native, SchedulerKind::from);
        let frames = decode_batch(&records).into_napi()?;
        let timing = timing_from(&timing)?;
        let hooks = TaskHooks {
            on_error: on_error.map(error_sink),
            modifier: modifier.map(|m| Arc::new(JsModifier(m)) as Arc<dyn FrameModifier>),
        };
        let task = CyclicTask::create(
            bus.shared(),
            frames.into_vec(),
            timing,
            autostart,
            kind,
            hooks,
        )
        .into_napi()?;
        Ok(NativeCyclicTask { task })
    }

    /// The scheduler running the task: "native" or "kernel".
    #[napi(getter, catch_unwind)]
    pub fn scheduler(&self) -> NativeCyclicScheduler {
        self.task.scheduler().into()
    }

    /// (Re)starts the task with a new phase.
    #[napi(catch_unwind)]
    pub fn start(&self) -> napi::Result<()> {
        self.task.start().into_napi()
    }

    /// Stops the task.
    #[napi(catch_unwind)]
    pub fn stop(&self) -> napi::Result<()> {
        self.task.stop().into_napi()
    }

    /// Replaces the frames' data (same count), keeping the phase.
    #[napi(catch_unwind)]
    pub fn modify(&self, records: Uint8Array) -> napi::Result<()> {
        let frames = decode_batch(&records).into_napi()?;
        self.task.modify(frames.into_vec()).into_napi()
    }

    /// The frames as a record batch.
    #[napi(catch_unwind)]
    pub fn frames(&self) -> napi::Result<Buffer> {
        let frames = self.task.frames().into_napi()?;
        let mut out = Vec::new();
        encode_batch(&frames, &mut out);
        Ok(out.into())
    }

    /// Counters.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> napi::Result<NativeCyclicStats> {
        let s = self.task.stats().into_napi()?;
        Ok(NativeCyclicStats {
            sent: s.sent as i64,
            missed: s.missed as i64,
            late: s.late.frames as i64,
            lateness_ms: s.late.total_ns as f64 / 1e6,
            max_lateness_ms: s.late.max_ns as f64 / 1e6,
            send_errors: s.send_errors as i64,
            last_error: s.last_error,
            running: s.running,
            late_modifier: s.late_modifier as i64,
            modifier_errors: s.modifier_errors as i64,
            sent_counted: s.sent_counted.as_str().to_string(),
        })
    }

    /// Removes the task from the scheduler.
    #[napi(catch_unwind)]
    pub fn remove(&self) {
        self.task.remove();
    }
}
