//! The ISO-TP stacks exported to JS: the userspace one on a bus, or the
//! kernel's can-isotp socket on an interface, behind one class.

use std::sync::Arc;

use canwire_bus::isotp::{IsoTpDriverOptions, IsoTpStack, KernelIsoTpOptions, TransferStatus};
use canwire_core::isotp::{
    AddressConfig, AddressingMode, IsoTpAddress, IsoTpParams, TargetAddressType, TransferId,
};
use canwire_core::{CanwireError, ErrorCode};
use napi::bindgen_prelude::{Buffer, Uint8Array};
use napi_derive::napi;

use crate::bus::NativeBus;
use crate::convert::{duration_ms, duration_s, integer, optional_integer};
use crate::error::{IntoNapi, invalid_argument, to_napi};
use crate::waker::{NativeWaker, key};

/// One address configuration (python-can-isotp's `Address` fields). Numbers
/// cross as `f64` so that `convert` sees `2**32` and `NaN` as they are.
#[napi(object)]
pub struct NativeIsoTpAddressConfig {
    pub mode: Option<String>,
    pub txid: Option<f64>,
    pub rxid: Option<f64>,
    pub target_address: Option<f64>,
    pub source_address: Option<f64>,
    pub address_extension: Option<f64>,
    pub physical_id: Option<f64>,
    pub functional_id: Option<f64>,
}

/// A symmetric address (`both`) or an asymmetric one (`tx` and `rx`).
#[napi(object)]
pub struct NativeIsoTpAddress {
    pub both: Option<NativeIsoTpAddressConfig>,
    pub tx: Option<NativeIsoTpAddressConfig>,
    pub rx: Option<NativeIsoTpAddressConfig>,
}

/// Parameters in python-can-isotp's units (timeouts in ms, override STmin
/// and the rate-limit window in seconds).
#[napi(object)]
pub struct NativeIsoTpParams {
    pub stmin: Option<f64>,
    pub blocksize: Option<f64>,
    pub tx_data_length: Option<f64>,
    pub tx_data_min_length: Option<f64>,
    pub override_receiver_stmin: Option<f64>,
    pub rx_flowcontrol_timeout: Option<f64>,
    pub rx_consecutive_frame_timeout: Option<f64>,
    pub tx_padding: Option<f64>,
    pub wftmax: Option<f64>,
    pub max_frame_size: Option<f64>,
    pub can_fd: Option<bool>,
    pub bitrate_switch: Option<bool>,
    pub default_target_address_type: Option<String>,
    pub rate_limit_enable: Option<bool>,
    pub rate_limit_max_bitrate: Option<f64>,
    pub rate_limit_window_size: Option<f64>,
    pub listen_mode: Option<bool>,
    pub blocking_send: Option<bool>,
}

/// Options of the kernel socket that python-can-isotp's parameters lack.
#[napi(object)]
pub struct NativeKernelIsoTpOptions {
    pub frame_txtime_ns: Option<f64>,
    pub rx_padding: Option<f64>,
    pub check_rx_padding_length: Option<bool>,
    pub check_rx_padding_data: Option<bool>,
    pub half_duplex: Option<bool>,
    pub force_rx_stmin_ns: Option<f64>,
}

fn kernel_options_from(o: &NativeKernelIsoTpOptions) -> napi::Result<KernelIsoTpOptions> {
    let max = u32::MAX - 1;
    Ok(KernelIsoTpOptions {
        frame_txtime_ns: optional_integer("frameTxtimeNs", o.frame_txtime_ns, 0..=max)
            .into_napi()?,
        rx_padding: optional_integer("rxPadding", o.rx_padding, 0..=u8::MAX).into_napi()?,
        check_rx_padding_length: o.check_rx_padding_length.unwrap_or(false),
        check_rx_padding_data: o.check_rx_padding_data.unwrap_or(false),
        half_duplex: o.half_duplex.unwrap_or(false),
        force_rx_stmin_ns: optional_integer("forceRxStminNs", o.force_rx_stmin_ns, 0..=max)
            .into_napi()?,
    })
}

