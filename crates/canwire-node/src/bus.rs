//! The bus object exported to JS.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use canwire_bus::frame_queue::DEFAULT_CAPACITY;
use canwire_bus::readiness::StateCell;
use canwire_bus::udp_multicast::UdpMulticastConfig;
use canwire_bus::virtual_bus::{VirtualConfig, channels_in_use};
use canwire_bus::{Bus, BusConfig, BusStats, PendingSend, ReaderStats, SocketCanConfig};
use canwire_core::frame::EXTENDED_ID_MAX;
use canwire_core::record::decode_batch;
use canwire_core::{CanFilter, CanwireError, ErrorCode, FilterSet, Frame};
use napi::bindgen_prelude::{Either, Uint8Array};
use napi_derive::napi;
use std::time::Duration;

use crate::convert::{id_bits, integer, js_number, optional_integer};
use crate::error::IntoNapi;
use crate::reader::NativeReader;
use crate::string_enums::{NativeBusState, NativeProtocol};
use crate::waker::{NativeWaker, key};

/// Options of `NativeBus.open`; the facade documents and defaults them.
#[napi(object)]
pub struct NativeOpenOptions {
    pub interface: String,
    pub channel: String,
    pub fd: Option<bool>,
    pub receive_own_messages: Option<bool>,
    pub preserve_timestamps: Option<bool>,
    pub local_loopback: Option<bool>,
    /// Numbers cross as `f64` so `convert` sees `2**32` and `-1` as they are.
    pub error_mask: Option<f64>,
    pub receive_buffer_size: Option<f64>,
    pub hardware_timestamps: Option<bool>,
    pub rx_coalesce_us: Option<f64>,
    /// udp_multicast: the UDP port (default 43113).
    pub port: Option<f64>,
    /// udp_multicast: the hop limit / TTL (default 1).
    pub hop_limit: Option<f64>,
}

/// The longest receive coalescing window, in µs.
const MAX_RX_COALESCE_US: u32 = 1_000_000;

fn rx_coalesce_us(value: Option<f64>) -> napi::Result<Option<u32>> {
    let Some(v) = value else { return Ok(None) };
    integer("rxCoalesceUs", v, 0..=MAX_RX_COALESCE_US)
        .map(Some)
        .map_err(|_| {
            CanwireError::invalid_argument(format!(
                "rxCoalesceUs must be an integer 0..{MAX_RX_COALESCE_US} (µs), got {}",
                js_number(v)
            ))
        })
        .into_napi()
}

/// One acceptance filter; `id` and `mask` cross as `f64` so `convert` sees them unwrapped.
#[napi(object)]
pub struct NativeFilter {
    pub id: f64,
    pub mask: f64,
    pub extended: Option<bool>,
    pub inverted: Option<bool>,
}

/// The filters, checked: `id` and `mask` are 29-bit values.
fn filters_from(filters: &[NativeFilter]) -> napi::Result<Vec<CanFilter>> {
    filters
        .iter()
        .enumerate()
        .map(|(i, f)| {
            Ok(CanFilter {
                id: id_bits(&format!("filters[{i}].id"), f.id, EXTENDED_ID_MAX).into_napi()?,
                mask: id_bits(&format!("filters[{i}].mask"), f.mask, EXTENDED_ID_MAX)
                    .into_napi()?,
                extended: f.extended,
                inverted: f.inverted.unwrap_or(false),
            })
        })
        .collect()
}

/// Whether `filters` pass a frame with this id and format, by the rule the
/// buses apply (an empty list passes everything).
#[napi(catch_unwind)]
pub fn filters_match(filters: Vec<NativeFilter>, id: f64, extended: bool) -> napi::Result<bool> {
    let set = FilterSet::any_of(filters_from(&filters)?);
    let id = id_bits("id", id, EXTENDED_ID_MAX).into_napi()?;
    Ok(set.matches(&Frame::classic(id, extended, &[])))
}

/// Counters of one reader.
#[napi(object)]
pub struct ReaderStatsObject {
    pub capacity: i64,
    pub queued: i64,
    pub delivered: i64,
    pub overflow: i64,
}

impl From<ReaderStats> for ReaderStatsObject {
    fn from(s: ReaderStats) -> Self {
        Self {
            capacity: s.capacity as i64,
            queued: s.queued as i64,
            delivered: s.delivered as i64,
            overflow: s.overflow as i64,
        }
    }
}

