//! A reader: one bounded queue of received frames, drained in record
//! batches written into a pool the facade owns.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use canwire_bus::{Bus, FrameQueue};
use canwire_core::Frame;
use canwire_core::record::{RECORD_SIZE, encode_into};
use napi::Env;
use napi::bindgen_prelude::Uint8ArraySlice;
use napi_derive::napi;

use crate::bus::ReaderStatsObject;
use crate::waker::{NativeWaker, key};

/// Records that fit in `pool` from byte `offset`, at most `max`; an error
/// when not one fits.
fn pool_room(pool: &[u8], offset: u32, max: u32) -> napi::Result<usize> {
    let room = pool.len().saturating_sub(offset as usize) / RECORD_SIZE;
    if room == 0 || max == 0 {
        return Err(crate::error::invalid_argument(format!(
            "a read needs room for one {RECORD_SIZE}-byte record and max >= 1; got a {}-byte pool at offset {offset} and max {max}",
            pool.len()
        )));
    }
    Ok(room.min(max as usize))
}

/// Live `NativeReader` objects (not yet finalized), for the leak tests.
pub(crate) static LIVE_READERS: AtomicUsize = AtomicUsize::new(0);

/// A reader attached to a bus; it receives every frame from its creation on.
#[napi]
pub struct NativeReader {
    pub(crate) queue: Arc<FrameQueue>,
    pub(crate) bus: Arc<Bus>,
    /// The frames of the read under way, reused from read to read.
    scratch: Vec<Frame>,
}

impl NativeReader {
    pub(crate) fn new(queue: Arc<FrameQueue>, bus: Arc<Bus>) -> Self {
        LIVE_READERS.fetch_add(1, Ordering::Relaxed);
        Self {
            queue,
            bus,
            scratch: Vec::new(),
        }
    }

    /// [`NativeReader::try_read_into`] on the pool's bytes.
    fn read_into(&mut self, pool: &mut [u8], offset: u32, max: u32) -> napi::Result<u32> {
        let room = pool_room(pool, offset, max)?;
        self.scratch.clear();
        if self.queue.pop_into(room, &mut self.scratch) == 0 {
            return match self.queue.failure() {
                Some(error) => Err(crate::error::to_napi(error)),
                None => Ok(0),
            };
        }
        let records = &mut pool[offset as usize..][..self.scratch.len() * RECORD_SIZE];
        for (frame, record) in self
            .scratch
            .iter()
            .zip(records.chunks_exact_mut(RECORD_SIZE))
        {
            encode_into(frame, record);
        }
        Ok(self.scratch.len() as u32)
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
    /// Takes up to `max` queued frames as records written into `pool` from
    /// byte `offset` (no more than fit), and returns how many; 0 when none is
    /// queued. The facade hands batches out as views of a pool it allocates
    /// now and then, so a batch costs no buffer of its own. A failed reader,
    /// once drained, throws its failure instead.
    #[napi(catch_unwind)]
    pub fn try_read_into(
        &mut self,
        mut pool: Uint8ArraySlice<'_>,
        offset: u32,
        max: u32,
    ) -> napi::Result<u32> {
        // SAFETY: the JS thread is in this call, so nothing else touches the
        // pool's bytes while they are written.
        self.read_into(unsafe { pool.as_mut() }, offset, max)
    }

    /// One call per wait: takes up to `max` queued frames into `pool` as
    /// [`NativeReader::try_read_into`] does and returns how many; with none
    /// queued, arranges one call of `waker` with `token` for when frames
    /// arrive or the reader closes and returns 0 (turning the waker's
    /// keep-alive on as well when `keep_alive`), or returns -1 (nothing
    /// armed) when the reader is closed and drained. The receiving thread
    /// calls the waker itself: one thread hop per wake.
    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)]
    pub fn read_into_or_arm(
        &mut self,
        env: Env,
        mut pool: Uint8ArraySlice<'_>,
        offset: u32,
        max: u32,
        waker: &NativeWaker,
        token: u32,
        keep_alive: bool,
    ) -> napi::Result<i32> {
        // SAFETY: as in try_read_into.
        let pool = unsafe { pool.as_mut() };
        loop {
            let taken = self.read_into(pool, offset, max)?;
            if taken > 0 {
                return Ok(i32::try_from(taken).unwrap_or(i32::MAX));
            }
            if self.queue.is_closed() {
                return Ok(-1);
            }
            if self.queue.notify_once(key(token), waker.hook(token)) {
                if keep_alive {
                    waker.keep_alive(env, true)?;
                }
                return Ok(0);
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
