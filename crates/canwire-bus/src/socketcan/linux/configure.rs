//! Applies a [`ControllerPlan`] over CAN netlink: the interface is read with
//! the socketcan crate, the changes are written with [`super::can_netlink`]
//! (which keeps the kernel's errno and text): one RTM_NEWLINK per [`Step`], the link brought down first when it is up
//! and up again at the end (unless the plan says to leave it down). A failed
//! step stops the apply and is reported by name; nothing already set is
//! rolled back.

use canwire_core::CanwireError;
use canwire_core::error::Result;
use socketcan::nl::{CanBitTiming, CanInterface, InterfaceCanParams, NlError};

use super::can_netlink::{self, LinkFlag, Refusal, attr};
use super::controller::mode_flags;
use super::interfaces::resolve;
use crate::socketcan::controller_plan::{
    ControllerPlan, PhaseTiming, Step, check_clock, no_controller, step_error,
};

/// The errno behind a socketcan netlink error (EIO when it carried none, such as a missing ack).
fn errno_of(error: &socketcan::Error) -> i32 {
    match error {
        socketcan::Error::Io(e) => e.raw_os_error().unwrap_or(libc::EIO),
        socketcan::Error::Nl(NlError::Netlink { errno }) => *errno,
        _ => libc::EIO,
    }
}

fn kernel_timing(timing: &PhaseTiming) -> Vec<u8> {
    match *timing {
        PhaseTiming::Bitrate {
            bitrate,
            sample_point,
        } => can_netlink::bittiming_bytes([bitrate, sample_point.unwrap_or(0), 0, 0, 0, 0, 0, 0]),
        // bitrate 0 and tq set: the kernel derives brp from its clock and checks the segments
        PhaseTiming::Segments {
            tq,
            prop_seg,
            phase_seg1,
            phase_seg2,
            sjw,
        } => can_netlink::bittiming_bytes([0, 0, tq, prop_seg, phase_seg1, phase_seg2, sjw, 0]),
    }
}

/// The IFLA_CAN attributes of one configuration step.
fn step_attributes(plan: &ControllerPlan, step: &Step) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    if let Step::Timing = step {
        if let Some(t) = &plan.nominal {
            out.push((attr::BITTIMING, kernel_timing(t)));
        }
        if let Some(t) = &plan.data {
            out.push((attr::DATA_BITTIMING, kernel_timing(t)));
        }
    }
    if let Some((mask, flags)) = plan.ctrl_mode_bits(step) {
        let mut bytes = mask.to_ne_bytes().to_vec();
        bytes.extend_from_slice(&flags.to_ne_bytes());
        out.push((attr::CTRLMODE, bytes));
    }
    match step {
        Step::RestartMs => out.push((
            attr::RESTART_MS,
            plan.restart_ms.unwrap_or(0).to_ne_bytes().to_vec(),
        )),
        Step::Termination => out.push((
            attr::TERMINATION,
            plan.termination.unwrap_or(0).to_ne_bytes().to_vec(),
        )),
        Step::Restart => out.push((attr::RESTART, 1u32.to_ne_bytes().to_vec())),
        _ => {}
    }
    out
}

/// Sends the request of `step` for interface `index`.
fn apply_step(index: u32, plan: &ControllerPlan, step: &Step) -> Result<(), Refusal> {
    let flag = match step {
        Step::BringDown => LinkFlag::Down,
        Step::BringUp => LinkFlag::Up,
        _ => LinkFlag::Keep,
    };
    can_netlink::send(&can_netlink::request(
        index,
        1,
        flag,
        &step_attributes(plan, step),
    ))
}

/// The error for a failed step.
fn failed(
    name: &str,
    plan: &ControllerPlan,
    step: &Step,
    refusal: &Refusal,
    left_down: bool,
) -> CanwireError {
    step_error(
        name,
        plan,
        step,
        (refusal.errno, refusal.message.as_deref()),
        left_down,
    )
}