/// A received payload.
#[napi(object)]
pub struct NativeIsoTpPayload {
    pub data: Buffer,
    pub functional: bool,
}

/// The result of a tracked transfer.
#[napi(object)]
pub struct NativeTransferResult {
    /// "complete", "failed" or "pending".
    pub status: String,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// A protocol error event.
#[napi(object)]
pub struct NativeIsoTpError {
    pub code: String,
    pub message: String,
}

/// How often one protocol error occurred.
#[napi(object)]
pub struct NativeIsoTpErrorCount {
    pub code: String,
    pub count: i64,
}

/// Counters of a stack.
#[napi(object)]
pub struct NativeIsoTpStats {
    pub rx_payloads: i64,
    pub rx_overflow: i64,
    pub tx_complete: i64,
    pub tx_failed: i64,
    pub tx_frame_errors: i64,
    pub os_errors: i64,
    pub last_os_error: Option<String>,
    pub errors: Vec<NativeIsoTpErrorCount>,
}

fn mode_from(name: Option<&str>) -> napi::Result<AddressingMode> {
    let key: String = name
        .unwrap_or("normal_11bits")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Ok(match key.as_str() {
        "normal11bits" => AddressingMode::Normal11Bits,
        "normal29bits" => AddressingMode::Normal29Bits,
        "normalfixed29bits" => AddressingMode::NormalFixed29Bits,
        "extended11bits" => AddressingMode::Extended11Bits,
        "extended29bits" => AddressingMode::Extended29Bits,
        "mixed11bits" => AddressingMode::Mixed11Bits,
        "mixed29bits" => AddressingMode::Mixed29Bits,
        _ => {
            return Err(invalid_argument(format!(
                "unknown addressing mode '{}': use Normal_11bits, Normal_29bits, NormalFixed_29bits, Extended_11bits, Extended_29bits, Mixed_11bits or Mixed_29bits",
                name.unwrap_or_default()
            )));
        }
    })
}

fn config_from(path: &str, c: &NativeIsoTpAddressConfig) -> napi::Result<AddressConfig> {
    let id = |name: &str, v: Option<f64>| {
        optional_integer(&format!("{path}.{name}"), v, 0..=u32::MAX).into_napi()
    };
    let byte = |name: &str, v: Option<f64>| {
        optional_integer(&format!("{path}.{name}"), v, 0..=u8::MAX).into_napi()
    };
    Ok(AddressConfig {
        mode: mode_from(c.mode.as_deref())?,
        txid: id("txid", c.txid)?,
        rxid: id("rxid", c.rxid)?,
        target_address: byte("targetAddress", c.target_address)?,
        source_address: byte("sourceAddress", c.source_address)?,
        address_extension: byte("addressExtension", c.address_extension)?,
        physical_id: id("physicalId", c.physical_id)?,
        functional_id: id("functionalId", c.functional_id)?,
    })
}

fn address_from(a: &NativeIsoTpAddress) -> napi::Result<IsoTpAddress> {
    match (&a.both, &a.tx, &a.rx) {
        (Some(both), None, None) => IsoTpAddress::new(config_from("address", both)?).into_napi(),
        (None, Some(tx), Some(rx)) => IsoTpAddress::asymmetric(
            config_from("address.tx", tx)?,
            config_from("address.rx", rx)?,
        )
        .into_napi(),
        (None, Some(tx), None) => IsoTpAddress::tx_only(config_from("address.tx", tx)?).into_napi(),
        (None, None, Some(rx)) => IsoTpAddress::rx_only(config_from("address.rx", rx)?).into_napi(),
        _ => Err(invalid_argument(
            "an ISO-TP address is either one configuration or { tx, rx }",
        )),
    }
}

fn params_from(p: &NativeIsoTpParams) -> napi::Result<IsoTpParams> {
    let mut out = IsoTpParams::default();
    let byte = |name: &str, v: f64| integer(&format!("params.{name}"), v, 0..=u8::MAX).into_napi();
    let word = |name: &str, v: f64| integer(&format!("params.{name}"), v, 0..=u32::MAX).into_napi();
    let fd_length =
        |name: &str, v: f64| integer(&format!("params.{name}"), v, 0..=64u8).into_napi();
    if let Some(v) = p.stmin {
        out.stmin = byte("stmin", v)?;
    }
    if let Some(v) = p.blocksize {
        out.blocksize = byte("blocksize", v)?;
    }
    if let Some(v) = p.tx_data_length {
        out.tx_data_length = fd_length("txDataLength", v)?;
    }
    if let Some(v) = p.tx_data_min_length {
        out.tx_data_min_length = Some(fd_length("txDataMinLength", v)?);
    }
    if let Some(v) = p.override_receiver_stmin {
        out.override_receiver_stmin_ns =
            Some(duration_s("params.overrideReceiverStmin", v).into_napi()?);
    }
    if let Some(v) = p.rx_flowcontrol_timeout {
        out.rx_flowcontrol_timeout_ns =
            duration_ms("params.rxFlowcontrolTimeout", v).into_napi()?;
    }
    if let Some(v) = p.rx_consecutive_frame_timeout {
        out.rx_consecutive_frame_timeout_ns =
            duration_ms("params.rxConsecutiveFrameTimeout", v).into_napi()?;
    }
    if let Some(v) = p.tx_padding {
        out.tx_padding = Some(byte("txPadding", v)?);
    }
    if let Some(v) = p.wftmax {
        out.wftmax = word("wftmax", v)?;
    }
    if let Some(v) = p.max_frame_size {
        out.max_frame_size = word("maxFrameSize", v)?;
    }
    if let Some(v) = p.can_fd {
        out.can_fd = v;
    }
    if let Some(v) = p.bitrate_switch {
        out.bitrate_switch = v;
    }
    if let Some(v) = &p.default_target_address_type {
        out.default_target_address_type = target_from(v)?;
    }
    if let Some(v) = p.rate_limit_enable {
        out.rate_limit_enable = v;
    }
    if let Some(v) = p.rate_limit_max_bitrate {
        out.rate_limit_max_bitrate =
            integer("params.rateLimitMaxBitrate", v, 0..=u64::MAX >> 11).into_napi()?;
    }
    if let Some(v) = p.rate_limit_window_size {
        out.rate_limit_window_size_ns = duration_s("params.rateLimitWindowSize", v).into_napi()?;
    }
    if let Some(v) = p.listen_mode {
        out.listen_mode = v;
    }
    if let Some(v) = p.blocking_send {
        out.blocking_send = v;
    }
    out.validate().into_napi()?;
    Ok(out)
}

/// The payload queue bound (`rxQueueSize`): 1..=2^24 payloads, default 1024.
pub(crate) fn rx_queue_size(value: Option<f64>) -> napi::Result<usize> {
    let size = optional_integer("rxQueueSize", value, 1..=1u32 << 24).into_napi()?;
    Ok(size.map_or(1024, |n| n as usize))
}

fn target_from(name: &str) -> napi::Result<TargetAddressType> {
    match name.to_ascii_lowercase().as_str() {
        "physical" => Ok(TargetAddressType::Physical),
        "functional" => Ok(TargetAddressType::Functional),
        _ => Err(invalid_argument(format!(
            "target address type '{name}' is not 'physical' or 'functional'"
        ))),
    }
}

/// An ISO-TP stack: userspace on a bus, or kernel sockets on an interface.
#[napi]
pub struct NativeIsoTp {
    driver: Arc<IsoTpStack>,
}

impl NativeIsoTp {
    /// The shared stack, for an exporter serving it.
    pub fn shared(&self) -> Arc<IsoTpStack> {
        self.driver.clone()
    }

