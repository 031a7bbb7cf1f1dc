//! Applies a [`ControllerPlan`] over CAN netlink with the socketcan crate:
//! one RTM_NEWLINK per [`Step`], the link brought down first when it is up
//! and up again at the end (unless the plan says to leave it down). A failed
//! step stops the apply and is reported by name; nothing already set is
//! rolled back.

use canwire_core::error::Result;
use socketcan::nl::{CanBitTiming, CanCtrlModes, CanInterface, InterfaceCanParams, NlError};

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

fn kernel_timing(timing: &PhaseTiming) -> CanBitTiming {
    match *timing {
        PhaseTiming::Bitrate {
            bitrate,
            sample_point,
        } => CanBitTiming {
            bitrate,
            sample_point: sample_point.unwrap_or(0),
            ..CanBitTiming::default()
        },
        // bitrate 0 and tq set: the kernel derives brp from its clock and checks the segments
        PhaseTiming::Segments {
            tq,
            prop_seg,
            phase_seg1,
            phase_seg2,
            sjw,
        } => CanBitTiming {
            tq,
            prop_seg,
            phase_seg1,
            phase_seg2,
            sjw,
            ..CanBitTiming::default()
        },
    }
}

/// The attributes of one configuration step.
fn step_params(plan: &ControllerPlan, step: &Step) -> InterfaceCanParams {
    let mut params = InterfaceCanParams {
        ctrl_mode: plan
            .ctrl_mode_bits(step)
            .map(|(mask, flags)| CanCtrlModes::new(mask, flags)),
        ..InterfaceCanParams::default()
    };
    match step {
        Step::Timing => {
            params.bit_timing = plan.nominal.as_ref().map(kernel_timing);
            params.data_bit_timing = plan.data.as_ref().map(kernel_timing);
        }
        Step::RestartMs => params.restart_ms = plan.restart_ms,
        Step::Termination => params.termination = plan.termination,
        _ => {}
    }
    params
}

/// Configures the controller of CAN interface `name` as `plan` says.
///
/// Errors: `ERR_UNKNOWN_INTERFACE` / `ERR_NOT_CAN_INTERFACE` for the name,
/// `ERR_UNSUPPORTED` for an interface without a controller (vcan, vxcan) or
/// an option the driver refuses, `ERR_PERMISSION_DENIED` without
/// CAP_NET_ADMIN, `ERR_INVALID_ARGUMENT` for a bad plan or a value the
/// kernel rejects; each names the step that failed.
pub fn configure_controller(name: &str, plan: ControllerPlan) -> Result<()> {
    let plan = plan.validated()?;
    let iface = CanInterface::open_iface(resolve(name)?.index);
    let details = iface
        .details()
        .map_err(|e| step_error(name, &plan, &Step::Inspect, errno_of(&e), false))?;
    // Only can-dev drivers (link kind "can") report IFLA_CAN_CTRLMODE; vcan and vxcan have no IFLA_INFO_DATA.
    if details.can.ctrl_mode.is_none() {
        return Err(no_controller(name));
    }
    check_clock(name, &plan, details.can.clock.map(|c| c.freq))?;
    let mut brought_down = false;
    for step in plan.steps() {
        let outcome = match step {
            Step::Inspect => Ok(()),
            Step::BringDown if !details.is_up => continue,
            Step::BringDown => iface.bring_down().inspect(|_| brought_down = true),
            Step::BringUp => iface.bring_up(),
            _ => iface.set_can_params(&step_params(&plan, &step)),
        };
        if let Err(e) = outcome {
            return Err(step_error(
                name,
                &plan,
                &step,
                errno_of(&e),
                brought_down && step != Step::BringUp,
            ));
        }
    }
    Ok(())
}

/// Sets CAN interface `name` administratively up or down (`ip link set NAME up|down`).
pub fn set_link_up(name: &str, up: bool) -> Result<()> {
    let iface = CanInterface::open_iface(resolve(name)?.index);
    let (outcome, step) = if up {
        (iface.bring_up(), Step::BringUp)
    } else {
        (iface.bring_down(), Step::BringDown)
    };
    outcome.map_err(|e| step_error(name, &ControllerPlan::default(), &step, errno_of(&e), false))
}

/// Restarts a controller that is bus-off (`ip link set NAME type can restart`);
/// the kernel refuses it (EINVAL) with automatic restart on or the link
/// down, and when the controller is not bus-off (EBUSY).
pub fn restart_controller(name: &str) -> Result<()> {
    let iface = CanInterface::open_iface(resolve(name)?.index);
    let details = iface.details().map_err(|e| {
        step_error(
            name,
            &ControllerPlan::default(),
            &Step::Inspect,
            errno_of(&e),
            false,
        )
    })?;
    if details.can.ctrl_mode.is_none() {
        return Err(no_controller(name));
    }
    iface.restart().map_err(|e| {
        step_error(
            name,
            &ControllerPlan::default(),
            &Step::Restart,
            errno_of(&e),
            false,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let timing = step_params(&plan, &Step::Timing);
        let nominal = timing.bit_timing.unwrap();
        assert_eq!(
            (nominal.bitrate, nominal.sample_point, nominal.tq),
            (500_000, 875, 0)
        );
        let data = timing.data_bit_timing.unwrap();
        assert_eq!(
            (
                data.bitrate,
                data.tq,
                data.prop_seg,
                data.phase_seg1,
                data.phase_seg2,
                data.sjw
            ),
            (0, 25, 10, 9, 10, 5)
        );
        let mode: socketcan::nl::CanCtrlModes = timing.ctrl_mode.unwrap();
        assert!(mode.has_mode(socketcan::CanCtrlMode::Fd));
        assert_eq!(timing.restart_ms, None);
        let modes = step_params(&plan, &Step::ControlModes);
        assert!(modes.bit_timing.is_none());
        let mode = modes.ctrl_mode.unwrap();
        assert!(mode.has_mode(socketcan::CanCtrlMode::ListenOnly));
        assert!(!mode.has_mode(socketcan::CanCtrlMode::Fd));
        assert_eq!(step_params(&plan, &Step::RestartMs).restart_ms, Some(100));
    }
}
