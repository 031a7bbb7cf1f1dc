//! Shared helpers for the ISO-TP tests.

use crate::frame::{Frame, FrameFlags};
use crate::isotp::{
    AddressConfig, IsoTpAddress, IsoTpEndpoint, IsoTpEvent, IsoTpParams, TargetAddressType,
};

/// One millisecond in nanoseconds.
pub const MS: u64 = 1_000_000;
/// Our transmit id in the default address.
pub const TXID: u32 = 0x7E0;
/// Our receive id in the default address.
pub const RXID: u32 = 0x7E8;

/// Normal 11-bit addressing, tx 0x7E0, rx 0x7E8.
pub fn normal_address() -> IsoTpAddress {
    IsoTpAddress::new(AddressConfig::normal(false, TXID, RXID)).unwrap()
}

/// An endpoint on the default address.
pub fn endpoint(params: IsoTpParams) -> IsoTpEndpoint {
    IsoTpEndpoint::new(normal_address(), params).unwrap()
}

/// Default parameters with a few changes applied.
pub fn params(change: impl FnOnce(&mut IsoTpParams)) -> IsoTpParams {
    let mut p = IsoTpParams::default();
    change(&mut p);
    p
}

/// A classic frame arriving on our receive id.
pub fn rx(data: &[u8]) -> Frame {
    Frame::classic(RXID, false, data)
}

/// An FD frame arriving on our receive id.
pub fn rx_fd(data: &[u8]) -> Frame {
    Frame::fd(RXID, false, data, false)
}

/// Every frame `poll_transmit` hands out at `now`.
pub fn drain(ep: &mut IsoTpEndpoint, now: u64) -> Vec<Frame> {
    std::iter::from_fn(|| ep.poll_transmit(now)).collect()
}

/// The one frame due at `now`; panics if there is not exactly one.
pub fn one(ep: &mut IsoTpEndpoint, now: u64) -> Frame {
    let frames = drain(ep, now);
    assert_eq!(
        frames.len(),
        1,
        "expected one frame at {now}, got {frames:?}"
    );
    frames[0]
}

/// Every pending event.
pub fn events(ep: &mut IsoTpEndpoint) -> Vec<IsoTpEvent> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

/// The error codes of every pending event (`""` for non-error events).
pub fn codes(ep: &mut IsoTpEndpoint) -> Vec<&'static str> {
    events(ep)
        .iter()
        .map(|e| e.error_code().map_or("", |c| c.as_str()))
        .collect()
}

/// The payloads of every pending `Received` event; panics on other events.
pub fn received(ep: &mut IsoTpEndpoint) -> Vec<Vec<u8>> {
    events(ep)
        .into_iter()
        .map(|e| match e {
            IsoTpEvent::Received { payload, .. } => payload,
            other => panic!("expected a received payload, got {other:?}"),
        })
        .collect()
}

/// Asserts a classic standard-id frame: id, DLC == len, exact data bytes.
#[track_caller]
pub fn assert_classic(frame: &Frame, id: u32, data: &[u8]) {
    assert_eq!(frame.id, id, "id of {frame:?}");
    assert_eq!(frame.flags, FrameFlags(0), "flags of {frame:?}");
    assert_eq!(frame.data(), data, "data of {frame:?}");
    assert_eq!(frame.dlc as usize, data.len(), "dlc of {frame:?}");
    assert_eq!(frame.validate(), Ok(()));
}

/// Asserts an FD frame: id, flags, data bytes, and a valid DLC.
#[track_caller]
pub fn assert_fd(frame: &Frame, id: u32, extended: bool, brs: bool, data: &[u8]) {
    let mut flags = FrameFlags(FrameFlags::FD);
    flags.set(FrameFlags::EXTENDED, extended);
    flags.set(FrameFlags::BRS, brs);
    assert_eq!(frame.id, id, "id of {frame:?}");
    assert_eq!(frame.flags, flags, "flags of {frame:?}");
    assert_eq!(frame.data(), data, "data of {frame:?}");
    assert_eq!(frame.validate(), Ok(()));
}

/// `n` payload bytes 0, 1, 2, ... (wrapping).
pub fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| i as u8).collect()
}

/// Concatenation of byte slices, for spelling out expected frames.
pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The received event with its target type; panics otherwise.
pub fn received_with_target(event: &IsoTpEvent) -> (&[u8], TargetAddressType) {
    match event {
        IsoTpEvent::Received {
            payload,
            target_address_type,
        } => (payload, *target_address_type),
        other => panic!("expected a received payload, got {other:?}"),
    }
}
