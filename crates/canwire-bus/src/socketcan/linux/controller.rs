//! A CAN controller's settings and state, read over rtnetlink (the
//! `IFLA_CAN_*` attributes `ip -details link show` prints) with the
//! socketcan crate. Interfaces without a controller (vcan) report none.

use socketcan::nl::{
    CanBitTiming, CanCtrlMode, CanCtrlModes, CanInterface, CanState, InterfaceCanParams,
};

use crate::socketcan::config::{ControllerInfo, SegmentsInfo};
use crate::transport::BusState;

/// What interface `index` reports; all `None` when it has no CAN controller
/// or netlink cannot be read.
pub fn controller_info(index: u32) -> ControllerInfo {
    CanInterface::open_iface(index)
        .details()
        .map(|details| from_params(&details.can))
        .unwrap_or_default()
}

/// The controller state in canwire's terms (stopped and sleeping controllers are "unknown").
pub fn bus_state(state: CanState) -> BusState {
    match state {
        CanState::ErrorActive => BusState::Active,
        CanState::ErrorWarning => BusState::Warning,
        CanState::ErrorPassive => BusState::Passive,
        CanState::BusOff => BusState::BusOff,
        CanState::Stopped | CanState::Sleeping => BusState::Unknown,
    }
}

fn from_params(can: &InterfaceCanParams) -> ControllerInfo {
    ControllerInfo {
        bitrate: can.bit_timing.map(|t| t.bitrate),
        // drivers with fixed bit rates (slcan) leave it 0: unknown
        sample_point: can
            .bit_timing
            .map(|t| t.sample_point)
            .filter(|&point| point != 0),
        data_bitrate: can
            .data_bit_timing
            .map(|t| t.bitrate)
            .filter(|&rate| rate != 0),
        fd_mode: can.ctrl_mode.map(|m| m.has_mode(CanCtrlMode::Fd)),
        state: can.state.map(bus_state),
        restart_ms: can.restart_ms,
        tx_error_counter: can.berr_counter.map(|c| c.txerr),
        rx_error_counter: can.berr_counter.map(|c| c.rxerr),
        timing: can.bit_timing.and_then(segments),
        data_sample_point: can
            .data_bit_timing
            .map(|t| t.sample_point)
            .filter(|&point| point != 0),
        data_timing: can.data_bit_timing.and_then(segments),
        ctrl_modes: can.ctrl_mode.map(mode_flags),
        ctrl_modes_supported: can.ctrl_mode_supported,
        clock: can.clock.map(|c| c.freq),
        termination: can.termination,
    }
}

/// The control modes the socketcan crate names (bits 0..8 of `CAN_CTRLMODE_*`).
const MODES: [CanCtrlMode; 9] = [
    CanCtrlMode::Loopback,
    CanCtrlMode::ListenOnly,
    CanCtrlMode::TripleSampling,
    CanCtrlMode::OneShot,
    CanCtrlMode::BerrReporting,
    CanCtrlMode::Fd,
    CanCtrlMode::PresumeAck,
    CanCtrlMode::NonIso,
    CanCtrlMode::CcLen8Dlc,
];

/// The `CAN_CTRLMODE_*` bits switched on in `modes`.
pub fn mode_flags(modes: CanCtrlModes) -> u32 {
    MODES
        .iter()
        .filter(|&&mode| modes.has_mode(mode))
        .fold(0, |flags, mode| flags | mode.mask())
}

/// The segments of a timing, `None` when the driver left them 0 (fixed bit rates).
fn segments(t: CanBitTiming) -> Option<SegmentsInfo> {
    (t.tq != 0).then_some(SegmentsInfo {
        tq: t.tq,
        prop_seg: t.prop_seg,
        phase_seg1: t.phase_seg1,
        phase_seg2: t.phase_seg2,
        sjw: t.sjw,
        brp: t.brp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use socketcan::nl::CanBerrCounter;

    #[test]
    fn a_controller_without_attributes_reports_nothing() {
        assert_eq!(
            from_params(&InterfaceCanParams::default()),
            ControllerInfo::default()
        );
    }

    #[test]
    fn attributes_map_to_fields() {
        let timing = |bitrate| CanBitTiming {
            bitrate,
            sample_point: 875,
            tq: if bitrate == 500_000 { 125 } else { 0 },
            prop_seg: 6,
            phase_seg1: 7,
            phase_seg2: 2,
            sjw: 1,
            brp: 1,
        };
        let params = InterfaceCanParams {
            bit_timing: Some(timing(500_000)),
            data_bit_timing: Some(timing(2_000_000)),
            ctrl_mode: Some(CanCtrlModes::new(0x20, 0x20)),
            state: Some(CanState::ErrorPassive),
            restart_ms: Some(100),
            berr_counter: Some(CanBerrCounter {
                txerr: 130,
                rxerr: 7,
            }),
            ..InterfaceCanParams::default()
        };
        assert_eq!(
            from_params(&params),
            ControllerInfo {
                bitrate: Some(500_000),
                sample_point: Some(875),
                data_bitrate: Some(2_000_000),
                fd_mode: Some(true),
                state: Some(BusState::Passive),
                restart_ms: Some(100),
                tx_error_counter: Some(130),
                rx_error_counter: Some(7),
                timing: Some(SegmentsInfo {
                    tq: 125,
                    prop_seg: 6,
                    phase_seg1: 7,
                    phase_seg2: 2,
                    sjw: 1,
                    brp: 1,
                }),
                data_sample_point: Some(875),
                ctrl_modes: Some(0x20),
                ..ControllerInfo::default()
            }
        );
    }

    #[test]
    fn states() {
        assert_eq!(bus_state(CanState::ErrorActive), BusState::Active);
        assert_eq!(bus_state(CanState::ErrorWarning), BusState::Warning);
        assert_eq!(bus_state(CanState::BusOff), BusState::BusOff);
        assert_eq!(bus_state(CanState::Stopped), BusState::Unknown);
    }
}
