//! A CAN controller's configuration as plain data: what `ip link set IFACE
//! type can ...` would send, checked before anything is touched, split into
//! the netlink steps that apply it, and the table saying which errno of
//! which step becomes which [`CanwireError`]. The I/O lives in
//! `linux/configure.rs`; this file holds the policy and is tested without a
//! kernel.
//!
//! | errno            | code                     | meaning                                     |
//! |------------------|--------------------------|---------------------------------------------|
//! | EPERM, EACCES    | `ERR_PERMISSION_DENIED`  | the process lacks CAP_NET_ADMIN             |
//! | EOPNOTSUPP       | `ERR_UNSUPPORTED`        | the driver refuses the option               |
//! | EINVAL, ERANGE   | `ERR_INVALID_ARGUMENT`   | the kernel rejects the value (option named) |
//! | ENODEV           | `ERR_UNKNOWN_INTERFACE`  | the interface went away                     |
//! | anything else    | `ERR_OS`                 | with the errno name                         |

use canwire_core::error::Result;
#[cfg(target_os = "linux")]
use canwire_core::error::errno_name;
use canwire_core::{CanwireError, ErrorCode};

/// The largest nominal (arbitration) bit rate CAN allows.
pub const MAX_NOMINAL_BITRATE: u32 = 1_000_000;
/// The largest data-phase bit rate canwire passes on (CAN FD transceivers stop near 8-12 Mbit/s).
pub const MAX_DATA_BITRATE: u32 = 20_000_000;

/// One phase's bit timing, in either of the two forms the kernel accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseTiming {
    /// A bit rate the driver turns into segments (`ip link ... bitrate N sample-point X`).
    Bitrate {
        /// Bit/s.
        bitrate: u32,
        /// Sample point in tenths of a percent (875 = 87.5 %); `None` lets the kernel choose.
        sample_point: Option<u32>,
    },
    /// Segments given outright (`ip link ... tq N prop-seg N phase-seg1 N phase-seg2 N sjw N`).
    Segments {
        /// Time quantum in ns.
        tq: u32,
        /// Propagation segment in tq.
        prop_seg: u32,
        /// Phase segment 1 in tq.
        phase_seg1: u32,
        /// Phase segment 2 in tq.
        phase_seg2: u32,
        /// Synchronisation jump width in tq.
        sjw: u32,
    },
}

/// What to set on a CAN controller; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControllerPlan {
    /// Nominal (arbitration) phase timing.
    pub nominal: Option<PhaseTiming>,
    /// CAN FD data phase timing; implies `fd: Some(true)`.
    pub data: Option<PhaseTiming>,
    /// The controller's CAN FD mode (`fd on|off`).
    pub fd: Option<bool>,
    /// Listen-only (bus monitoring) mode.
    pub listen_only: Option<bool>,
    /// The controller's own loopback mode (not the socket's).
    pub loopback: Option<bool>,
    /// One-shot mode: no automatic retransmission.
    pub one_shot: Option<bool>,
    /// Triple sampling.
    pub triple_sampling: Option<bool>,
    /// Automatic restart delay after bus-off in ms; 0 turns it off.
    pub restart_ms: Option<u32>,
    /// Bus termination in ohms (drivers accept only their fixed values, often 0 and 120).
    pub termination: Option<u16>,
    /// The controller clock (Hz) that segment timings were computed for; the
    /// apply refuses them on a controller with another clock, where the
    /// kernel would derive another prescaler and so another bit rate.
    pub timing_clock: Option<u32>,
    /// Leave the link down afterwards instead of bringing it up.
    pub leave_down: bool,
}