    /// Wraps a stack opened elsewhere (a remote one opened off the JS thread).
    pub(crate) fn from_stack(stack: IsoTpStack) -> NativeIsoTp {
        NativeIsoTp {
            driver: Arc::new(stack),
        }
    }
}

#[napi]
impl NativeIsoTp {
    /// Starts a stack on `bus`.
    #[napi(factory, catch_unwind)]
    pub fn open(
        bus: &NativeBus,
        address: NativeIsoTpAddress,
        params: NativeIsoTpParams,
        rx_queue_payloads: Option<f64>,
    ) -> napi::Result<NativeIsoTp> {
        let address = address_from(&address)?;
        let params = params_from(&params)?;
        let options = IsoTpDriverOptions {
            rx_queue_payloads: rx_queue_size(rx_queue_payloads)?,
            ..IsoTpDriverOptions::default()
        };
        let driver =
            IsoTpStack::start_userspace(bus.shared(), address, params, options).into_napi()?;
        Ok(NativeIsoTp {
            driver: Arc::new(driver),
        })
    }

    /// Opens kernel can-isotp sockets on interface `channel` (Linux).
    #[napi(factory, catch_unwind)]
    pub fn open_kernel(
        channel: String,
        address: NativeIsoTpAddress,
        params: NativeIsoTpParams,
        kernel: Option<NativeKernelIsoTpOptions>,
        rx_queue_payloads: Option<f64>,
    ) -> napi::Result<NativeIsoTp> {
        let address = address_from(&address)?;
        let params = params_from(&params)?;
        let options = kernel
            .as_ref()
            .map(kernel_options_from)
            .transpose()?
            .unwrap_or_default();
        let queue = rx_queue_size(rx_queue_payloads)?;
        let stack =
            IsoTpStack::open_kernel(&channel, address, params, options, queue).into_napi()?;
        Ok(NativeIsoTp {
            driver: Arc::new(stack),
        })
    }

