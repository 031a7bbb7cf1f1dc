//! Converting between canwire frames and kernel `can_frame`/`canfd_frame` bytes.

use canwire_core::dlc::{fd_len_to_dlc, fd_padded_len};
use canwire_core::{Frame, FrameFlags};

use super::sys::{
    CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_MTU, CAN_RTR_FLAG, CAN_SFF_MASK, CANFD_BRS,
    CANFD_ESI, CANFD_FDF, CANFD_MTU, CanFdFrame,
};

/// Fills `out` from a validated frame; returns how many bytes to write (16 or 72).
pub fn encode(frame: &Frame, out: &mut CanFdFrame) -> usize {
    let mut can_id = frame.id;
    if frame.is_extended() {
        can_id |= CAN_EFF_FLAG;
    }
    if frame.is_remote() {
        can_id |= CAN_RTR_FLAG;
    }
    if frame.is_error() {
        can_id |= CAN_ERR_FLAG;
    }
    *out = CanFdFrame {
        can_id,
        ..CanFdFrame::default()
    };
    let data = frame.data();
    out.data[..data.len()].copy_from_slice(data);
    if frame.is_fd() {
        out.len = frame.len;
        out.flags = CANFD_FDF;
        if frame.flags.has(FrameFlags::BRS) {
            out.flags |= CANFD_BRS;
        }
        if frame.flags.has(FrameFlags::ESI) {
            out.flags |= CANFD_ESI;
        }
        CANFD_MTU
    } else {
        out.len = if frame.is_remote() {
            frame.requested_len()
        } else {
            frame.len
        };
        if out.len == 8 && frame.dlc > 8 {
            out.res1 = frame.dlc; // len8_dlc
        }
        CAN_MTU
    }
}

/// Builds a frame from `nbytes` read into `raw` (16: classic, 72: FD); `None` for other sizes.
pub fn decode(raw: &CanFdFrame, nbytes: usize, timestamp_ns: u64, channel: u32) -> Option<Frame> {
    let mut frame = Frame {
        timestamp_ns,
        channel,
        ..Frame::default()
    };
    let can_id = raw.can_id;
    let extended = can_id & CAN_EFF_FLAG != 0;
    let error = can_id & CAN_ERR_FLAG != 0;
    frame.id = if extended || error {
        can_id & CAN_EFF_MASK
    } else {
        can_id & CAN_SFF_MASK
    };
    frame.flags.set(FrameFlags::EXTENDED, extended && !error);
    frame.flags.set(FrameFlags::ERROR, error);
    match nbytes {
        CANFD_MTU => {
            let len = raw.len.min(64);
            frame.flags.set(FrameFlags::FD, true);
            frame.flags.set(FrameFlags::BRS, raw.flags & CANFD_BRS != 0);
            frame.flags.set(FrameFlags::ESI, raw.flags & CANFD_ESI != 0);
            frame.flags.set(FrameFlags::FDF, raw.flags & CANFD_FDF != 0);
            // A length no DLC encodes cannot come from a conforming sender; round up as the wire would.
            let len = fd_padded_len(len).unwrap_or(64);
            frame.len = len;
            frame.dlc = fd_len_to_dlc(len).unwrap_or(15);
            frame.data[..len as usize].copy_from_slice(&raw.data[..len as usize]);
        }
        CAN_MTU => {
            let len = raw.len.min(8);
            let len8_dlc = raw.res1;
            if can_id & CAN_RTR_FLAG != 0 && !error {
                frame.flags.set(FrameFlags::REMOTE, true);
                frame.len = 0;
                frame.dlc = if len == 8 && (9..=15).contains(&len8_dlc) {
                    len8_dlc
                } else {
                    len
                };
            } else {
                frame.len = len;
                frame.dlc = if len == 8 && (9..=15).contains(&len8_dlc) {
                    len8_dlc
                } else {
                    len
                };
                frame.data[..len as usize].copy_from_slice(&raw.data[..len as usize]);
            }
        }
        _ => return None,
    }
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(frame: Frame) -> Frame {
        let mut raw = CanFdFrame::default();
        let n = encode(&frame, &mut raw);
        decode(&raw, n, frame.timestamp_ns, frame.channel).unwrap()
    }

    /// What the kernel hands back: FD frames carry the FDF mark canwire sets on send.
    fn marked(mut frame: Frame) -> Frame {
        frame.flags.set(FrameFlags::FDF, frame.is_fd());
        frame
    }

    #[test]
    fn classic_extended_remote_fd_round_trip() {
        for frame in [
            Frame::classic(0x123, false, &[1, 2, 3]),
            Frame::classic(0x1234_5678, true, &[0xFF; 8]),
            Frame::remote(0x7FF, false, 5),
            Frame::remote(0x1F, true, 0),
            Frame::fd(0x100, false, &[7; 64], true),
            Frame::fd(0x1ABC_DEF0, true, &[1; 12], false),
        ] {
            assert_eq!(round_trip(frame), marked(frame));
        }
        let mut esi = Frame::fd(0x100, false, &[1], false);
        esi.flags.set(FrameFlags::ESI, true);
        assert_eq!(round_trip(esi), marked(esi));
        let mut raw = CanFdFrame::default();
        encode(&Frame::fd(0x100, false, &[1], false), &mut raw);
        raw.flags &= !CANFD_FDF; // kernels before 6.2 leave the mark out
        let unmarked = decode(&raw, CANFD_MTU, 0, 0).unwrap();
        assert!(unmarked.is_fd() && !unmarked.flags.has(FrameFlags::FDF));
    }

    #[test]
    fn len8_dlc_survives() {
        let mut f = Frame::classic(0x10, false, &[0; 8]);
        f.dlc = 13;
        let mut raw = CanFdFrame::default();
        assert_eq!(encode(&f, &mut raw), CAN_MTU);
        assert_eq!((raw.len, raw.res1), (8, 13));
        assert_eq!(round_trip(f), f);
    }

    #[test]
    fn kernel_id_flags() {
        let mut raw = CanFdFrame::default();
        encode(&Frame::remote(0x1234, true, 2), &mut raw);
        assert_eq!(raw.can_id, 0x1234 | CAN_EFF_FLAG | CAN_RTR_FLAG);
        assert_eq!(raw.len, 2);
        assert_eq!(encode(&Frame::fd(1, false, &[], true), &mut raw), CANFD_MTU);
        assert_eq!(raw.flags, CANFD_FDF | CANFD_BRS);
    }

    #[test]
    fn error_frames_keep_class_bits_and_data() {
        let raw = CanFdFrame {
            can_id: CAN_ERR_FLAG | 0x44,
            len: 8,
            data: {
                let mut d = [0; 64];
                d[1] = 0x10;
                d
            },
            ..CanFdFrame::default()
        };
        let f = decode(&raw, CAN_MTU, 5, 2).unwrap();
        assert!(f.is_error() && !f.is_extended());
        assert_eq!((f.id, f.len, f.data[1], f.channel), (0x44, 8, 0x10, 2));
        assert!(decode(&raw, 20, 0, 0).is_none());
    }
}
