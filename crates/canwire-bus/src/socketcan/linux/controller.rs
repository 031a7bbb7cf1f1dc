//! A CAN controller's settings and state, read over rtnetlink (the
//! `IFLA_CAN_*` attributes `ip -details link show` prints) with the
//! socketcan crate. Interfaces without a controller (vcan) report none.

use socketcan::nl::{CanCtrlMode, CanInterface, CanState, InterfaceCanParams};

use crate::socketcan::config::ControllerInfo;
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socketcan::nl::{CanBerrCounter, CanBitTiming, CanCtrlModes};

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
            ..CanBitTiming::default()
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
