//! From canwire's ISO-TP address and parameters to the kernel sockets that
//! implement them: ids to bind, and the value of every socket option.
//!
//! Pure: no socket is touched, so every mapping rule is unit-tested.
//!
//! | parameter | kernel |
//! |---|---|
//! | `stmin`, `blocksize`, `wftmax` | `CAN_ISOTP_RECV_FC` (`wftmax` ≤ 255 is stored; the kernel never sends WAIT frames and accepts any number of them, each restarting its 1 s N_Bs) |
//! | `tx_data_length`, `can_fd`, `bitrate_switch` | `CAN_ISOTP_LL_OPTS` (mtu 72 with `can_fd`, `tx_dl`, `tx_flags` = BRS) |
//! | `tx_padding` | `CAN_ISOTP_TX_PADDING` and `txpad_content` |
//! | `tx_data_min_length` | 8 is `CAN_ISOTP_TX_PADDING` (0xCC unless `tx_padding`); below 8 only with `tx_padding` (frames are padded to 8 anyway); others unsupported |
//! | `override_receiver_stmin` | `CAN_ISOTP_FORCE_TXSTMIN` and `CAN_ISOTP_TX_STMIN` (ns, < 4.3 s) |
//! | `rx_flowcontrol_timeout`, `rx_consecutive_frame_timeout` | fixed at 1000 ms in the kernel: other values are unsupported |
//! | `max_frame_size` | checked after reception (larger payloads are dropped and reported as `ERR_ISOTP_FRAME_TOO_LONG`; the kernel's own limit answers with an OVERFLOW flow control) |
//! | `default_target_address_type` | chooses the socket of a send (functional: an `SF_BROADCAST` socket) |
//! | `rate_limit_*` | the kernel has no rate limiter: `rate_limit_enable` is unsupported |
//! | `listen_mode` | `CAN_ISOTP_LISTEN_MODE` |
//! | `blocking_send` | every write uses `CAN_ISOTP_WAIT_TX_DONE` on the sending thread, so each transfer's outcome is known |
//!
//! Always set: `CAN_ISOTP_WAIT_TX_DONE`, `CAN_ISOTP_DYN_FC_PARMS` (BS and
//! STmin from every flow control frame, as the userspace stack does), and
//! `frame_txtime` from [`KernelIsoTpOptions`] (0 unless given).

use canwire_core::error::Result;
use canwire_core::isotp::{IsoTpAddress, IsoTpParams, LinkAddress};
use canwire_core::{CanwireError, ErrorCode};

use super::uapi::{
    DEFAULT_PAD_CONTENT, DYN_FC_PARMS, EXTEND_ADDR, FORCE_RXSTMIN, FORCE_TXSTMIN,
    FRAME_TXTIME_ZERO, FlowControlOptions, HALF_DUPLEX, IsoTpOptions, KERNEL_TIMEOUT_NS,
    LISTEN_MODE, LinkLayerOptions, RX_EXT_ADDR, RX_PADDING, SF_BROADCAST, TX_PADDING, WAIT_TX_DONE,
};
use crate::isotp::KernelIsoTpOptions;
use crate::socketcan::sys::{CAN_EFF_FLAG, CAN_MTU, CANFD_BRS, CANFD_MTU};

/// One kernel socket: what to bind and every option to set before binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketPlan {
    /// `can_addr.tp.rx_id`, with `CAN_EFF_FLAG` for 29-bit ids.
    pub rx_id: u32,
    /// `can_addr.tp.tx_id`, with `CAN_EFF_FLAG` for 29-bit ids.
    pub tx_id: u32,
    /// `CAN_ISOTP_OPTS`.
    pub options: IsoTpOptions,
    /// `CAN_ISOTP_RECV_FC`.
    pub flow_control: FlowControlOptions,
    /// `CAN_ISOTP_TX_STMIN` in ns, when forced.
    pub tx_stmin_ns: Option<u32>,
    /// `CAN_ISOTP_RX_STMIN` in ns, when forced.
    pub rx_stmin_ns: Option<u32>,
    /// `CAN_ISOTP_LL_OPTS`.
    pub link_layer: LinkLayerOptions,
}

