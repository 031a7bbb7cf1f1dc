//! Timed replay exported to JS.

use std::sync::Arc;

use canwire_bus::playback::Playback;
use canwire_core::record::decode_batch;
use napi::bindgen_prelude::{Float64Array, Uint8Array};
use napi_derive::napi;

use crate::bus::NativeBus;
use crate::error::{IntoNapi, invalid_argument};

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
    /// Starts a replay; its clock starts now. `capacity` bounds the queue in frames.
    #[napi(factory, catch_unwind)]
    pub fn start(bus: &NativeBus, capacity: u32) -> napi::Result<NativePlayback> {
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
        let timed: Vec<(u64, canwire_core::Frame)> = offsets_ns
            .iter()
            .map(|o| o.max(0.0) as u64)
            .zip(frames)
            .collect();
        self.playback.push(&timed).map(|n| n as u32).into_napi()
    }

    /// Resolves once the queue has room (or the replay stopped).
    #[napi(catch_unwind)]
    pub async fn room(&self) -> napi::Result<()> {
        let playback = self.playback.clone();
        playback.room().await;
        Ok(())
    }

    /// Marks the end of the input.
    #[napi(catch_unwind)]
    pub fn end_input(&self) {
        self.playback.end_input();
    }

    /// Resolves once everything queued was sent, or the replay stopped.
    #[napi(catch_unwind)]
    pub async fn finished(&self) -> napi::Result<()> {
        let playback = self.playback.clone();
        playback.finished().await;
        Ok(())
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
