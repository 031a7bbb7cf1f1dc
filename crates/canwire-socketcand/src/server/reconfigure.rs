//! socketcand's bus configuration (`< BUS B … >`, `< BUS C … >` in NO_BUS)
//! on canwire: refused unless the server allows it (and never on a
//! read-only server); applied to a SocketCAN bus's controller through
//! `canwire_bus::socketcan::configure_controller`; "not supported" for a
//! bus without one. Replies are socketcand's, byte for byte:
//!
//! | case | reply |
//! |---|---|
//! | applied | `< ok >` (the connection stays in NO_BUS) |
//! | not allowed, read-only, bus not exported, fields malformed, the kernel refused | `< error configuring interface BUS > \n`, close |
//! | a bus with no controller (virtual, vcan, remote) or an option the driver lacks | `< configuration operation not supported B > \n` (or `C`), close |

use canwire_bus::socketcan::{ControllerPlan, PhaseTiming};
use canwire_core::ErrorCode;

use crate::protocol::BusChange;

/// `< error configuring interface BUS > \n`.
pub fn error_reply(bus: &str) -> Vec<u8> {
    format!("< error configuring interface {bus} > \n").into_bytes()
}

/// `< configuration operation not supported OP > \n`.
pub fn not_supported_reply(op: char) -> Vec<u8> {
    format!("< configuration operation not supported {op} > \n").into_bytes()
}

fn set(value: i64) -> Option<u32> {
    (value >= 0).then(|| u32::try_from(value).ok()).flatten()
}

/// The controller plan a command asks for; `None` when it sets nothing
/// (every field negative) or a field does not fit.
pub fn plan_of(change: &BusChange) -> Option<ControllerPlan> {
    let mut plan = ControllerPlan::default();
    match *change {
        BusChange::Timing(
            [
                bitrate,
                sample_point,
                tq,
                prop_seg,
                phase_seg1,
                phase_seg2,
                sjw,
                _brp,
            ],
        ) => {
            // the kernel derives brp from tq; socketcand's brp has no field of its own to land in
            plan.nominal = match (set(tq), set(bitrate)) {
                (Some(tq), _) if tq > 0 => Some(PhaseTiming::Segments {
                    tq,
                    prop_seg: set(prop_seg).unwrap_or(0),
                    phase_seg1: set(phase_seg1).unwrap_or(0),
                    phase_seg2: set(phase_seg2).unwrap_or(0),
                    sjw: set(sjw).unwrap_or(0),
                }),
                (_, Some(bitrate)) if bitrate > 0 => Some(PhaseTiming::Bitrate {
                    bitrate,
                    sample_point: set(sample_point).filter(|&p| p > 0),
                }),
                _ => return None,
            };
        }
        BusChange::Modes([listen_only, loopback, three_samples]) => {
            plan.listen_only = Some(listen_only == 1);
            plan.loopback = Some(loopback == 1);
            plan.triple_sampling = Some(three_samples == 1);
        }
    }
    Some(plan)
}

/// The reply when applying failed with `code`: "not supported" for what has
/// no controller or what the driver lacks, otherwise the configuring error.
pub fn failure_reply(bus: &str, op: char, code: ErrorCode) -> Vec<u8> {
    match code {
        ErrorCode::Unsupported => not_supported_reply(op),
        _ => error_reply(bus),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_socketcands() {
        assert_eq!(
            error_reply("can0"),
            b"< error configuring interface can0 > \n"
        );
        assert_eq!(
            not_supported_reply('B'),
            b"< configuration operation not supported B > \n"
        );
        assert_eq!(
            failure_reply("can0", 'C', ErrorCode::Unsupported),
            b"< configuration operation not supported C > \n"
        );
        assert_eq!(
            failure_reply("can0", 'B', ErrorCode::PermissionDenied),
            b"< error configuring interface can0 > \n"
        );
    }

    #[test]
    fn timing_fields_become_a_plan() {
        let plan = plan_of(&BusChange::Timing([500_000, 875, -1, -1, -1, -1, -1, -1])).unwrap();
        assert_eq!(
            plan.nominal,
            Some(PhaseTiming::Bitrate {
                bitrate: 500_000,
                sample_point: Some(875)
            })
        );
        let plan = plan_of(&BusChange::Timing([-1, -1, 125, 6, 7, 2, 1, 1])).unwrap();
        assert_eq!(
            plan.nominal,
            Some(PhaseTiming::Segments {
                tq: 125,
                prop_seg: 6,
                phase_seg1: 7,
                phase_seg2: 2,
                sjw: 1
            })
        );
        assert_eq!(plan_of(&BusChange::Timing([-1; 8])), None);
        assert_eq!(
            plan_of(&BusChange::Timing([1 << 40, -1, -1, -1, -1, -1, -1, -1])),
            None
        );
    }

    #[test]
    fn mode_fields_become_a_plan() {
        let plan = plan_of(&BusChange::Modes([1, 0, 0])).unwrap();
        assert_eq!(
            (plan.listen_only, plan.loopback, plan.triple_sampling),
            (Some(true), Some(false), Some(false))
        );
    }
}