/// Reads the interface: its index, and its details from CAN netlink.
fn inspect(name: &str, plan: &ControllerPlan) -> Result<(u32, socketcan::nl::InterfaceDetails)> {
    let index = resolve(name)?.index;
    let details = CanInterface::open_iface(index)
        .details()
        .map_err(|e| step_error(name, plan, &Step::Inspect, (errno_of(&e), None), false))?;
    // Only can-dev drivers (link kind "can") report IFLA_CAN_CTRLMODE; vcan and vxcan have no IFLA_INFO_DATA.
    if details.can.ctrl_mode.is_none() {
        return Err(no_controller(name));
    }
    Ok((index, details))
}

fn timing_in_effect(wanted: Option<&PhaseTiming>, actual: Option<CanBitTiming>) -> bool {
    let Some(wanted) = wanted else { return true };
    let Some(actual) = actual else { return false };
    match *wanted {
        PhaseTiming::Bitrate {
            bitrate,
            sample_point,
        } => actual.bitrate == bitrate && sample_point.is_none_or(|p| p == actual.sample_point),
        PhaseTiming::Segments {
            tq,
            prop_seg,
            phase_seg1,
            phase_seg2,
            sjw,
        } => {
            actual.tq == tq
                && actual.prop_seg + actual.phase_seg1 == prop_seg + phase_seg1
                && actual.phase_seg2 == phase_seg2
                && actual.sjw == sjw
        }
    }
}

/// Whether the controller already runs as `plan` asks, so that applying
/// would change nothing (and need no privilege, nor bounce the link).
fn in_effect(plan: &ControllerPlan, can: &InterfaceCanParams) -> bool {
    let flags = can.ctrl_mode.map(mode_flags).unwrap_or(0);
    let modes_match = [Step::Timing, Step::ControlModes].iter().all(|step| {
        plan.ctrl_mode_bits(step)
            .is_none_or(|(mask, wanted)| flags & mask == wanted)
    });
    modes_match
        && timing_in_effect(plan.nominal.as_ref(), can.bit_timing)
        && timing_in_effect(plan.data.as_ref(), can.data_bit_timing)
        && plan.restart_ms.is_none_or(|ms| can.restart_ms == Some(ms))
        && plan
            .termination
            .is_none_or(|ohm| can.termination == Some(ohm))
}

/// Configures the controller of CAN interface `name` as `plan` says. When
/// the controller already runs so (and the link is as the plan leaves it),
/// nothing is sent: no privilege is needed and the link is not bounced.
///
/// Errors: `ERR_UNKNOWN_INTERFACE` / `ERR_NOT_CAN_INTERFACE` for the name,
/// `ERR_UNSUPPORTED` for an interface without a controller (vcan, vxcan) or
/// an option the driver refuses, `ERR_PERMISSION_DENIED` without
/// CAP_NET_ADMIN, `ERR_INVALID_ARGUMENT` for a bad plan or a value the
/// kernel rejects; each names the step that failed.
pub fn configure_controller(name: &str, plan: ControllerPlan) -> Result<()> {
    let plan = plan.validated()?;
    let (index, details) = inspect(name, &plan)?;
    check_clock(name, &plan, details.can.clock.map(|c| c.freq))?;
    if in_effect(&plan, &details.can) && details.is_up != plan.leave_down {
        return Ok(());
    }
    let mut brought_down = false;
    for step in plan.steps() {
        match step {
            Step::Inspect => continue,
            Step::BringDown if !details.is_up => continue,
            _ => {}
        }
        if let Err(refusal) = apply_step(index, &plan, &step) {
            let left_down = brought_down && step != Step::BringUp;
            return Err(failed(name, &plan, &step, &refusal, left_down));
        }
        brought_down |= step == Step::BringDown;
    }
    Ok(())
}

/// Sets CAN interface `name` administratively up or down (`ip link set NAME up|down`).
pub fn set_link_up(name: &str, up: bool) -> Result<()> {
    let index = resolve(name)?.index;
    let step = if up { Step::BringUp } else { Step::BringDown };
    let plan = ControllerPlan::default();
    apply_step(index, &plan, &step).map_err(|r| failed(name, &plan, &step, &r, false))
}

