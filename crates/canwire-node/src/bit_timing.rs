//! `BitTiming` and `BitTimingFd` exported to JS: each call validates in
//! `canwire_core::bit_timing` and hands back every derived figure at once,
//! so the facade's objects are plain read-only values.

use canwire_core::CanwireError;
use canwire_core::bit_timing::{BitTiming, BitTimingFd, FdSegments, PhaseRequest, Segments};
use canwire_core::error::Result;
use napi_derive::napi;

use crate::convert::js_number;
use crate::error::IntoNapi;

/// The largest integer a JS number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A JS number as a whole number, signed so the core can say what a negative value breaks.
fn whole(name: &str, value: f64) -> Result<i64> {
    if !value.is_finite() || value.fract() != 0.0 || value.abs() > MAX_SAFE_INTEGER {
        return Err(CanwireError::invalid_argument(format!(
            "{name} must be an integer, got {}",
            js_number(value)
        )));
    }
    Ok(value as i64)
}

/// A classic timing as the facade passes it (`new BitTiming({...})`).
#[napi(object)]
pub struct NativeBitTimingInit {
    pub f_clock: f64,
    pub brp: f64,
    pub tseg1: f64,
    pub tseg2: f64,
    pub sjw: f64,
    pub nof_samples: Option<f64>,
    pub strict: Option<bool>,
}

/// Options of `BitTiming.fromBitrateAndSegments`.
#[napi(object)]
pub struct NativeBitTimingFromBitrate {
    pub f_clock: f64,
    pub bitrate: f64,
    pub tseg1: f64,
    pub tseg2: f64,
    pub sjw: f64,
    pub nof_samples: Option<f64>,
    pub strict: Option<bool>,
}

/// Every figure of a classic timing.
#[napi(object)]
pub struct NativeBitTimingValues {
    pub f_clock: f64,
    pub brp: u32,
    pub tseg1: u32,
    pub tseg2: u32,
    pub sjw: u32,
    pub nof_samples: u32,
    pub nbt: u32,
    pub bitrate: u32,
    pub tq: u32,
    pub sample_point: f64,
    pub btr0: u32,
    pub btr1: u32,
    /// python-can's `str(BitTiming)`.
    pub text: String,
}

impl From<BitTiming> for NativeBitTimingValues {
    fn from(t: BitTiming) -> Self {
        NativeBitTimingValues {
            f_clock: t.f_clock() as f64,
            brp: t.brp(),
            tseg1: t.tseg1(),
            tseg2: t.tseg2(),
            sjw: t.sjw(),
            nof_samples: t.nof_samples(),
            nbt: t.nbt(),
            bitrate: t.bitrate(),
            tq: t.tq(),
            sample_point: t.sample_point(),
            btr0: t.btr0(),
            btr1: t.btr1(),
            text: t.to_string(),
        }
    }
}

fn classic(init: &NativeBitTimingInit) -> Result<BitTiming> {
    let segments = Segments {
        brp: whole("brp", init.brp)?,
        tseg1: whole("tseg1", init.tseg1)?,
        tseg2: whole("tseg2", init.tseg2)?,
        sjw: whole("sjw", init.sjw)?,
    };
    let nof_samples = whole("nofSamples", init.nof_samples.unwrap_or(1.0))?;
    BitTiming::new(
        whole("fClock", init.f_clock)?,
        segments,
        nof_samples,
        init.strict.unwrap_or(false),
    )
}

/// Validates a classic timing given by its segments.
#[napi(catch_unwind)]
pub fn bit_timing_new(init: NativeBitTimingInit) -> napi::Result<NativeBitTimingValues> {
    classic(&init).map(Into::into).into_napi()
}

/// A classic timing for a bitrate and segments.
#[napi(catch_unwind)]
pub fn bit_timing_from_bitrate_and_segments(
    o: NativeBitTimingFromBitrate,
) -> napi::Result<NativeBitTimingValues> {
    let timing = (|| {
        BitTiming::from_bitrate_and_segments(
            whole("fClock", o.f_clock)?,
            whole("bitrate", o.bitrate)?,
            whole("tseg1", o.tseg1)?,
            whole("tseg2", o.tseg2)?,
            whole("sjw", o.sjw)?,
            whole("nofSamples", o.nof_samples.unwrap_or(1.0))?,
            o.strict.unwrap_or(false),
        )
    })();
    timing.map(Into::into).into_napi()
}

/// A classic timing from SJA1000 BTR0/BTR1.
#[napi(catch_unwind)]
pub fn bit_timing_from_registers(
    f_clock: f64,
    btr0: f64,
    btr1: f64,
) -> napi::Result<NativeBitTimingValues> {
    let timing = (|| {
        BitTiming::from_registers(
            whole("fClock", f_clock)?,
            whole("btr0", btr0)?,
            whole("btr1", btr1)?,
        )
    })();
    timing.map(Into::into).into_napi()
}

