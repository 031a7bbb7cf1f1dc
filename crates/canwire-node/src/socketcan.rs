//! SocketCAN extras exported to JS: interface listing and error-frame decoding.

use canwire_bus::list_can_interfaces;
use canwire_bus::socketcan::SegmentsInfo;
use canwire_bus::socketcan::controller_plan::{
    CTRLMODE_3_SAMPLES, CTRLMODE_LISTENONLY, CTRLMODE_LOOPBACK, CTRLMODE_ONE_SHOT,
};
use canwire_core::error_frame::ErrorFrameInfo;
use napi_derive::napi;

use crate::error::IntoNapi;

/// One CAN network interface.
#[napi(object)]
pub struct CanInterfaceObject {
    pub name: String,
    pub index: u32,
    pub up: bool,
    pub operstate: String,
    pub mtu: u32,
    pub fd: bool,
    pub bitrate: Option<u32>,
    pub sample_point: Option<f64>,
    pub data_bitrate: Option<u32>,
    pub fd_mode: Option<bool>,
    pub controller_state: Option<String>,
    pub restart_ms: Option<u32>,
    pub tx_error_counter: Option<u32>,
    pub rx_error_counter: Option<u32>,
    pub timing: Option<SegmentsObject>,
    pub data_sample_point: Option<f64>,
    pub data_timing: Option<SegmentsObject>,
    pub listen_only: Option<bool>,
    pub loopback: Option<bool>,
    pub one_shot: Option<bool>,
    pub triple_sampling: Option<bool>,
    /// Every control mode switched on, as `CAN_CTRLMODE_*` bits.
    pub ctrl_modes: Option<u32>,
    pub ctrl_modes_supported: Option<u32>,
    pub clock: Option<u32>,
    pub termination: Option<u32>,
}

/// One phase's segments as the kernel reports them.
#[napi(object)]
pub struct SegmentsObject {
    pub tq: u32,
    pub prop_seg: u32,
    pub phase_seg1: u32,
    pub phase_seg2: u32,
    pub sjw: u32,
    pub brp: u32,
}

impl From<SegmentsInfo> for SegmentsObject {
    fn from(s: SegmentsInfo) -> Self {
        SegmentsObject {
            tq: s.tq,
            prop_seg: s.prop_seg,
            phase_seg1: s.phase_seg1,
            phase_seg2: s.phase_seg2,
            sjw: s.sjw,
            brp: s.brp,
        }
    }
}

/// The CAN interfaces of this host (empty outside Linux).
#[napi(catch_unwind)]
pub fn list_interfaces() -> napi::Result<Vec<CanInterfaceObject>> {
    Ok(list_can_interfaces()
        .into_napi()?
        .into_iter()
        .map(|i| {
            let mode = |bit: u32| i.controller.ctrl_modes.map(|m| m & bit != 0);
            CanInterfaceObject {
                fd: i.fd,
                bitrate: i.controller.bitrate,
                sample_point: i.controller.sample_point.map(|p| f64::from(p) / 1000.0),
                data_bitrate: i.controller.data_bitrate,
                fd_mode: i.controller.fd_mode,
                controller_state: i.controller.state.map(|s| s.as_str().to_string()),
                restart_ms: i.controller.restart_ms,
                tx_error_counter: i.controller.tx_error_counter.map(u32::from),
                rx_error_counter: i.controller.rx_error_counter.map(u32::from),
                timing: i.controller.timing.map(SegmentsObject::from),
                data_sample_point: i
                    .controller
                    .data_sample_point
                    .map(|p| f64::from(p) / 1000.0),
                data_timing: i.controller.data_timing.map(SegmentsObject::from),
                listen_only: mode(CTRLMODE_LISTENONLY),
                loopback: mode(CTRLMODE_LOOPBACK),
                one_shot: mode(CTRLMODE_ONE_SHOT),
                triple_sampling: mode(CTRLMODE_3_SAMPLES),
                ctrl_modes: i.controller.ctrl_modes,
                ctrl_modes_supported: i.controller.ctrl_modes_supported,
                clock: i.controller.clock,
                termination: i.controller.termination.map(u32::from),
                name: i.name,
                index: i.index,
                up: i.up,
                operstate: i.operstate,
                mtu: i.mtu,
            }
        })
        .collect())
}

/// Controller problem bits of an error frame.
#[napi(object)]
pub struct ControllerProblemsObject {
    pub rx_overflow: bool,
    pub tx_overflow: bool,
    pub rx_warning: bool,
    pub tx_warning: bool,
    pub rx_passive: bool,
    pub tx_passive: bool,
    pub active: bool,
}

/// A protocol violation of an error frame.
#[napi(object)]
pub struct ProtocolViolationObject {
    pub kinds: Vec<String>,
    pub location: String,
}

/// An error frame decoded.
#[napi(object)]
pub struct ErrorFrameInfoObject {
    pub class: u32,
    pub state: Option<String>,
    pub tx_timeout: bool,
    pub lost_arbitration_bit: Option<u32>,
    pub controller: Option<ControllerProblemsObject>,
    pub protocol: Option<ProtocolViolationObject>,
    pub transceiver: Option<String>,
    pub no_ack: bool,
    pub bus_off: bool,
    pub bus_error: bool,
    pub restarted: bool,
    pub tx_error_count: Option<u32>,
    pub rx_error_count: Option<u32>,
}

/// Decodes the class bits and data bytes of an error frame.
#[napi(catch_unwind)]
pub fn decode_error_frame(class_bits: u32, data: &[u8]) -> ErrorFrameInfoObject {
    let info = ErrorFrameInfo::decode(class_bits, data);
    ErrorFrameInfoObject {
        class: info.class,
        state: info
            .state()
            .map(|s| canwire_bus::BusState::from(s).as_str().to_string()),
        tx_timeout: info.tx_timeout,
        lost_arbitration_bit: info.lost_arbitration_bit.map(u32::from),
        controller: info.controller.map(|c| ControllerProblemsObject {
            rx_overflow: c.rx_overflow,
            tx_overflow: c.tx_overflow,
            rx_warning: c.rx_warning,
            tx_warning: c.tx_warning,
            rx_passive: c.rx_passive,
            tx_passive: c.tx_passive,
            active: c.active,
        }),
        protocol: info.protocol.map(|p| ProtocolViolationObject {
            kinds: p.kinds.iter().map(|k| k.to_string()).collect(),
            location: p.location.to_string(),
        }),
        transceiver: info.transceiver.map(str::to_string),
        no_ack: info.no_ack,
        bus_off: info.bus_off,
        bus_error: info.bus_error,
        restarted: info.restarted,
        tx_error_count: info.tx_error_count.map(u32::from),
        rx_error_count: info.rx_error_count.map(u32::from),
    }
}