/// Restarts a controller that is bus-off (`ip link set NAME type can restart`);
/// the kernel refuses it (EINVAL) with automatic restart on or the link
/// down, and when the controller is not bus-off (EBUSY).
pub fn restart_controller(name: &str) -> Result<()> {
    let plan = ControllerPlan::default();
    let (index, _) = inspect(name, &plan)?;
    apply_step(index, &plan, &Step::Restart)
        .map_err(|r| failed(name, &plan, &Step::Restart, &r, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use socketcan::nl::CanCtrlModes;

    #[test]
    fn a_plan_already_in_effect_is_recognised() {
        let can = InterfaceCanParams {
            bit_timing: Some(CanBitTiming {
                bitrate: 500_000,
                sample_point: 875,
                tq: 125,
                prop_seg: 6,
                phase_seg1: 7,
                phase_seg2: 2,
                sjw: 1,
                brp: 1,
            }),
            ctrl_mode: Some(CanCtrlModes::new(0xff, 0x02)),
            restart_ms: Some(100),
            ..InterfaceCanParams::default()
        };
        let rate = |bitrate, sample_point| {
            Some(PhaseTiming::Bitrate {
                bitrate,
                sample_point,
            })
        };
        let plan = |nominal, listen_only, restart_ms| ControllerPlan {
            nominal,
            listen_only,
            restart_ms,
            ..Default::default()
        };
        assert!(in_effect(
            &plan(rate(500_000, None), Some(true), Some(100)),
            &can
        ));
        assert!(in_effect(&plan(rate(500_000, Some(875)), None, None), &can));
        assert!(!in_effect(
            &plan(rate(500_000, Some(800)), None, None),
            &can
        ));
        assert!(!in_effect(&plan(rate(250_000, None), None, None), &can));
        assert!(!in_effect(&plan(None, Some(false), None), &can));
        assert!(!in_effect(&plan(None, None, Some(0)), &can));
        let segments = |prop_seg, phase_seg1| ControllerPlan {
            nominal: Some(PhaseTiming::Segments {
                tq: 125,
                prop_seg,
                phase_seg1,
                phase_seg2: 2,
                sjw: 1,
            }),
            ..Default::default()
        };
        assert!(in_effect(&segments(7, 6), &can));
        assert!(!in_effect(&segments(7, 7), &can));
        // FD on with no data timing reported
        let fd = ControllerPlan {
            nominal: rate(500_000, None),
            data: rate(2_000_000, None),
            ..Default::default()
        }
        .validated()
        .unwrap();
        assert!(!in_effect(&fd, &can));
    }

    #[test]
    fn each_step_carries_only_its_attributes() {
        let plan = ControllerPlan {
            nominal: Some(PhaseTiming::Bitrate {
                bitrate: 500_000,
                sample_point: Some(875),
            }),
            data: Some(PhaseTiming::Segments {
                tq: 25,
                prop_seg: 10,
                phase_seg1: 9,
                phase_seg2: 10,
                sjw: 5,
            }),
            listen_only: Some(true),
            restart_ms: Some(100),
            ..Default::default()
        }
        .validated()
        .unwrap();
        let words = |v: &[u8]| -> Vec<u32> {
            v.chunks(4)
                .map(|c| u32::from_ne_bytes(c.try_into().unwrap()))
                .collect()
        };
        let timing = step_attributes(&plan, &Step::Timing);
        let kinds: Vec<u16> = timing.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            [attr::BITTIMING, attr::DATA_BITTIMING, attr::CTRLMODE]
        );
        assert_eq!(words(&timing[0].1), [500_000, 875, 0, 0, 0, 0, 0, 0]);
        assert_eq!(words(&timing[1].1), [0, 0, 25, 10, 9, 10, 5, 0]);
        assert_eq!(words(&timing[2].1), [0x20, 0x20]);
        let modes = step_attributes(&plan, &Step::ControlModes);
        assert_eq!(modes.len(), 1);
        assert_eq!(words(&modes[0].1), [0x02, 0x02]);
        assert_eq!(
            step_attributes(&plan, &Step::RestartMs),
            [(attr::RESTART_MS, 100u32.to_ne_bytes().to_vec())]
        );
        assert_eq!(step_attributes(&plan, &Step::BringUp), []);
    }
}