/// Every strict classic timing near a sample point, in python-can's order.
#[napi(catch_unwind)]
pub fn bit_timing_iterate_from_sample_point(
    f_clock: f64,
    bitrate: f64,
    sample_point: f64,
) -> napi::Result<Vec<NativeBitTimingValues>> {
    let all = (|| {
        BitTiming::iterate_from_sample_point(
            whole("fClock", f_clock)?,
            whole("bitrate", bitrate)?,
            sample_point,
        )
    })();
    all.map(|v| v.into_iter().map(Into::into).collect())
        .into_napi()
}

/// The classic timing python-can picks for a sample point.
#[napi(catch_unwind)]
pub fn bit_timing_from_sample_point(
    f_clock: f64,
    bitrate: f64,
    sample_point: f64,
) -> napi::Result<NativeBitTimingValues> {
    let timing = (|| {
        BitTiming::from_sample_point(
            whole("fClock", f_clock)?,
            whole("bitrate", bitrate)?,
            sample_point,
        )
    })();
    timing.map(Into::into).into_napi()
}

/// The oscillator tolerance of a classic timing, in percent.
#[napi(catch_unwind)]
pub fn bit_timing_oscillator_tolerance(
    init: NativeBitTimingInit,
    node_loop_delay_ns: f64,
    bus_length_m: f64,
) -> napi::Result<f64> {
    classic(&init)
        .map(|t| t.oscillator_tolerance(node_loop_delay_ns, bus_length_m))
        .into_napi()
}

/// An FD timing as the facade passes it (`new BitTimingFd({...})`).
#[napi(object)]
pub struct NativeBitTimingFdInit {
    pub f_clock: f64,
    pub nom_brp: f64,
    pub nom_tseg1: f64,
    pub nom_tseg2: f64,
    pub nom_sjw: f64,
    pub data_brp: f64,
    pub data_tseg1: f64,
    pub data_tseg2: f64,
    pub data_sjw: f64,
    pub strict: Option<bool>,
}

/// Options of `BitTimingFd.fromBitrateAndSegments`.
#[napi(object)]
pub struct NativeBitTimingFdFromBitrate {
    pub f_clock: f64,
    pub nom_bitrate: f64,
    pub nom_tseg1: f64,
    pub nom_tseg2: f64,
    pub nom_sjw: f64,
    pub data_bitrate: f64,
    pub data_tseg1: f64,
    pub data_tseg2: f64,
    pub data_sjw: f64,
    pub strict: Option<bool>,
}

/// Options of `BitTimingFd.fromSamplePoint` and `iterateFromSamplePoint`.
#[napi(object)]
pub struct NativeBitTimingFdSamplePoint {
    pub f_clock: f64,
    pub nom_bitrate: f64,
    pub nom_sample_point: f64,
    pub data_bitrate: f64,
    pub data_sample_point: f64,
}

/// Every figure of an FD timing.
#[napi(object)]
pub struct NativeBitTimingFdValues {
    pub f_clock: f64,
    pub nom_brp: u32,
    pub nom_tseg1: u32,
    pub nom_tseg2: u32,
    pub nom_sjw: u32,
    pub data_brp: u32,
    pub data_tseg1: u32,
    pub data_tseg2: u32,
    pub data_sjw: u32,
    pub nbt: u32,
    pub dbt: u32,
    pub nom_bitrate: u32,
    pub data_bitrate: u32,
    pub nom_tq: u32,
    pub data_tq: u32,
    pub nom_sample_point: f64,
    pub data_sample_point: f64,
    /// python-can's `str(BitTimingFd)`.
    pub text: String,
}

impl From<BitTimingFd> for NativeBitTimingFdValues {
    fn from(t: BitTimingFd) -> Self {
        NativeBitTimingFdValues {
            f_clock: t.f_clock() as f64,
            nom_brp: t.nom_brp(),
            nom_tseg1: t.nom_tseg1(),
            nom_tseg2: t.nom_tseg2(),
            nom_sjw: t.nom_sjw(),
            data_brp: t.data_brp(),
            data_tseg1: t.data_tseg1(),
            data_tseg2: t.data_tseg2(),
            data_sjw: t.data_sjw(),
            nbt: t.nbt(),
            dbt: t.dbt(),
            nom_bitrate: t.nom_bitrate(),
            data_bitrate: t.data_bitrate(),
            nom_tq: t.nom_tq(),
            data_tq: t.data_tq(),
            nom_sample_point: t.nom_sample_point(),
            data_sample_point: t.data_sample_point(),
            text: t.to_string(),
        }
    }
}