/// Counters of one bus.
#[napi(object)]
pub struct BusStatsObject {
    pub tx_frames: i64,
    pub tx_errors: i64,
    pub tx_waits: i64,
    pub rx_frames: i64,
    pub rx_filtered: i64,
    pub rx_dropped_fd_on_classic: i64,
    pub rx_dropped_kernel: i64,
    pub rx_dropped_queue_full: i64,
    pub rx_coalescing_waits: i64,
    pub rx_errors: i64,
    pub last_rx_error: Option<String>,
    pub readers: Vec<ReaderStatsObject>,
}

impl From<BusStats> for BusStatsObject {
    fn from(s: BusStats) -> Self {
        Self {
            tx_frames: s.tx_frames as i64,
            tx_errors: s.tx_errors as i64,
            tx_waits: s.tx_waits as i64,
            rx_frames: s.rx_frames as i64,
            rx_filtered: s.rx_filtered as i64,
            rx_dropped_fd_on_classic: s.rx_dropped_fd_on_classic as i64,
            rx_dropped_kernel: s.rx_dropped_kernel as i64,
            rx_dropped_queue_full: s.rx_dropped_queue_full as i64,
            rx_coalescing_waits: s.rx_coalescing_waits as i64,
            rx_errors: s.rx_errors as i64,
            last_rx_error: s.last_rx_error,
            readers: s.readers.into_iter().map(Into::into).collect(),
        }
    }
}

/// An open bus.
#[napi]
pub struct NativeBus {
    bus: Arc<Bus>,
}

/// Live `NativeBus` objects (not yet finalized), for the leak tests.
pub(crate) static LIVE_BUSES: AtomicUsize = AtomicUsize::new(0);

impl Drop for NativeBus {
    /// A bus nothing references any more closes (other holders, such as a
    /// running cyclic task, keep it open until they end).
    fn drop(&mut self) {
        LIVE_BUSES.fetch_sub(1, Ordering::Relaxed);
    }
}

fn config_from(options: NativeOpenOptions) -> napi::Result<BusConfig> {
    let error_mask = optional_integer("errorMask", options.error_mask, 0..=u32::MAX).into_napi()?;
    let receive_buffer_size = optional_integer(
        "receiveBufferSize",
        options.receive_buffer_size,
        0..=u32::MAX,
    )
    .into_napi()?;
    let rx_coalesce_us = rx_coalesce_us(options.rx_coalesce_us)?;
    match options.interface.as_str() {
        "virtual" => Ok(BusConfig::Virtual(VirtualConfig {
            channel: options.channel,
            fd: options.fd.unwrap_or(false),
            receive_own_messages: options.receive_own_messages.unwrap_or(false),
            preserve_timestamps: options.preserve_timestamps.unwrap_or(false),
        })),
        "socketcan" => Ok(BusConfig::SocketCan(SocketCanConfig {
            fd: options.fd.unwrap_or(false),
            receive_own_messages: options.receive_own_messages.unwrap_or(false),
            local_loopback: options.local_loopback.unwrap_or(true),
            error_mask: error_mask.unwrap_or(canwire_core::error_frame::class::ALL),
            receive_buffer_size,
            hardware_timestamps: options.hardware_timestamps.unwrap_or(false),
            rx_coalesce_us,
            ..SocketCanConfig::new(options.channel)
        })),
        "udp_multicast" => {
            let mut cfg = UdpMulticastConfig::new(if options.channel.is_empty() {
                canwire_bus::udp_multicast::DEFAULT_GROUP_V6.to_string()
            } else {
                options.channel
            });
            cfg.fd = options.fd.unwrap_or(true);
            cfg.receive_own_messages = options.receive_own_messages.unwrap_or(false);
            if let Some(port) = optional_integer("port", options.port, 1u16..=65535).into_napi()? {
                cfg.port = port;
            }
            if let Some(hops) =
                optional_integer("hopLimit", options.hop_limit, 1u32..=255).into_napi()?
            {
                cfg.hop_limit = hops;
            }
            Ok(BusConfig::UdpMulticast(cfg))
        }
        other => Err(crate::error::to_napi(CanwireError::new(
            ErrorCode::UnknownInterface,
            format!(
                "unknown interface '{other}': available are 'virtual', 'socketcan' (Linux), 'jumpstarter' and 'udp_multicast'"
            ),
        ))),
    }
}