/// One netlink request of an apply, in the order they are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Checking that the interface has a CAN controller.
    Inspect,
    /// Setting IFF_UP off.
    BringDown,
    /// IFLA_CAN_BITTIMING and DATA_BITTIMING, with the FD mode bit (the kernel
    /// wants all three in one message when FD goes on).
    Timing,
    /// IFLA_CAN_CTRLMODE for the modes other than FD.
    ControlModes,
    /// IFLA_CAN_RESTART_MS.
    RestartMs,
    /// IFLA_CAN_TERMINATION.
    Termination,
    /// Setting IFF_UP on.
    BringUp,
    /// IFLA_CAN_RESTART: a manual restart after bus-off (not part of a plan).
    Restart,
}

impl Step {
    /// The step in words, naming the options it carries.
    pub fn describe(&self, plan: &ControllerPlan) -> String {
        match self {
            Step::Inspect => "reading the interface".into(),
            Step::BringDown => "bringing the link down".into(),
            Step::BringUp => "bringing the link up".into(),
            Step::Restart => "restarting the controller".into(),
            Step::Timing => format!("setting {}", timing_options(plan).join(", ")),
            Step::ControlModes => format!("setting {}", mode_options(plan).join(", ")),
            Step::RestartMs => format!("setting restartMs {}", plan.restart_ms.unwrap_or(0)),
            Step::Termination => {
                format!("setting termination {}", plan.termination.unwrap_or(0))
            }
        }
    }
}

fn phase_options(prefix: &str, timing: &PhaseTiming) -> Vec<String> {
    let name = |field: &str| {
        if prefix.is_empty() {
            field.to_string()
        } else {
            let mut chars = field.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            format!("{prefix}{}{}", first.unwrap_or_default(), chars.as_str())
        }
    };
    match *timing {
        PhaseTiming::Bitrate {
            bitrate,
            sample_point,
        } => {
            let mut out = vec![format!("{} {bitrate}", name("bitrate"))];
            if let Some(point) = sample_point {
                out.push(format!("{} {}", name("samplePoint"), permille_text(point)));
            }
            out
        }
        PhaseTiming::Segments {
            tq,
            prop_seg,
            phase_seg1,
            phase_seg2,
            sjw,
        } => vec![format!(
            "{} (tq {tq} ns, prop-seg {prop_seg}, phase-seg1 {phase_seg1}, phase-seg2 {phase_seg2}, sjw {sjw})",
            if prefix.is_empty() {
                "timing"
            } else {
                "timing data phase"
            }
        )],
    }
}

/// 875 → "0.875", as `ip -details` prints a sample point.
pub fn permille_text(point: u32) -> String {
    format!("{}.{:03}", point / 1000, point % 1000)
}

fn timing_options(plan: &ControllerPlan) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = &plan.nominal {
        out.extend(phase_options("", t));
    }
    if let Some(t) = &plan.data {
        out.extend(phase_options("data", t));
    }
    if let Some(fd) = plan.fd {
        out.push(format!("fd {fd}"));
    }
    out
}

fn mode_options(plan: &ControllerPlan) -> Vec<String> {
    [
        ("listenOnly", plan.listen_only),
        ("loopback", plan.loopback),
        ("oneShot", plan.one_shot),
        ("tripleSampling", plan.triple_sampling),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|on| format!("{name} {on}")))
    .collect()
}