fn fd(init: &NativeBitTimingFdInit) -> Result<BitTimingFd> {
    let segments = FdSegments {
        nominal: Segments {
            brp: whole("nomBrp", init.nom_brp)?,
            tseg1: whole("nomTseg1", init.nom_tseg1)?,
            tseg2: whole("nomTseg2", init.nom_tseg2)?,
            sjw: whole("nomSjw", init.nom_sjw)?,
        },
        data: Segments {
            brp: whole("dataBrp", init.data_brp)?,
            tseg1: whole("dataTseg1", init.data_tseg1)?,
            tseg2: whole("dataTseg2", init.data_tseg2)?,
            sjw: whole("dataSjw", init.data_sjw)?,
        },
    };
    BitTimingFd::new(
        whole("fClock", init.f_clock)?,
        segments,
        init.strict.unwrap_or(false),
    )
}

/// Validates an FD timing given by both phases' segments.
#[napi(catch_unwind)]
pub fn bit_timing_fd_new(init: NativeBitTimingFdInit) -> napi::Result<NativeBitTimingFdValues> {
    fd(&init).map(Into::into).into_napi()
}

/// An FD timing for two bitrates and their segments.
#[napi(catch_unwind)]
pub fn bit_timing_fd_from_bitrate_and_segments(
    o: NativeBitTimingFdFromBitrate,
) -> napi::Result<NativeBitTimingFdValues> {
    let timing = (|| {
        let nominal = PhaseRequest {
            bitrate: whole("nomBitrate", o.nom_bitrate)?,
            tseg1: whole("nomTseg1", o.nom_tseg1)?,
            tseg2: whole("nomTseg2", o.nom_tseg2)?,
            sjw: whole("nomSjw", o.nom_sjw)?,
        };
        let data = PhaseRequest {
            bitrate: whole("dataBitrate", o.data_bitrate)?,
            tseg1: whole("dataTseg1", o.data_tseg1)?,
            tseg2: whole("dataTseg2", o.data_tseg2)?,
            sjw: whole("dataSjw", o.data_sjw)?,
        };
        BitTimingFd::from_bitrate_and_segments(
            whole("fClock", o.f_clock)?,
            nominal,
            data,
            o.strict.unwrap_or(false),
        )
    })();
    timing.map(Into::into).into_napi()
}

fn sample_point_args(o: &NativeBitTimingFdSamplePoint) -> Result<(i64, i64, i64)> {
    Ok((
        whole("fClock", o.f_clock)?,
        whole("nomBitrate", o.nom_bitrate)?,
        whole("dataBitrate", o.data_bitrate)?,
    ))
}

/// Every strict FD timing near two sample points, in python-can's order.
#[napi(catch_unwind)]
pub fn bit_timing_fd_iterate_from_sample_point(
    o: NativeBitTimingFdSamplePoint,
) -> napi::Result<Vec<NativeBitTimingFdValues>> {
    let all = sample_point_args(&o).and_then(|(f_clock, nom, data)| {
        BitTimingFd::iterate_from_sample_point(
            f_clock,
            nom,
            o.nom_sample_point,
            data,
            o.data_sample_point,
        )
    });
    all.map(|v| v.into_iter().map(Into::into).collect())
        .into_napi()
}

/// The FD timing python-can picks for two sample points.
#[napi(catch_unwind)]
pub fn bit_timing_fd_from_sample_point(
    o: NativeBitTimingFdSamplePoint,
) -> napi::Result<NativeBitTimingFdValues> {
    let timing = sample_point_args(&o).and_then(|(f_clock, nom, data)| {
        BitTimingFd::from_sample_point(f_clock, nom, o.nom_sample_point, data, o.data_sample_point)
    });
    timing.map(Into::into).into_napi()
}

/// The oscillator tolerance of an FD timing, in percent.
#[napi(catch_unwind)]
pub fn bit_timing_fd_oscillator_tolerance(
    init: NativeBitTimingFdInit,
    node_loop_delay_ns: f64,
    bus_length_m: f64,
) -> napi::Result<f64> {
    fd(&init)
        .map(|t| t.oscillator_tolerance(node_loop_delay_ns, bus_length_m))
        .into_napi()
}

/// A classic timing's bitrate and sample point on another clock.
#[napi(catch_unwind)]
pub fn bit_timing_recreate_with_f_clock(
    init: NativeBitTimingInit,
    f_clock: f64,
) -> napi::Result<NativeBitTimingValues> {
    let timing = (|| classic(&init)?.recreate_with_f_clock(whole("fClock", f_clock)?))();
    timing.map(Into::into).into_napi()
}

/// An FD timing's bitrates and sample points on another clock.
#[napi(catch_unwind)]
pub fn bit_timing_fd_recreate_with_f_clock(
    init: NativeBitTimingFdInit,
    f_clock: f64,
) -> napi::Result<NativeBitTimingFdValues> {
    let timing = (|| fd(&init)?.recreate_with_f_clock(whole("fClock", f_clock)?))();
    timing.map(Into::into).into_napi()
}