impl NativeBus {
    /// A JS bus over a bus opened elsewhere (a remote transport).
    pub(crate) fn from_shared(bus: Arc<Bus>) -> Self {
        LIVE_BUSES.fetch_add(1, Ordering::Relaxed);
        Self { bus }
    }

    /// The shared bus, for stacks built on it.
    pub fn shared(&self) -> Arc<Bus> {
        self.bus.clone()
    }

    /// Wraps a bus opened elsewhere (a remote bus opened off the JS thread).
    pub(crate) fn from_bus(bus: Bus) -> NativeBus {
        LIVE_BUSES.fetch_add(1, Ordering::Relaxed);
        NativeBus { bus: Arc::new(bus) }
    }
}

#[napi]
impl NativeBus {
    /// Opens a bus.
    #[napi(factory, catch_unwind)]
    pub fn open(options: NativeOpenOptions) -> napi::Result<NativeBus> {
        let bus = Bus::open(config_from(options)?).into_napi()?;
        LIVE_BUSES.fetch_add(1, Ordering::Relaxed);
        Ok(NativeBus { bus: Arc::new(bus) })
    }

    /// Validates and sends a record batch, in order. Returns the number of
    /// frames sent when the transmit queue took them all (the fast path, no
    /// waiting); otherwise a [`NativePendingSend`] that waits for room up to
    /// `timeoutMs` (the virtual bus never waits).
    #[napi(catch_unwind)]
    pub fn send(
        &self,
        records: Uint8Array,
        timeout_ms: Option<f64>,
    ) -> napi::Result<Either<u32, NativePendingSend>> {
        let frames = decode_batch(&records).into_napi()?;
        let timeout =
            Duration::from_secs_f64(timeout_ms.unwrap_or(0.0).clamp(0.0, 86_400_000.0) / 1000.0);
        Ok(
            match self.bus.send_valid_or_wait(&frames, timeout).into_napi()? {
                Ok(sent) => Either::A(sent as u32),
                Err(pending) => Either::B(NativePendingSend { pending }),
            },
        )
    }

    /// The channel index that sends a message to the channel `name`.
    #[napi(catch_unwind)]
    pub fn channel_index(&self, name: String) -> napi::Result<u32> {
        self.bus.channel_index(&name).into_napi()
    }

    /// Starts watching controller state changes from now on; `null` when the
    /// backend reports no states.
    #[napi(catch_unwind)]
    pub fn watch_state(&self) -> Option<NativeStateWatch> {
        let cell = self.bus.state_watch()?;
        let (_, seen) = cell.get();
        Some(NativeStateWatch {
            cell,
            seen,
            bus: self.bus.clone(),
        })
    }

    /// Adds a reader with its own bounded queue of `capacity` frames; errors
    /// call the option `name` (default `capacity`).
    #[napi(catch_unwind)]
    pub fn add_reader(
        &self,
        capacity: Option<f64>,
        name: Option<String>,
    ) -> napi::Result<NativeReader> {
        let max = u32::try_from(canwire_bus::frame_queue::MAX_CAPACITY).unwrap_or(u32::MAX);
        let name = name.as_deref().unwrap_or("capacity");
        let capacity = optional_integer(name, capacity, 1..=max)
            .into_napi()?
            .map_or(DEFAULT_CAPACITY, |c| c as usize);
        let queue = self.bus.add_reader(capacity).into_napi()?;
        Ok(NativeReader::new(queue, self.bus.clone()))
    }

    /// Replaces the bus-level filters.
    #[napi(catch_unwind)]
    pub fn set_filters(&self, filters: Vec<NativeFilter>, join: Option<bool>) -> napi::Result<()> {
        let filters = filters_from(&filters)?;
        let set = if join.unwrap_or(false) {
            FilterSet::all_of(filters)
        } else {
            FilterSet::any_of(filters)
        };
        self.bus.set_filters(set).into_napi()
    }

    /// The protocol: "CAN_20" or "CAN_FD".
    #[napi(getter, catch_unwind)]
    pub fn protocol(&self) -> NativeProtocol {
        self.bus.protocol().into()
    }