fn check_phase(prefix: &str, timing: &PhaseTiming, max_bitrate: u32) -> Result<()> {
    let bitrate_name = if prefix.is_empty() {
        "bitrate"
    } else {
        "dataBitrate"
    };
    let point_name = if prefix.is_empty() {
        "samplePoint"
    } else {
        "dataSamplePoint"
    };
    match *timing {
        PhaseTiming::Bitrate {
            bitrate,
            sample_point,
        } => {
            if bitrate == 0 || bitrate > max_bitrate {
                return Err(CanwireError::invalid_argument(format!(
                    "{bitrate_name} must be 1..{max_bitrate} bit/s, got {bitrate}"
                )));
            }
            if let Some(point) = sample_point
                && (point == 0 || point >= 1000)
            {
                return Err(CanwireError::invalid_argument(format!(
                    "{point_name} must be above 0 and below 1 (0.875 is 87.5 %), got {}",
                    permille_text(point)
                )));
            }
        }
        PhaseTiming::Segments {
            tq,
            prop_seg,
            phase_seg1,
            phase_seg2,
            sjw,
        } => {
            let what = if prefix.is_empty() {
                "timing"
            } else {
                "timing (data phase)"
            };
            if tq == 0 || phase_seg2 == 0 || sjw == 0 || prop_seg + phase_seg1 == 0 {
                return Err(CanwireError::invalid_argument(format!(
                    "{what} needs tq, phase-seg2, sjw and prop-seg + phase-seg1 above 0, got tq {tq} ns, prop-seg {prop_seg}, phase-seg1 {phase_seg1}, phase-seg2 {phase_seg2}, sjw {sjw}"
                )));
            }
            if sjw > phase_seg2 {
                return Err(CanwireError::invalid_argument(format!(
                    "{what}: sjw ({sjw}) must not exceed phase-seg2 ({phase_seg2})"
                )));
            }
        }
    }
    Ok(())
}

impl ControllerPlan {
    /// Checks the plan and resolves what it implies (a data phase switches
    /// FD mode on), before any request reaches the kernel.
    pub fn validated(mut self) -> Result<Self> {
        if let Some(t) = &self.nominal {
            check_phase("", t, MAX_NOMINAL_BITRATE)?;
        }
        if let Some(t) = &self.data {
            check_phase("data", t, MAX_DATA_BITRATE)?;
            match self.fd {
                Some(false) => {
                    return Err(CanwireError::invalid_argument(
                        "a data phase (dataBitrate or an FD timing) needs the controller's FD mode, but fd is false",
                    ));
                }
                _ => self.fd = Some(true),
            }
        }
        if self.fd == Some(true) && (self.nominal.is_none() || self.data.is_none()) {
            return Err(CanwireError::invalid_argument(
                "switching the controller's FD mode on needs both phases: bitrate (or timing) and dataBitrate (or an FD timing), as the kernel requires them in the same request",
            ));
        }
        let configures =
            |step: &Step| !matches!(step, Step::Inspect | Step::BringDown | Step::BringUp);
        if !self.steps().iter().any(configures) {
            return Err(CanwireError::invalid_argument(
                "the controller plan sets nothing: give bitrate, samplePoint, dataBitrate, dataSamplePoint, timing, fd, listenOnly, loopback, oneShot, tripleSampling, restartMs or termination",
            ));
        }
        Ok(self)
    }

    /// The requests that apply this plan, in order (with the link down and
    /// up around them; [`Step::BringDown`] is skipped when the link is already down).
    pub fn steps(&self) -> Vec<Step> {
        let mut steps = vec![Step::Inspect, Step::BringDown];
        if self.nominal.is_some() || self.data.is_some() || self.fd.is_some() {
            steps.push(Step::Timing);
        }
        if !mode_options(self).is_empty() {
            steps.push(Step::ControlModes);
        }
        if self.restart_ms.is_some() {
            steps.push(Step::RestartMs);
        }
        if self.termination.is_some() {
            steps.push(Step::Termination);
        }
        if !self.leave_down {
            steps.push(Step::BringUp);
        }
        steps
    }

    /// `(mask, flags)` of IFLA_CAN_CTRLMODE for the step, or `None` if it sets no mode.
    pub fn ctrl_mode_bits(&self, step: &Step) -> Option<(u32, u32)> {
        let modes: &[(u32, Option<bool>)] = match step {
            Step::Timing => &[(CTRLMODE_FD, self.fd)],
            Step::ControlModes => &[
                (CTRLMODE_LOOPBACK, self.loopback),
                (CTRLMODE_LISTENONLY, self.listen_only),
                (CTRLMODE_3_SAMPLES, self.triple_sampling),
                (CTRLMODE_ONE_SHOT, self.one_shot),
            ],
            _ => &[],
        };
        let (mut mask, mut flags) = (0, 0);
        for &(bit, value) in modes {
            if let Some(on) = value {
                mask |= bit;
                if on {
                    flags |= bit;
                }
            }
        }
        (mask != 0).then_some((mask, flags))
    }
}

