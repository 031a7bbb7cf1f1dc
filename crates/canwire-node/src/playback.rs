//! Timed replay exported to JS.

use std::sync::Arc;

use canwire_bus::playback::Playback;
use canwire_core::record::decode_batch;
use napi::bindgen_prelude::{Float64Array, Uint8Array};
use napi_derive::napi;

use crate::bus::NativeBus;
use crate::convert::{integer, js_number};
use crate::error::{IntoNapi, invalid_argument};
use crate::waker::{NativeWaker, key};

/// The largest queue of a replay, in frames.
const MAX_QUEUE_SIZE: u32 = 1 << 24;
/// The largest `gapMs` and `skipMs`: one day.
const MAX_GAP_MS: f64 = 86_400_000.0;
/// Offsets must stay below 2^64 ns.
const MAX_OFFSET_NS: f64 = 18_446_744_073_709_551_616.0;

/// Counters of a replay.
#[napi(object)]
pub struct NativePlaybackStats {
    pub sent: i64,
    pub send_errors: i64,
}

/// A replay onto a bus, timed by a native thread.
#[napi]
pub struct NativePlayback {
    playback: Arc<Playback>,
}

#[napi]
impl NativePlayback {
    /// Starts a replay; its clock starts now. `queueSize` bounds the queue in
    /// frames (1..=2^24); `gapMs` and `skipMs` are checked here (0..=one day)
    /// for the caller that turns file times into offsets with them.
    #[napi(factory, catch_unwind)]
    pub fn start(
        bus: &NativeBus,
        queue_size: f64,
        gap_ms: f64,
        skip_ms: f64,
    ) -> napi::Result<NativePlayback> {
        let capacity = integer("queueSize", queue_size, 1..=MAX_QUEUE_SIZE).into_napi()?;
        for (name, ms) in [("gapMs", gap_ms), ("skipMs", skip_ms)] {
            if !(0.0..=MAX_GAP_MS).contains(&ms) {
                return Err(invalid_argument(format!(
                    "{name} must be a number of milliseconds 0..={MAX_GAP_MS}, got {}",
                    js_number(ms)
                )));
            }
        }
        let playback = Playback::start(bus.shared(), capacity as usize).into_napi()?;
        Ok(NativePlayback {
            playback: Arc::new(playback),
        })
    }

    /// Queues frames (a record batch) with their offsets in ns; returns how many fit.
    #[napi(catch_unwind)]
    pub fn push(&self, records: Uint8Array, offsets_ns: Float64Array) -> napi::Result<u32> {
        let frames = decode_batch(&records).into_napi()?;
        if offsets_ns.len() != frames.len() {
            return Err(invalid_argument(format!(
                "{} offsets for {} frames",
                offsets_ns.len(),
                frames.len()
            )));
        }
        if let Some(bad) = offsets_ns
            .iter()
            .find(|&&o| !(0.0..MAX_OFFSET_NS).contains(&o))
        {
            return Err(invalid_argument(format!(
                "playback offsets must be ns 0..{MAX_OFFSET_NS}, got {}",
                js_number(*bad)
            )));
        }
        // exact for every offset below 2^53; larger ones keep f64 precision
        let timed: Vec<(u64, canwire_core::Frame)> =
            offsets_ns.iter().map(|&o| o as u64).zip(frames).collect();
        self.playback.push(&timed).map(|n| n as u32).into_napi()
    }

    /// True when the queue has room (or the replay stopped).
    #[napi(getter, catch_unwind)]
    pub fn has_room(&self) -> bool {
        self.playback.has_room()
    }

    /// Arms `waker` to call with `token` when the queue gains room or the
    /// replay ends; false (nothing armed) when it has room already.
    #[napi(catch_unwind)]
    pub fn arm_room(&self, waker: &NativeWaker, token: u32) -> bool {
        self.playback
            .notify_when_room(key(token), waker.hook(token))
    }

    /// Arms `waker` to call with `token` when the replay ends; false (nothing
    /// armed) when it has ended already.
    #[napi(catch_unwind)]
    pub fn arm_finished(&self, waker: &NativeWaker, token: u32) -> bool {
        self.playback
            .notify_when_finished(key(token), waker.hook(token))
    }

    /// Drops the call armed under `token`, if it has not run.
    #[napi(catch_unwind)]
    pub fn disarm(&self, token: u32) {
        self.playback.disarm(key(token));
    }

    /// True once everything queued was sent, or the replay stopped.
    #[napi(getter, catch_unwind)]
    pub fn finished(&self) -> bool {
        self.playback.is_finished()
    }

    /// Marks the end of the input.
    #[napi(catch_unwind)]
    pub fn end_input(&self) {
        self.playback.end_input();
    }

    /// Counters.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativePlaybackStats {
        NativePlaybackStats {
            sent: self.playback.sent() as i64,
            send_errors: self.playback.send_errors() as i64,
        }
    }

    /// Stops the replay, dropping what is queued. Idempotent.
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        self.playback.stop();
    }
}