    /// The controller state: "active", "warning", "passive", "bus-off" or "unknown".
    #[napi(getter, catch_unwind)]
    pub fn state(&self) -> NativeBusState {
        self.bus.state().into()
    }

    /// A description of the channel.
    #[napi(getter, catch_unwind)]
    pub fn channel_info(&self) -> String {
        self.bus.channel_info()
    }

    /// The channel name behind a received record's channel index.
    #[napi(catch_unwind)]
    pub fn channel_name(&self, index: u32) -> Option<String> {
        self.bus.channel_name(index)
    }

    /// Discards frames waiting to be sent.
    #[napi(catch_unwind)]
    pub fn flush_tx_buffer(&self) -> napi::Result<()> {
        self.bus.flush_tx_buffer().into_napi()
    }

    /// Counters.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> BusStatsObject {
        self.bus.stats().into()
    }

    /// True once closed.
    #[napi(getter, catch_unwind)]
    pub fn closed(&self) -> bool {
        self.bus.is_closed()
    }

    /// Closes the bus and its readers. Idempotent.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.bus.close();
    }
}

/// Names of the virtual channels that have an open bus in this process.
#[napi(catch_unwind)]
pub fn virtual_channels() -> Vec<String> {
    channels_in_use()
}

/// Panics on purpose, so tests can prove that a panic becomes a JS error.
/// Only in builds with the `test-hooks` feature (the npm build scripts);
/// the published binaries are built without it.
#[cfg(feature = "test-hooks")]
#[napi(catch_unwind)]
pub fn debug_panic() {
    panic!("deliberate panic for testing");
}

/// The unsent rest of a send waiting for transmit room (see `NativeBus.send`).
#[napi]
pub struct NativePendingSend {
    pending: PendingSend,
}

#[napi]
impl NativePendingSend {
    /// Sends what the transmit queue takes now: the number of frames the call
    /// sent once all went, `null` to wait for room again; throws
    /// `ERR_TX_BUFFER_FULL` (with the count sent) after the timeout or a flush.
    #[napi(catch_unwind)]
    pub fn poll(&mut self) -> napi::Result<Option<u32>> {
        Ok(self.pending.poll().into_napi()?.map(|n| n as u32))
    }

    /// Milliseconds left before the send fails.
    #[napi(getter)]
    pub fn remaining_ms(&self) -> f64 {
        self.pending.remaining().as_secs_f64() * 1000.0
    }

    /// Arranges one call of `waker` with `token` for when room may have
    /// appeared (or a flush or close happened), and returns true; returns
    /// false (nothing armed) when it should poll at once.
    #[napi(catch_unwind)]
    pub fn arm(&self, waker: &NativeWaker, token: u32) -> bool {
        self.pending.notify_once(key(token), waker.hook(token))
    }

    /// Drops the call armed under `token`, if it has not run.
    #[napi(catch_unwind)]
    pub fn disarm(&self, token: u32) {
        self.pending.cancel_notify(key(token));
    }
}

/// A subscription to controller state changes, started by `NativeBus.watchState`.
#[napi]
pub struct NativeStateWatch {
    cell: Arc<StateCell<canwire_bus::BusState>>,
    /// The version of the last state handed out.
    seen: u64,
    bus: Arc<Bus>,
}

#[napi]
impl NativeStateWatch {
    /// The state after the next change since the last one taken, or `null`
    /// if none happened (or the bus is closed).
    #[napi(catch_unwind)]
    pub fn take(&mut self) -> Option<&'static str> {
        if self.bus.is_closed() {
            return None;
        }
        let (state, version) = self.cell.get();
        if version == self.seen {
            return None;
        }
        self.seen = version;
        Some(state.as_str())
    }

    /// Arranges one call of `waker` with `token` for the next change (or the
    /// bus closing), and returns true; returns false (nothing armed) if a
    /// change waits already: take it instead.
    #[napi(catch_unwind)]
    pub fn arm(&self, waker: &NativeWaker, token: u32) -> bool {
        !self.bus.is_closed()
            && self
                .cell
                .notify_once_after(self.seen, key(token), waker.hook(token))
    }

    /// Drops the call armed under `token`, if it has not run.
    #[napi(catch_unwind)]
    pub fn disarm(&self, token: u32) {
        self.cell.cancel_notify(key(token));
    }

    /// True once the bus is closed.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.bus.is_closed()
    }
}