    /// Queues a payload; returns its transfer id (tracked when `track`).
    #[napi(catch_unwind)]
    pub fn send(&self, data: Uint8Array, target: Option<String>, track: bool) -> napi::Result<f64> {
        let target = target.as_deref().map(target_from).transpose()?;
        let id = self.driver.send(data.to_vec(), target, track).into_napi()?;
        Ok(id.0 as f64)
    }

    /// Arranges one call of `waker` with `token` for when the tracked
    /// transfer `id` ends or the stack closes, and returns true; returns
    /// false (nothing armed) if that is so already: read its status instead.
    #[napi(catch_unwind)]
    pub fn arm_transfer(&self, id: f64, waker: &NativeWaker, token: u32) -> bool {
        self.driver
            .inbox()
            .notify_when_done(TransferId(id as u64), key(token), waker.hook(token))
    }

    /// Where a tracked transfer stands; a finished one is forgotten once read.
    #[napi(catch_unwind)]
    pub fn transfer_status(&self, id: f64) -> napi::Result<NativeTransferResult> {
        let id = TransferId(id as u64);
        Ok(match self.driver.take_status(id) {
            Some(TransferStatus::Complete) => NativeTransferResult {
                status: "complete".into(),
                code: None,
                message: None,
            },
            Some(TransferStatus::Failed(error)) => NativeTransferResult {
                status: "failed".into(),
                code: Some(error.code.as_str().into()),
                message: Some(error.message),
            },
            Some(TransferStatus::OsFailed(error)) => NativeTransferResult {
                status: "failed".into(),
                code: Some(error.code.as_str().into()),
                message: Some(error.message),
            },
            Some(TransferStatus::Pending) => NativeTransferResult {
                status: "pending".into(),
                code: None,
                message: None,
            },
            None => {
                return Err(to_napi(CanwireError::new(
                    ErrorCode::Closed,
                    "the ISO-TP stack closed before the transfer ended",
                )));
            }
        })
    }

