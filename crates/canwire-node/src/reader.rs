//! A reader: one bounded queue of received frames, drained in record batches.

use std::sync::Arc;

use canwire_bus::{Bus, FrameQueue};
use canwire_core::Frame;
use canwire_core::record::encode_batch;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use crate::bus::ReaderStatsObject;
use crate::wait::ready_within;

/// A reader attached to a bus; it receives every frame from its creation on.
#[napi]
pub struct NativeReader {
    pub(crate) queue: Arc<FrameQueue>,
    pub(crate) bus: Arc<Bus>,
    scratch: Vec<Frame>,
}

impl NativeReader {
    pub(crate) fn new(queue: Arc<FrameQueue>, bus: Arc<Bus>) -> Self {
        Self {
            queue,
            bus,
            scratch: Vec::new(),
        }
    }
}

#[napi]
impl NativeReader {
    /// Takes up to `max` queued frames as a record batch, or `null` if none is queued.
    /// Never waits.
    #[napi(catch_unwind)]
    pub fn try_read(&mut self, max: u32) -> Option<Buffer> {
        self.scratch.clear();
        if self.queue.pop_into(max.max(1) as usize, &mut self.scratch) == 0 {
            return None;
        }
        let mut out = Vec::new();
        encode_batch(&self.scratch, &mut out);
        Some(out.into())
    }

    /// Resolves `true` once frames are queued or the reader is closed, `false`
    /// when `timeoutMs` passes first (no timeout: wait as long as it takes).
    #[napi(catch_unwind)]
    pub async fn wait(&self, timeout_ms: Option<f64>) -> napi::Result<bool> {
        let queue = self.queue.clone();
        Ok(ready_within(queue.readable(), timeout_ms).await)
    }

    /// True once the reader or its bus is closed. Frames queued before stay readable.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.queue.is_closed()
    }

    /// Number of frames waiting.
    #[napi(getter)]
    pub fn queued(&self) -> u32 {
        self.queue.len() as u32
    }

    /// This reader's counters.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> ReaderStatsObject {
        self.queue.stats().into()
    }

    /// Detaches the reader from its bus. Idempotent.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.bus.remove_reader(&self.queue);
    }
}
