//! Watches exported to JS.

use canwire_bus::watch::Watch;
use canwire_bus::watch::queue::DEFAULT_WATCH_CAPACITY;
use canwire_core::record::encode_batch;
use canwire_core::watch::{WatchConfig, WatchEventKind, WatchMux};
use napi::bindgen_prelude::{BigInt, Buffer, Uint8Array};
use napi_derive::napi;

use crate::bus::{NativeBus, ReaderStatsObject};
use crate::convert::{id_bits, optional_duration_ms, optional_integer};
use crate::error::IntoNapi;
use crate::string_enums::NativeWatchBackend;
use crate::waker::{NativeWaker, key};
use canwire_core::frame::EXTENDED_ID_MAX;

/// Options of `NativeWatch.open`; the facade documents and defaults them.
#[napi(object)]
pub struct NativeWatchOptions {
    /// Numbers cross as `f64` so `convert` sees `2**32` as it is.
    pub id: f64,
    pub extended: Option<bool>,
    pub fd: Option<bool>,
    pub timeout_ms: Option<f64>,
    pub change_mask: Option<Uint8Array>,
    pub check_dlc: Option<bool>,
    pub throttle_ms: Option<f64>,
    pub announce_resume: Option<bool>,
    pub queue_size: Option<f64>,
    pub mux: Option<NativeWatchMux>,
}

/// `mux` of the watch options: the multiplexer's bits and one case per value.
#[napi(object)]
pub struct NativeWatchMux {
    pub mask: Uint8Array,
    pub cases: Vec<NativeWatchMuxCase>,
}

/// One multiplexer value and the data bits watched for it.
#[napi(object)]
pub struct NativeWatchMuxCase {
    pub value: Uint8Array,
    pub change_mask: Uint8Array,
}

/// One event: `record` holds the frame (one packed record) for "changed" and "received".
#[napi(object)]
pub struct NativeWatchEvent {
    pub kind: String,
    pub timestamp_ns: BigInt,
    pub record: Option<Buffer>,
}

fn config_from(o: &NativeWatchOptions) -> napi::Result<WatchConfig> {
    Ok(WatchConfig {
        id: id_bits("id", o.id, EXTENDED_ID_MAX).into_napi()?,
        extended: o.extended.unwrap_or(false),
        fd: o.fd.unwrap_or(false),
        timeout_ns: optional_duration_ms("timeoutMs", o.timeout_ms).into_napi()?,
        change_mask: o.change_mask.as_ref().map(|m| m.to_vec()),
        check_dlc: o.check_dlc.unwrap_or(false),
        throttle_ns: optional_duration_ms("throttleMs", o.throttle_ms).into_napi()?,
        announce_resume: o.announce_resume.unwrap_or(true),
        mux: o
            .mux
            .as_ref()
            .map(|m| {
                let cases: Vec<(&[u8], &[u8])> = m
                    .cases
                    .iter()
                    .map(|c| (&c.value[..], &c.change_mask[..]))
                    .collect();
                WatchMux::new(&m.mask, &cases)
            })
            .transpose()
            .into_napi()?,
    })
}

/// A watch on one CAN id.
#[napi]
pub struct NativeWatch {
    watch: Watch,
}

#[napi]
impl NativeWatch {
    /// Starts a watch on `bus`.
    #[napi(factory, catch_unwind)]
    pub fn open(bus: &NativeBus, options: NativeWatchOptions) -> napi::Result<NativeWatch> {
        let config = config_from(&options)?;
        let capacity = optional_integer("queueSize", options.queue_size, 1..=1_048_576u32)
            .into_napi()?
            .map_or(DEFAULT_WATCH_CAPACITY, |n| n as usize);
        let watch = Watch::open(&bus.shared(), config, capacity).into_napi()?;
        Ok(NativeWatch { watch })
    }

    /// Takes up to `max` queued events without waiting.
    #[napi(catch_unwind)]
    pub fn take(&self, max: u32) -> Vec<NativeWatchEvent> {
        self.watch
            .queue()
            .pop(max.max(1) as usize)
            .into_iter()
            .map(|e| NativeWatchEvent {
                kind: match e.kind {
                    WatchEventKind::Timeout => "timeout",
                    WatchEventKind::Changed => "changed",
                    WatchEventKind::Received => "received",
                }
                .into(),
                timestamp_ns: BigInt::from(e.timestamp_ns),
                record: e.frame.map(|f| {
                    let mut out = Vec::new();
                    encode_batch(std::slice::from_ref(&f), &mut out);
                    out.into()
                }),
            })
            .collect()
    }

    /// Arranges one call of `waker` with `token` for when an event is queued
    /// or the watch closes, and returns true; returns false (nothing armed)
    /// if events already wait or the watch is closed: take instead.
    #[napi(catch_unwind)]
    pub fn arm(&self, waker: &NativeWaker, token: u32) -> bool {
        self.watch
            .queue()
            .notify_once(key(token), waker.hook(token))
    }

    /// Drops the call armed under `token`, if it has not run.
    #[napi(catch_unwind)]
    pub fn disarm(&self, token: u32) {
        self.watch.queue().cancel_notify(key(token));
    }

    /// True once the watch or its bus is closed (queued events stay readable).
    #[napi(getter, catch_unwind)]
    pub fn closed(&self) -> bool {
        self.watch.queue().is_closed()
    }

    /// "kernel" when SocketCAN's broadcast manager runs the watch, else "native".
    #[napi(getter, catch_unwind)]
    pub fn backend(&self) -> NativeWatchBackend {
        if self.watch.in_kernel() {
            NativeWatchBackend::Kernel
        } else {
            NativeWatchBackend::Native
        }
    }

    /// The event queue's counters.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> ReaderStatsObject {
        self.watch.queue().stats().into()
    }

    /// Stops watching. Idempotent.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.watch.close();
    }
}