/// `CAN_CTRLMODE_LOOPBACK` (linux/can/netlink.h).
pub const CTRLMODE_LOOPBACK: u32 = 0x01;
/// `CAN_CTRLMODE_LISTENONLY`.
pub const CTRLMODE_LISTENONLY: u32 = 0x02;
/// `CAN_CTRLMODE_3_SAMPLES`.
pub const CTRLMODE_3_SAMPLES: u32 = 0x04;
/// `CAN_CTRLMODE_ONE_SHOT`.
pub const CTRLMODE_ONE_SHOT: u32 = 0x08;
/// `CAN_CTRLMODE_FD`.
pub const CTRLMODE_FD: u32 = 0x20;

/// The error for `errno` from `step` on interface `name`, with the kernel's
/// own text when it gave one. `left_down` says the apply had brought the
/// link down and leaves it so.
#[cfg(target_os = "linux")]
pub fn step_error(
    name: &str,
    plan: &ControllerPlan,
    step: &Step,
    refusal: (i32, Option<&str>),
    left_down: bool,
) -> CanwireError {
    let (errno, kernel) = refusal;
    let what = step.describe(plan);
    let errno_text = match kernel {
        Some(text) => format!(
            "{} (\"{text}\")",
            errno_name(errno).unwrap_or("an unknown errno")
        ),
        None => errno_name(errno).unwrap_or("an unknown errno").to_string(),
    };
    let after = if left_down {
        format!("; {name} was brought down for this and is left down")
    } else {
        String::new()
    };
    let (code, message) = match errno {
        libc::EPERM | libc::EACCES => (
            ErrorCode::PermissionDenied,
            format!(
                "{what} on {name} failed with {errno_text}: configuring a CAN controller needs CAP_NET_ADMIN (run as root, or grant the capability){after}"
            ),
        ),
        libc::EOPNOTSUPP => (
            ErrorCode::Unsupported,
            format!(
                "{what} on {name} failed with {errno_text}: the driver does not support it{after}"
            ),
        ),
        libc::EINVAL | libc::EBUSY if *step == Step::Restart => (
            ErrorCode::InvalidArgument,
            format!(
                "{what} on {name} failed with {errno_text}: a manual restart needs the link up, restartMs 0 and the controller bus-off"
            ),
        ),
        libc::EINVAL | libc::ERANGE => (
            ErrorCode::InvalidArgument,
            format!(
                "{what} on {name} failed with {errno_text}: the kernel rejected the value for this controller (fixed-rate drivers such as slcan accept only their own bit rates){after}"
            ),
        ),
        libc::ENODEV => (
            ErrorCode::UnknownInterface,
            format!("{what} on {name} failed with {errno_text}: the interface is gone"),
        ),
        _ => (
            ErrorCode::Os,
            format!(
                "{what} on {name} failed with {errno_text} ({}){after}",
                std::io::Error::from_raw_os_error(errno)
            ),
        ),
    };
    CanwireError::new(code, message).with_errno(errno_name(errno))
}

/// Checks segment timings against the controller's clock (`None` or 0: the driver does not say).
pub fn check_clock(name: &str, plan: &ControllerPlan, clock: Option<u32>) -> Result<()> {
    match (plan.timing_clock, clock) {
        (Some(wanted), Some(actual)) if actual != 0 && wanted != actual => {
            Err(CanwireError::invalid_argument(format!(
                "timing was computed for fClock {wanted} Hz but the controller of {name} runs at {actual} Hz; use timing.recreateWithFClock({actual})"
            )))
        }
        _ => Ok(()),
    }
}

