//! A reader: one bounded queue of received frames, drained in record batches.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use canwire_bus::{Bus, FrameQueue};
use canwire_core::Frame;
use canwire_core::record::encode_batch;
use napi::Env;
use napi::bindgen_prelude::{BufferSlice, Either};
use napi_derive::napi;

use crate::bus::ReaderStatsObject;
use crate::waker::{NativeWaker, key};

/// The record buffer a reader keeps between reads, at most (4096 records).
const KEPT_RECORD_BYTES: usize = 4096 * canwire_core::record::RECORD_SIZE;

/// Live `NativeReader` objects (not yet finalized), for the leak tests.
pub(crate) static LIVE_READERS: AtomicUsize = AtomicUsize::new(0);

/// A reader attached to a bus; it receives every frame from its creation on.
#[napi]
pub struct NativeReader {
    pub(crate) queue: Arc<FrameQueue>,
    pub(crate) bus: Arc<Bus>,
    scratch: Vec<Frame>,
    /// The records of the batch being handed out, reused from read to read.
    records: Vec<u8>,
}

impl NativeReader {
    pub(crate) fn new(queue: Arc<FrameQueue>, bus: Arc<Bus>) -> Self {
        LIVE_READERS.fetch_add(1, Ordering::Relaxed);
        Self {
            queue,
            bus,
            scratch: Vec::new(),
            records: Vec::new(),
        }
    }
}

impl Drop for NativeReader {
    /// A reader nobody can reach any more stops receiving.
    fn drop(&mut self) {
        self.bus.remove_reader(&self.queue);
        self.queue.close();
        LIVE_READERS.fetch_sub(1, Ordering::Relaxed);
    }
}

#[napi]
impl NativeReader {
    /// Takes up to `max` queued frames as a record batch; `null` if none is
    /// queued. Once a failed reader is drained (a remote bus lost its
    /// connection), throws the failure instead.
    ///
    /// The records are encoded into a buffer this reader keeps and copied
    /// into a plain JS Buffer: no allocation per batch on the native side and
    /// no finalizer for the garbage collector to run.
    #[napi(catch_unwind)]
    pub fn try_read<'env>(
        &mut self,
        env: &'env Env,
        max: u32,
    ) -> napi::Result<Option<BufferSlice<'env>>> {
        self.scratch.clear();
        if self.queue.pop_into(max.max(1) as usize, &mut self.scratch) == 0 {
            return match self.queue.failure() {
                Some(error) => Err(crate::error::to_napi(error)),
                None => Ok(None),
            };
        }
        self.records.clear();
        encode_batch(&self.scratch, &mut self.records);
        let batch = BufferSlice::copy_from(env, &self.records)?;
        // a burst's worth of records is not kept for the quiet that follows
        if self.records.capacity() > KEPT_RECORD_BYTES {
            self.records = Vec::new();
        }
        Ok(Some(batch))
    }

    /// One call per wait: takes up to `max` queued frames as a record batch;
    /// with none queued, arranges one call of `waker` with `token` for when
    /// frames arrive or the reader closes and returns true (turning the
    /// waker's keep-alive on as well when `keep_alive`: one native call fewer
    /// per wake), or returns false (nothing armed) when the reader is closed
    /// and drained. A failed reader,
    /// once drained, throws its failure as [`NativeReader::try_read`] does.
    /// The receiving thread calls the waker itself: one thread hop per wake.
    #[napi(catch_unwind)]
    pub fn read_or_arm<'env>(
        &mut self,
        env: &'env Env,
        max: u32,
        waker: &NativeWaker,
        token: u32,
        keep_alive: bool,
    ) -> napi::Result<Either<BufferSlice<'env>, bool>> {
        loop {
            if let Some(batch) = self.try_read(env, max)? {
                return Ok(Either::A(batch));
            }
            if self.queue.is_closed() {
                return Ok(Either::B(false));
            }
            if self.queue.notify_once(key(token), waker.hook(token)) {
                if keep_alive {
                    waker.keep_alive(*env, true)?;
                }
                return Ok(Either::B(true));
            }
            // frames arrived (or the reader closed) since the read: look again
        }
    }

    /// Drops the call armed under `token`, if it has not run.
    #[napi(catch_unwind)]
    pub fn disarm(&self, token: u32) {
        self.queue.cancel_notify(key(token));
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

    /// Detaches the reader from its bus and closes its queue (queued frames
    /// stay readable). Idempotent.
    #[napi(catch_unwind)]
    pub fn close(&mut self) {
        self.bus.remove_reader(&self.queue);
        self.queue.close();
    }
}