/// The sockets of one kernel ISO-TP stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelPlan {
    /// Physical transfers both ways.
    pub physical: SocketPlan,
    /// Functional single frames out (`SF_BROADCAST` on the functional tx id).
    pub functional_tx: SocketPlan,
    /// Functional frames in, where their id differs from the physical one
    /// (NormalFixed and Mixed 29-bit): a listen-mode socket on that id.
    pub functional_rx: Option<SocketPlan>,
    /// Received payloads above this are dropped and reported.
    pub max_frame_size: u32,
}

fn unsupported(message: String) -> CanwireError {
    CanwireError::new(ErrorCode::Unsupported, message)
}

fn kernel_id(id: u32, link: &LinkAddress) -> u32 {
    if link.extended { id | CAN_EFF_FLAG } else { id }
}

fn ns_u32(name: &str, ns: u64) -> Result<u32> {
    u32::try_from(ns)
        .ok()
        .filter(|v| *v != u32::MAX)
        .ok_or_else(|| {
            CanwireError::invalid_argument(format!(
                "{name} is {ns} ns: the kernel socket takes at most {} ns",
                u32::MAX - 1
            ))
        })
}

fn check_params(params: &IsoTpParams) -> Result<()> {
    for (name, value) in [
        ("rx_flowcontrol_timeout", params.rx_flowcontrol_timeout_ns),
        (
            "rx_consecutive_frame_timeout",
            params.rx_consecutive_frame_timeout_ns,
        ),
    ] {
        if value != KERNEL_TIMEOUT_NS {
            return Err(unsupported(format!(
                "{name} is {} ms, but the kernel's can-isotp waits a fixed 1000 ms: \
                 leave it at 1000 or use stack: 'userspace'",
                value as f64 / 1e6
            )));
        }
    }
    if params.rate_limit_enable {
        return Err(unsupported(
            "the kernel's can-isotp has no rate limiter: drop rate_limit_enable or use stack: 'userspace'"
                .into(),
        ));
    }
    if let Some(min) = params.tx_data_min_length {
        let padded_to_eight = params.tx_padding.is_some() && min <= 8;
        if min != 8 && !padded_to_eight {
            return Err(unsupported(format!(
                "tx_data_min_length {min}: the kernel socket pads frames to 8 bytes or not at all; \
                 use 8 (or set tx_padding, which pads to 8) or use stack: 'userspace'"
            )));
        }
    }
    if params.wftmax > u8::MAX as u32 {
        return Err(CanwireError::invalid_argument(format!(
            "wftmax {} does not fit the kernel socket's byte: allowed 0..=255",
            params.wftmax
        )));
    }
    Ok(())
}

/// The options shared by every socket of the stack.
fn base_plan(
    tx: &LinkAddress,
    rx: &LinkAddress,
    params: &IsoTpParams,
    options: &KernelIsoTpOptions,
) -> Result<SocketPlan> {
    let mut flags = WAIT_TX_DONE | DYN_FC_PARMS;
    let mut opts = IsoTpOptions {
        frame_txtime: match options.frame_txtime_ns {
            None | Some(0) => FRAME_TXTIME_ZERO,
            Some(ns) => ns_u32("frame_txtime", ns as u64)?,
        },
        txpad_content: params.tx_padding.unwrap_or(DEFAULT_PAD_CONTENT),
        rxpad_content: options.rx_padding.unwrap_or(DEFAULT_PAD_CONTENT),
        ..IsoTpOptions::default()
    };
    if params.tx_padding.is_some() || params.tx_data_min_length.is_some() {
        flags |= TX_PADDING;
    }
    if options.rx_padding.is_some() {
        flags |= RX_PADDING;
    }
    if options.check_rx_padding_length {
        flags |= super::uapi::CHK_PAD_LEN;
    }
    if options.check_rx_padding_data {
        if options.rx_padding.is_none() {
            return Err(CanwireError::invalid_argument(
                "checkRxPaddingData needs rxPadding (the byte to expect)",
            ));
        }
        flags |= super::uapi::CHK_PAD_DATA;
    }
    if options.half_duplex {
        flags |= HALF_DUPLEX;
    }
    if params.listen_mode {
        flags |= LISTEN_MODE;
    }
    match (tx.prefix, rx.prefix) {
        (None, None) => {}
        (Some(tx_byte), Some(rx_byte)) => {
            flags |= EXTEND_ADDR | RX_EXT_ADDR;
            opts.ext_address = tx_byte;
            opts.rx_ext_address = rx_byte;
        }
        _ => {
            return Err(unsupported(
                "the kernel socket needs an address byte both ways or neither (extended and mixed \
                 modes on one side only are for stack: 'userspace')"
                    .into(),
            ));
        }
    }
    let tx_stmin_ns = match params.override_receiver_stmin_ns {
        Some(ns) => {
            flags |= FORCE_TXSTMIN;
            Some(ns_u32("override_receiver_stmin", ns)?)
        }
        None => None,
    };
    let rx_stmin_ns = options
        .force_rx_stmin_ns
        .inspect(|_| flags |= FORCE_RXSTMIN);
    opts.flags = flags;
    Ok(SocketPlan {
        rx_id: kernel_id(rx.physical_id, rx),
        tx_id: kernel_id(tx.physical_id, tx),
        options: opts,
        flow_control: FlowControlOptions {
            bs: params.blocksize,
            stmin: params.stmin,
            wftmax: params.wftmax as u8,
        },
        tx_stmin_ns,
        rx_stmin_ns,
        link_layer: LinkLayerOptions {
            mtu: if params.can_fd { CANFD_MTU } else { CAN_MTU } as u8,
            tx_dl: params.tx_data_length,
            tx_flags: if params.bitrate_switch { CANFD_BRS } else { 0 },
        },
    })
}

