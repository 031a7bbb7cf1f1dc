//! Parameter defaults, validation messages and the STmin table.

use crate::error::ErrorCode;
use crate::isotp::{IsoTpEndpoint, IsoTpParams, TargetAddressType, stmin_to_ns};

use super::support::{MS, normal_address, params};

#[test]
fn defaults_are_python_can_isotps() {
    let p = IsoTpParams::default();
    assert_eq!(
        (p.stmin, p.blocksize, p.tx_data_length, p.tx_data_min_length),
        (0, 8, 8, None)
    );
    assert_eq!(
        (
            p.rx_flowcontrol_timeout_ns,
            p.rx_consecutive_frame_timeout_ns
        ),
        (1000 * MS, 1000 * MS)
    );
    assert_eq!((p.tx_padding, p.wftmax, p.max_frame_size), (None, 0, 4095));
    assert_eq!(
        (p.can_fd, p.bitrate_switch, p.listen_mode, p.blocking_send),
        (false, false, false, false)
    );
    assert_eq!(p.default_target_address_type, TargetAddressType::Physical);
    assert_eq!(p.override_receiver_stmin_ns, None);
    assert_eq!(
        (
            p.rate_limit_enable,
            p.rate_limit_max_bitrate,
            p.rate_limit_window_size_ns
        ),
        (false, 100_000_000, 200 * MS)
    );
    assert_eq!(p.validate(), Ok(()));
}

#[test]
fn invalid_parameters_are_rejected_with_what_is_allowed() {
    let cases: Vec<(IsoTpParams, &str)> = vec![
        (
            params(|p| p.stmin = 0x80),
            "allowed 0x00..=0x7F (milliseconds) or 0xF1..=0xF9",
        ),
        (params(|p| p.stmin = 0xFA), "stmin 0xfa is reserved"),
        (
            params(|p| p.tx_data_length = 10),
            "use one of 8, 12, 16, 20, 24, 32, 48, 64",
        ),
        (params(|p| p.tx_data_length = 64), "needs CAN FD"),
        (
            params(|p| p.bitrate_switch = true),
            "bitrate_switch needs CAN FD",
        ),
        (
            params(|p| p.tx_data_min_length = Some(0)),
            "use 1..=8, 12, 16",
        ),
        (
            params(|p| p.tx_data_min_length = Some(9)),
            "tx_data_min_length 9 is not allowed",
        ),
        (
            params(|p| p.tx_data_min_length = Some(12)),
            "exceeds tx_data_length 8",
        ),
        (
            params(|p| p.rx_flowcontrol_timeout_ns = 0),
            "rx_flowcontrol_timeout must be greater than 0",
        ),
        (
            params(|p| p.rx_consecutive_frame_timeout_ns = 0),
            "rx_consecutive_frame_timeout must be greater than 0",
        ),
        (
            params(|p| {
                p.rate_limit_enable = true;
                p.rate_limit_max_bitrate = 0;
            }),
            "rate_limit_max_bitrate must be greater than 0",
        ),
        (
            params(|p| {
                p.rate_limit_enable = true;
                p.rate_limit_window_size_ns = 0;
            }),
            "rate_limit_window_size must be greater than 0",
        ),
        (
            params(|p| {
                p.rate_limit_enable = true;
                p.rate_limit_max_bitrate = 300;
            }),
            "allows 60 bits per window, less than one frame",
        ),
    ];
    for (p, text) in cases {
        let err = p.validate().unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(
            err.message.contains(text),
            "expected {text:?} in {:?}",
            err.message
        );
        assert_eq!(IsoTpEndpoint::new(normal_address(), p).unwrap_err(), err);
    }
}

#[test]
fn valid_edge_parameters_are_accepted() {
    for stmin in (0..=0x7F).chain(0xF1..=0xF9) {
        assert_eq!(params(|p| p.stmin = stmin).validate(), Ok(()));
    }
    for dl in [8u8, 12, 16, 20, 24, 32, 48, 64] {
        let p = params(|p| {
            p.can_fd = true;
            p.bitrate_switch = true;
            p.tx_data_length = dl;
            p.tx_data_min_length = Some(dl);
        });
        assert_eq!(p.validate(), Ok(()));
    }
    // Rate limits are only checked when enabled.
    assert_eq!(params(|p| p.rate_limit_max_bitrate = 0).validate(), Ok(()));
}

#[test]
fn stmin_table() {
    assert_eq!(stmin_to_ns(0), 0);
    assert_eq!(stmin_to_ns(1), MS);
    assert_eq!(stmin_to_ns(0x7F), 127 * MS);
    assert_eq!(stmin_to_ns(0xF1), 100_000);
    assert_eq!(stmin_to_ns(0xF9), 900_000);
    for reserved in (0x80..=0xF0).chain(0xFA..=0xFF) {
        assert_eq!(stmin_to_ns(reserved), 127 * MS, "{reserved:#x}");
    }
}

#[test]
fn every_error_code_is_distinct_and_prefixed() {
    use crate::isotp::IsoTpErrorCode;
    let strs: std::collections::HashSet<&str> =
        IsoTpErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(strs.len(), IsoTpErrorCode::ALL.len());
    assert!(strs.iter().all(|s| s.starts_with("ERR_ISOTP_")));
    let doc = include_str!("../mod.rs");
    for code in &strs {
        assert!(
            doc.contains(&format!("`{code}`")),
            "{code} is missing from the module's error table"
        );
    }
}
