//! A reader: one bounded queue of received frames, drained in record batches.

use std::sync::Arc;

use canwire_bus::{Bus, FrameQueue};
use canwire_core::Frame;
use canwire_core::record::encode_batch;
use napi::bindgen_prelude::Buffer;
use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{
    ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{Env, Status};
use napi_derive::napi;

use crate::bus::ReaderStatsObject;

/// A reader attached to a bus; it receives every frame from its creation on.
#[napi]
pub struct NativeReader {
    pub(crate) queue: Arc<FrameQueue>,
    pub(crate) bus: Arc<Bus>,
    scratch: Vec<Frame>,
    waker: Option<Arc<Waker>>,
}

/// The JS function a reader's wait ends with; weak, so it keeps Node alive
/// only while a wait is armed. Its value is its own handle, for the unref.
type Waker = ThreadsafeFunction<usize, (), (), Status, false, true>;

impl NativeReader {
    pub(crate) fn new(queue: Arc<FrameQueue>, bus: Arc<Bus>) -> Self {
        Self {
            queue,
            bus,
            scratch: Vec::new(),
            waker: None,
        }
    }
}

#[napi]
impl NativeReader {
    /// Takes up to `max` queued frames as a record batch. With none queued it
    /// returns `null`, and with `arm` it also arranges one call of the waker
    /// (see [`NativeReader::set_waker`]) for when frames arrive or the reader
    /// closes, keeping Node alive until then or [`NativeReader::disarm`]
    /// (unless the reader is closed already: then nothing is armed).
    /// The receiving thread calls the waker itself: one thread hop per wake.
    #[napi(catch_unwind)]
    pub fn try_read(&mut self, env: Env, max: u32, arm: bool) -> napi::Result<Option<Buffer>> {
        loop {
            self.scratch.clear();
            if self.queue.pop_into(max.max(1) as usize, &mut self.scratch) > 0 {
                let mut out = Vec::new();
                encode_batch(&self.scratch, &mut out);
                return Ok(Some(out.into()));
            }
            if !arm || self.queue.is_closed() {
                return Ok(None);
            }
            let Some(waker) = self.waker.clone() else {
                return Err(napi::Error::from_reason(
                    "ERR_INTERNAL: a reader without a waker",
                ));
            };
            let raw = waker.raw();
            let handle = raw as usize;
            let hook = Box::new(move || {
                waker.call(handle, ThreadsafeFunctionCallMode::NonBlocking);
            });
            if self.queue.notify_once(hook) {
                // SAFETY: a live threadsafe function of this env; ref is idempotent.
                check(unsafe { napi::sys::napi_ref_threadsafe_function(env.raw(), raw) })?;
                return Ok(None);
            }
            // Frames arrived (or the reader closed) since pop_into: look again.
        }
    }

    /// Sets the function a wait armed by [`NativeReader::try_read`] ends with;
    /// it is called on the JS thread, without arguments.
    #[napi(catch_unwind)]
    pub fn set_waker(&mut self, callback: Function<(), ()>) -> napi::Result<()> {
        let waker = callback
            .build_threadsafe_function::<usize>()
            .weak::<true>()
            .callee_handled::<false>()
            .build_callback(|ctx: ThreadsafeCallContext<usize>| {
                // The wait is over: let Node exit again (a no-op if disarm() ran).
                // SAFETY: ctx.value is this threadsafe function's own handle, still alive while it calls.
                let raw = ctx.value as napi::sys::napi_threadsafe_function;
                check(unsafe { napi::sys::napi_unref_threadsafe_function(ctx.env.raw(), raw) })
            })?;
        self.waker = Some(Arc::new(waker));
        Ok(())
    }

    /// Gives up a wait armed by [`NativeReader::try_read`]: drops the pending
    /// call and lets Node exit again.
    #[napi(catch_unwind)]
    pub fn disarm(&self, env: Env) -> napi::Result<()> {
        self.queue.cancel_notify();
        if let Some(waker) = &self.waker {
            // SAFETY: a live threadsafe function of this env; unref is idempotent.
            check(unsafe { napi::sys::napi_unref_threadsafe_function(env.raw(), waker.raw()) })?;
        }
        Ok(())
    }

    /// True once the reader or its bus is closed. Frames queued before stay readable.
    #[napi(getter, catch_unwind)]
    pub fn closed(&self) -> bool {
        self.queue.is_closed()
    }

    /// Number of frames waiting.
    #[napi(getter, catch_unwind)]
    pub fn queued(&self) -> u32 {
        self.queue.len() as u32
    }

    /// This reader's counters.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> ReaderStatsObject {
        self.queue.stats().into()
    }

    /// Detaches the reader from its bus and lets go of its waker. Idempotent.
    #[napi(catch_unwind)]
    pub fn close(&mut self) {
        self.bus.remove_reader(&self.queue);
        self.queue.cancel_notify();
        self.waker = None;
    }
}

fn check(status: napi::sys::napi_status) -> napi::Result<()> {
    if status == napi::sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!(
            "ERR_INTERNAL: Node-API status {status} from a threadsafe function"
        )))
    }
}