/// Plans the sockets for `address` and `params`, or says why the kernel cannot do it.
pub fn plan(
    address: &IsoTpAddress,
    params: &IsoTpParams,
    options: &KernelIsoTpOptions,
) -> Result<KernelPlan> {
    params.validate()?;
    check_params(params)?;
    let (Some(tx), Some(rx)) = (address.tx(), address.rx()) else {
        return Err(unsupported(
            "the kernel socket needs both a transmit and a receive address; \
             one-way addresses are for stack: 'userspace'"
                .into(),
        ));
    };
    let physical = base_plan(tx, rx, params, options)?;
    if physical.rx_id == physical.tx_id {
        return Err(CanwireError::invalid_argument(format!(
            "the kernel socket needs different transmit and receive ids, both are {:#x}",
            tx.physical_id
        )));
    }
    let mut functional_tx = physical;
    functional_tx.tx_id = kernel_id(tx.functional_id, tx);
    functional_tx.options.flags = (physical.options.flags & !LISTEN_MODE) | SF_BROADCAST;
    let functional_rx = (rx.functional_id != rx.physical_id).then(|| {
        let mut p = physical;
        p.rx_id = kernel_id(rx.functional_id, rx);
        p.options.flags |= LISTEN_MODE;
        p
    });
    if let Some(f) = &functional_rx
        && f.rx_id == f.tx_id
    {
        return Err(CanwireError::invalid_argument(format!(
            "the functional receive id {:#x} equals the transmit id",
            rx.functional_id
        )));
    }
    Ok(KernelPlan {
        physical,
        functional_tx,
        functional_rx,
        max_frame_size: params.max_frame_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::isotp::AddressConfig;

    fn normal() -> IsoTpAddress {
        IsoTpAddress::new(AddressConfig::normal(false, 0x7E0, 0x7E8)).unwrap()
    }

    fn ok(params: IsoTpParams) -> KernelPlan {
        plan(&normal(), &params, &KernelIsoTpOptions::default()).unwrap()
    }

    fn refused(address: &IsoTpAddress, params: IsoTpParams) -> CanwireError {
        plan(address, &params, &KernelIsoTpOptions::default()).unwrap_err()
    }

    #[test]
    fn defaults_map_to_classic_frames_with_no_txtime() {
        let p = ok(IsoTpParams::default());
        assert_eq!((p.physical.rx_id, p.physical.tx_id), (0x7E8, 0x7E0));
        assert_eq!(
            p.physical.options,
            IsoTpOptions {
                flags: WAIT_TX_DONE | DYN_FC_PARMS,
                frame_txtime: FRAME_TXTIME_ZERO,
                ext_address: 0,
                txpad_content: 0xCC,
                rxpad_content: 0xCC,
                rx_ext_address: 0,
            }
        );
        assert_eq!(
            p.physical.flow_control,
            FlowControlOptions {
                bs: 8,
                stmin: 0,
                wftmax: 0
            }
        );
        assert_eq!(
            p.physical.link_layer,
            LinkLayerOptions {
                mtu: 16,
                tx_dl: 8,
                tx_flags: 0
            }
        );
        assert_eq!(
            (p.physical.tx_stmin_ns, p.physical.rx_stmin_ns),
            (None, None)
        );
        assert_eq!(p.functional_tx.tx_id, 0x7E0);
        assert_eq!(
            p.functional_tx.options.flags,
            WAIT_TX_DONE | DYN_FC_PARMS | SF_BROADCAST
        );
        assert_eq!(p.functional_rx, None);
        assert_eq!(p.max_frame_size, 4095);
    }

    #[test]
    fn every_parameter_lands_in_its_option() {
        let params = IsoTpParams {
            stmin: 0xF3,
            blocksize: 0,
            wftmax: 3,
            tx_data_length: 64,
            can_fd: true,
            bitrate_switch: true,
            tx_padding: Some(0xAA),
            override_receiver_stmin_ns: Some(2_500_000),
            listen_mode: true,
            max_frame_size: 66_000,
            ..IsoTpParams::default()
        };
        let options = KernelIsoTpOptions {
            frame_txtime_ns: Some(50_000),
            rx_padding: Some(0x55),
            check_rx_padding_length: true,
            check_rx_padding_data: true,
            half_duplex: true,
            force_rx_stmin_ns: Some(100_000),
        };
        let p = plan(&normal(), &params, &options).unwrap();
        let s = p.physical;
        assert_eq!(
            s.options.flags,
            WAIT_TX_DONE
                | DYN_FC_PARMS
                | TX_PADDING
                | RX_PADDING
                | super::super::uapi::CHK_PAD_LEN
                | super::super::uapi::CHK_PAD_DATA
                | HALF_DUPLEX
                | LISTEN_MODE
                | FORCE_TXSTMIN
                | FORCE_RXSTMIN
        );
        assert_eq!(s.options.frame_txtime, 50_000);
        assert_eq!(
            (s.options.txpad_content, s.options.rxpad_content),
            (0xAA, 0x55)
        );
        assert_eq!(
            s.flow_control,
            FlowControlOptions {
                bs: 0,
                stmin: 0xF3,
                wftmax: 3
            }
        );
        assert_eq!(
            s.link_layer,
            LinkLayerOptions {
                mtu: 72,
                tx_dl: 64,
                tx_flags: CANFD_BRS
            }
        );
        assert_eq!(
            (s.tx_stmin_ns, s.rx_stmin_ns),
            (Some(2_500_000), Some(100_000))
        );
        assert_eq!(p.max_frame_size, 66_000);
        assert_eq!(
            p.functional_tx.options.flags & (LISTEN_MODE | SF_BROADCAST),
            SF_BROADCAST,
            "the broadcast socket only sends"
        );
    }

    #[test]
    fn frame_txtime_zero_is_spelled_as_the_kernel_wants() {
        let options = KernelIsoTpOptions {
            frame_txtime_ns: Some(0),
            ..KernelIsoTpOptions::default()
        };
        let p = plan(&normal(), &IsoTpParams::default(), &options).unwrap();
        assert_eq!(p.physical.options.frame_txtime, FRAME_TXTIME_ZERO);
    }

    #[test]
    fn address_bytes_and_29_bit_ids() {
        let ext = IsoTpAddress::new(AddressConfig::extended(
            true,
            0x18DA_10F1,
            0x18DA_F110,
            0x10,
            0xF1,
        ))
        .unwrap();
        let p = plan(
            &ext,
            &IsoTpParams::default(),
            &KernelIsoTpOptions::default(),
        )
        .unwrap();
        assert_eq!(p.physical.tx_id, 0x18DA_10F1 | CAN_EFF_FLAG);
        assert_eq!(p.physical.rx_id, 0x18DA_F110 | CAN_EFF_FLAG);
        assert_eq!(
            p.physical.options.flags & (EXTEND_ADDR | RX_EXT_ADDR),
            EXTEND_ADDR | RX_EXT_ADDR
        );
        assert_eq!(
            (
                p.physical.options.ext_address,
                p.physical.options.rx_ext_address
            ),
            (0x10, 0xF1)
        );

        let mixed = IsoTpAddress::new(AddressConfig::mixed_11(0x7E0, 0x7E8, 0x99)).unwrap();
        let p = plan(
            &mixed,
            &IsoTpParams::default(),
            &KernelIsoTpOptions::default(),
        )
        .unwrap();
        assert_eq!(
            (
                p.physical.options.ext_address,
                p.physical.options.rx_ext_address
            ),
            (0x99, 0x99)
        );
    }

    #[test]
    fn normal_fixed_functional_ids_get_their_own_sockets() {
        let a = IsoTpAddress::new(AddressConfig::normal_fixed(0x10, 0xF1)).unwrap();
        let p = plan(&a, &IsoTpParams::default(), &KernelIsoTpOptions::default()).unwrap();
        assert_eq!(p.physical.tx_id, 0x18DA_10F1 | CAN_EFF_FLAG);
        assert_eq!(p.physical.rx_id, 0x18DA_F110 | CAN_EFF_FLAG);
        assert_eq!(p.functional_tx.tx_id, 0x18DB_10F1 | CAN_EFF_FLAG);
        let f = p.functional_rx.expect("a functional receive socket");
        assert_eq!(f.rx_id, 0x18DB_F110 | CAN_EFF_FLAG);
        assert_ne!(f.options.flags & LISTEN_MODE, 0, "no flow control from it");
    }

    #[test]
    fn what_the_kernel_cannot_do_is_refused_with_the_reason() {
        let a = normal();
        let e = refused(
            &a,
            IsoTpParams {
                rx_flowcontrol_timeout_ns: 500_000_000,
                ..IsoTpParams::default()
            },
        );
        assert_eq!(e.code, ErrorCode::Unsupported);
        assert!(
            e.message.contains("rx_flowcontrol_timeout is 500 ms"),
            "{}",
            e.message
        );
        let e = refused(
            &a,
            IsoTpParams {
                rx_consecutive_frame_timeout_ns: 2_000_000_000,
                ..IsoTpParams::default()
            },
        );
        assert!(
            e.message.contains("rx_consecutive_frame_timeout"),
            "{}",
            e.message
        );
        let e = refused(
            &a,
            IsoTpParams {
                rate_limit_enable: true,
                ..IsoTpParams::default()
            },
        );
        assert!(e.message.contains("no rate limiter"), "{}", e.message);
        let e = refused(
            &a,
            IsoTpParams {
                tx_data_min_length: Some(4),
                ..IsoTpParams::default()
            },
        );
        assert_eq!(e.code, ErrorCode::Unsupported);
        let e = refused(
            &a,
            IsoTpParams {
                wftmax: 256,
                ..IsoTpParams::default()
            },
        );
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        let one_way = IsoTpAddress::tx_only(AddressConfig::normal(false, 1, 2)).unwrap();
        assert_eq!(
            refused(&one_way, IsoTpParams::default()).code,
            ErrorCode::Unsupported
        );
        let same = IsoTpAddress::new(AddressConfig::normal(false, 5, 5)).unwrap();
        assert_eq!(
            refused(&same, IsoTpParams::default()).code,
            ErrorCode::InvalidArgument
        );
        let lopsided = IsoTpAddress::asymmetric(
            AddressConfig::mixed_11(0x7E0, 0x7E8, 0x99),
            AddressConfig::normal(false, 0x7E0, 0x7E8),
        )
        .unwrap();
        assert_eq!(
            refused(&lopsided, IsoTpParams::default()).code,
            ErrorCode::Unsupported
        );
    }

    #[test]
    fn min_length_eight_is_padding() {
        for (min, padding, flags_have_padding) in [
            (Some(8), None, true),
            (Some(3), Some(0x11), true),
            (None, None, false),
        ] {
            let p = ok(IsoTpParams {
                tx_data_min_length: min,
                tx_padding: padding,
                ..IsoTpParams::default()
            });
            assert_eq!(
                p.physical.options.flags & TX_PADDING != 0,
                flags_have_padding
            );
            assert_eq!(p.physical.options.txpad_content, padding.unwrap_or(0xCC));
        }
    }
}