/// The error for an interface without a CAN controller (vcan, vxcan).
pub fn no_controller(name: &str) -> CanwireError {
    CanwireError::new(
        ErrorCode::Unsupported,
        format!(
            "{name} has no CAN controller (a virtual interface such as vcan or vxcan): bit rate, sample point, control modes, restartMs and termination apply only to CAN hardware (link kind \"can\")"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitrate(bitrate: u32) -> Option<PhaseTiming> {
        Some(PhaseTiming::Bitrate {
            bitrate,
            sample_point: None,
        })
    }

    #[test]
    fn a_data_phase_switches_fd_on() {
        let plan = ControllerPlan {
            nominal: bitrate(500_000),
            data: bitrate(2_000_000),
            ..Default::default()
        }
        .validated()
        .unwrap();
        assert_eq!(plan.fd, Some(true));
        assert_eq!(plan.ctrl_mode_bits(&Step::Timing), Some((0x20, 0x20)));
        assert_eq!(plan.ctrl_mode_bits(&Step::ControlModes), None);
    }

    #[test]
    fn fd_on_without_both_phases_is_refused() {
        let err = ControllerPlan {
            nominal: bitrate(500_000),
            fd: Some(true),
            ..Default::default()
        }
        .validated()
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("dataBitrate"), "{}", err.message);
    }

    #[test]
    fn a_data_phase_with_fd_off_is_refused() {
        let err = ControllerPlan {
            nominal: bitrate(500_000),
            data: bitrate(2_000_000),
            fd: Some(false),
            ..Default::default()
        }
        .validated()
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("fd is false"), "{}", err.message);
    }

    #[test]
    fn values_out_of_range_name_the_option() {
        let cases = [
            (bitrate(0), None, "bitrate must be 1..1000000 bit/s, got 0"),
            (
                bitrate(1_000_001),
                None,
                "bitrate must be 1..1000000 bit/s, got 1000001",
            ),
            (
                Some(PhaseTiming::Bitrate {
                    bitrate: 500_000,
                    sample_point: Some(1000),
                }),
                None,
                "samplePoint must be above 0 and below 1 (0.875 is 87.5 %), got 1.000",
            ),
            (
                bitrate(500_000),
                Some(PhaseTiming::Bitrate {
                    bitrate: 2_000_000,
                    sample_point: Some(0),
                }),
                "dataSamplePoint must be above 0 and below 1 (0.875 is 87.5 %), got 0.000",
            ),
        ];
        for (nominal, data, message) in cases {
            let err = ControllerPlan {
                nominal,
                data,
                ..Default::default()
            }
            .validated()
            .unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument);
            assert_eq!(err.message, message);
        }
    }

    #[test]
    fn segments_need_a_quantum_and_a_short_sjw() {
        let segments = |sjw| {
            Some(PhaseTiming::Segments {
                tq: 125,
                prop_seg: 6,
                phase_seg1: 7,
                phase_seg2: 2,
                sjw,
            })
        };
        let ok = ControllerPlan {
            nominal: segments(1),
            ..Default::default()
        };
        assert!(ok.validated().is_ok());
        let err = ControllerPlan {
            nominal: segments(3),
            ..Default::default()
        }
        .validated()
        .unwrap_err();
        assert_eq!(
            err.message,
            "timing: sjw (3) must not exceed phase-seg2 (2)"
        );
    }

    #[test]
    fn an_empty_plan_is_refused() {
        let err = ControllerPlan::default().validated().unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
    }

    #[test]
    fn steps_follow_the_options() {
        let plan = ControllerPlan {
            listen_only: Some(true),
            one_shot: Some(false),
            restart_ms: Some(100),
            ..Default::default()
        };
        assert_eq!(
            plan.steps(),
            [
                Step::Inspect,
                Step::BringDown,
                Step::ControlModes,
                Step::RestartMs,
                Step::BringUp
            ]
        );
        assert_eq!(plan.ctrl_mode_bits(&Step::ControlModes), Some((0x0a, 0x02)));
        let down = ControllerPlan {
            termination: Some(120),
            leave_down: true,
            ..Default::default()
        };
        assert_eq!(
            down.steps(),
            [Step::Inspect, Step::BringDown, Step::Termination]
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn errnos_map_to_codes_and_name_the_step() {
        let plan = ControllerPlan {
            nominal: Some(PhaseTiming::Bitrate {
                bitrate: 123_456,
                sample_point: Some(875),
            }),
            listen_only: Some(true),
            ..Default::default()
        };
        let err = step_error("can0", &plan, &Step::Timing, (libc::EINVAL, None), true);
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert_eq!(err.errno, Some("EINVAL"));
        assert!(
            err.message.starts_with(
                "setting bitrate 123456, samplePoint 0.875 on can0 failed with EINVAL"
            ),
            "{}",
            err.message
        );
        assert!(
            err.message
                .ends_with("can0 was brought down for this and is left down")
        );
        let err = step_error(
            "can0",
            &plan,
            &Step::ControlModes,
            (libc::EOPNOTSUPP, None),
            false,
        );
        assert_eq!(err.code, ErrorCode::Unsupported);
        assert!(
            err.message
                .starts_with("setting listenOnly true on can0 failed with EOPNOTSUPP")
        );
        let err = step_error("can0", &plan, &Step::BringDown, (libc::EPERM, None), false);
        assert_eq!(err.code, ErrorCode::PermissionDenied);
        assert!(err.message.contains("CAP_NET_ADMIN"));
        assert_eq!(
            step_error("can0", &plan, &Step::BringUp, (libc::ENODEV, None), false).code,
            ErrorCode::UnknownInterface
        );
        assert_eq!(
            step_error("can0", &plan, &Step::BringUp, (libc::EBUSY, None), false).code,
            ErrorCode::Os
        );
        let err = step_error("can0", &plan, &Step::Restart, (libc::EBUSY, None), false);
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("bus-off"), "{}", err.message);
        let err = step_error(
            "can0",
            &plan,
            &Step::RestartMs,
            (
                libc::EOPNOTSUPP,
                Some("Device doesn't support restart from Bus Off"),
            ),
            false,
        );
        assert!(
            err.message.starts_with(
                "setting restartMs 0 on can0 failed with EOPNOTSUPP (\"Device doesn't support restart from Bus Off\")"
            ),
            "{}",
            err.message
        );
        assert_eq!(err.code, ErrorCode::Unsupported);
    }

    #[test]
    fn segment_timings_must_match_the_controller_clock() {
        let plan = ControllerPlan {
            timing_clock: Some(80_000_000),
            ..Default::default()
        };
        assert!(check_clock("can0", &plan, Some(80_000_000)).is_ok());
        assert!(check_clock("can0", &plan, Some(0)).is_ok());
        assert!(check_clock("can0", &ControllerPlan::default(), Some(8_000_000)).is_ok());
        let err = check_clock("can0", &plan, Some(40_000_000)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert_eq!(
            err.message,
            "timing was computed for fClock 80000000 Hz but the controller of can0 runs at 40000000 Hz; use timing.recreateWithFClock(40000000)"
        );
    }

    #[test]
    fn data_phase_options_are_named_as_in_js() {
        let plan = ControllerPlan {
            nominal: bitrate(500_000),
            data: Some(PhaseTiming::Bitrate {
                bitrate: 2_000_000,
                sample_point: Some(750),
            }),
            ..Default::default()
        }
        .validated()
        .unwrap();
        assert_eq!(
            Step::Timing.describe(&plan),
            "setting bitrate 500000, dataBitrate 2000000, dataSamplePoint 0.750, fd true"
        );
    }
}