    /// Stops tracking a transfer.
    #[napi(catch_unwind)]
    pub fn forget(&self, id: f64) {
        self.driver.forget(TransferId(id as u64));
    }

    /// Takes the oldest received payload, or `null`; once a failed stack
    /// (a remote one that lost its connection) is drained, throws the failure.
    #[napi(catch_unwind)]
    pub fn try_recv(&self) -> napi::Result<Option<NativeIsoTpPayload>> {
        match self.driver.try_recv() {
            Some(p) => Ok(Some(NativeIsoTpPayload {
                data: p.data.into(),
                functional: p.target_address_type == TargetAddressType::Functional,
            })),
            None => match self.driver.inbox().failure() {
                Some(error) => Err(to_napi(error)),
                None => Ok(None),
            },
        }
    }

    /// Arranges one call of `waker` with `token` for when a payload waits or
    /// the stack closes, and returns true; returns false (nothing armed) if
    /// that is so already: receive instead.
    #[napi(catch_unwind)]
    pub fn arm_recv(&self, waker: &NativeWaker, token: u32) -> bool {
        self.driver
            .inbox()
            .notify_when_readable(key(token), waker.hook(token))
    }

    /// Drops the call armed under `token`, if it has not run.
    #[napi(catch_unwind)]
    pub fn disarm(&self, token: u32) {
        self.driver.inbox().cancel_notify(key(token));
    }

    /// True if a received payload waits.
    #[napi(getter, catch_unwind)]
    pub fn available(&self) -> bool {
        self.driver.available()
    }

    /// True while a transfer is being sent or queued.
    #[napi(getter, catch_unwind)]
    pub fn transmitting(&self) -> bool {
        self.driver.transmitting()
    }

    /// True unless stopped or closed.
    #[napi(getter, catch_unwind)]
    pub fn running(&self) -> bool {
        self.driver.is_running()
    }

    /// True once closed.
    #[napi(getter, catch_unwind)]
    pub fn closed(&self) -> bool {
        self.driver.is_closed()
    }

    /// Aborts the current and queued transfers.
    #[napi(catch_unwind)]
    pub fn stop_sending(&self) {
        self.driver.stop_sending();
    }

    /// Drops the reception in progress.
    #[napi(catch_unwind)]
    pub fn stop_receiving(&self) {
        self.driver.stop_receiving();
    }

    /// Changes the address.
    #[napi(catch_unwind)]
    pub fn set_address(&self, address: NativeIsoTpAddress) -> napi::Result<()> {
        self.driver.set_address(address_from(&address)?).into_napi()
    }

    /// Resumes processing.
    #[napi(catch_unwind)]
    pub fn start(&self) -> napi::Result<()> {
        self.driver.resume().into_napi()
    }

    /// Pauses processing (transfers are aborted, arriving frames ignored).
    #[napi(catch_unwind)]
    pub fn stop(&self) {
        self.driver.pause();
    }

    /// Takes the recent protocol errors.
    #[napi(catch_unwind)]
    pub fn take_errors(&self) -> Vec<NativeIsoTpError> {
        self.driver
            .take_errors()
            .into_iter()
            .map(|e| NativeIsoTpError {
                code: e.code.as_str().into(),
                message: e.message,
            })
            .collect()
    }

    /// Counters.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativeIsoTpStats {
        let s = self.driver.stats();
        NativeIsoTpStats {
            rx_payloads: s.rx_payloads as i64,
            rx_overflow: s.rx_overflow as i64,
            tx_complete: s.tx_complete as i64,
            tx_failed: s.tx_failed as i64,
            tx_frame_errors: s.tx_frame_errors as i64,
            os_errors: s.os_errors as i64,
            last_os_error: s.last_os_error,
            errors: s
                .errors
                .into_iter()
                .map(|(code, n)| NativeIsoTpErrorCount {
                    code: code.as_str().into(),
                    count: n as i64,
                })
                .collect(),
        }
    }

    /// Stops the stack's thread. Idempotent.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.driver.close();
    }
}
