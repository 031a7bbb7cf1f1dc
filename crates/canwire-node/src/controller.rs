//! CAN controller configuration exported to JS: `Bus.configureInterface`,
//! `Bus.open`'s controller options and `canwire link` come here with a plan
//! whose numbers are still JS numbers; they are checked, turned into a
//! [`ControllerPlan`] and applied by `canwire_bus::socketcan`.

use canwire_bus::socketcan::{self, ControllerPlan, PhaseTiming};
use canwire_core::CanwireError;
use canwire_core::error::Result;
use napi_derive::napi;

use crate::convert::{integer, js_number};
use crate::error::IntoNapi;

/// One phase's segments, as the facade derives them from a `BitTiming`.
#[napi(object)]
pub struct NativeSegments {
    pub tq: f64,
    pub prop_seg: f64,
    pub phase_seg1: f64,
    pub phase_seg2: f64,
    pub sjw: f64,
}

/// A controller plan as the facade passes it.
#[napi(object)]
pub struct NativeControllerPlan {
    pub bitrate: Option<f64>,
    /// A fraction: 0.875.
    pub sample_point: Option<f64>,
    pub data_bitrate: Option<f64>,
    pub data_sample_point: Option<f64>,
    pub timing: Option<NativeSegments>,
    pub data_timing: Option<NativeSegments>,
    /// The fClock the timings were computed for.
    pub timing_clock: Option<f64>,
    pub fd: Option<bool>,
    pub listen_only: Option<bool>,
    pub loopback: Option<bool>,
    pub one_shot: Option<bool>,
    pub triple_sampling: Option<bool>,
    pub restart_ms: Option<f64>,
    pub termination: Option<f64>,
    pub leave_down: Option<bool>,
}

/// A sample point given as a fraction, in the kernel's tenths of a percent.
fn permille(name: &str, value: f64) -> Result<u32> {
    if !(value > 0.0 && value < 1.0) {
        return Err(CanwireError::invalid_argument(format!(
            "{name} must be a fraction above 0 and below 1 (0.875 is 87.5 %), got {}",
            js_number(value)
        )));
    }
    Ok((value * 1000.0).round() as u32)
}

fn segments(name: &str, s: &NativeSegments) -> Result<PhaseTiming> {
    let field = |field: &str, value: f64| integer(&format!("{name}.{field}"), value, 0..=u32::MAX);
    Ok(PhaseTiming::Segments {
        tq: field("tq", s.tq)?,
        prop_seg: field("propSeg", s.prop_seg)?,
        phase_seg1: field("phaseSeg1", s.phase_seg1)?,
        phase_seg2: field("phaseSeg2", s.phase_seg2)?,
        sjw: field("sjw", s.sjw)?,
    })
}

/// One phase from either a bit rate (with an optional sample point) or segments, not both.
fn phase(
    names: [&str; 3],
    bitrate: Option<f64>,
    sample_point: Option<f64>,
    timing: Option<&NativeSegments>,
) -> Result<Option<PhaseTiming>> {
    let [bitrate_name, point_name, timing_name] = names;
    match (bitrate, timing) {
        (Some(_), Some(_)) => Err(CanwireError::invalid_argument(format!(
            "give {bitrate_name} or {timing_name}, not both"
        ))),
        (None, Some(_)) if sample_point.is_some() => Err(CanwireError::invalid_argument(format!(
            "{point_name} goes with {bitrate_name}; {timing_name} fixes the sample point itself"
        ))),
        (None, Some(t)) => segments(timing_name, t).map(Some),
        (Some(rate), None) => Ok(Some(PhaseTiming::Bitrate {
            bitrate: integer(bitrate_name, rate, 0..=u32::MAX)?,
            sample_point: sample_point.map(|p| permille(point_name, p)).transpose()?,
        })),
        (None, None) if sample_point.is_some() => Err(CanwireError::invalid_argument(format!(
            "{point_name} needs {bitrate_name}"
        ))),
        (None, None) => Ok(None),
    }
}

fn plan_of(plan: NativeControllerPlan) -> Result<ControllerPlan> {
    ControllerPlan {
        nominal: phase(
            ["bitrate", "samplePoint", "timing"],
            plan.bitrate,
            plan.sample_point,
            plan.timing.as_ref(),
        )?,
        data: phase(
            ["dataBitrate", "dataSamplePoint", "timing"],
            plan.data_bitrate,
            plan.data_sample_point,
            plan.data_timing.as_ref(),
        )?,
        timing_clock: plan
            .timing_clock
            .map(|c| integer("timing.fClock", c, 1..=u32::MAX))
            .transpose()?,
        fd: plan.fd,
        listen_only: plan.listen_only,
        loopback: plan.loopback,
        one_shot: plan.one_shot,
        triple_sampling: plan.triple_sampling,
        restart_ms: plan
            .restart_ms
            .map(|ms| integer("restartMs", ms, 0..=u32::MAX))
            .transpose()?,
        termination: plan
            .termination
            .map(|ohm| integer("termination", ohm, 0..=u16::MAX))
            .transpose()?,
        leave_down: plan.leave_down.unwrap_or(false),
    }
    .validated()
}

/// Checks a plan without touching any interface (what `configureInterface` would refuse up front).
#[napi(catch_unwind)]
pub fn check_controller_plan(plan: NativeControllerPlan) -> napi::Result<()> {
    plan_of(plan).map(drop).into_napi()
}

/// Configures the controller of CAN interface `name` (needs CAP_NET_ADMIN).
#[napi(catch_unwind)]
pub fn configure_interface(name: String, plan: NativeControllerPlan) -> napi::Result<()> {
    plan_of(plan)
        .and_then(|plan| socketcan::configure_controller(&name, plan))
        .into_napi()
}

/// Sets CAN interface `name` up or down (needs CAP_NET_ADMIN).
#[napi(catch_unwind)]
pub fn set_interface_up(name: String, up: bool) -> napi::Result<()> {
    socketcan::set_link_up(&name, up).into_napi()
}

/// Restarts the bus-off controller of CAN interface `name` (needs CAP_NET_ADMIN).
#[napi(catch_unwind)]
pub fn restart_interface(name: String) -> napi::Result<()> {
    socketcan::restart_controller(&name).into_napi()
}
