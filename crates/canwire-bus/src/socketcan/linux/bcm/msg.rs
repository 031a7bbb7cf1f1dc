//! BCM messages: a `struct bcm_msg_head` followed by `nframes` CAN frames.
//!
//! The head, the opcodes and the flags are linux/can/bcm.h's, as the libc
//! crate defines them (`libc::bcm_msg_head`, `libc::TX_SETUP`, ...): they are
//! not repeated here. The frames after the head are `struct can_frame`
//! (16 bytes) or, with `CAN_FD_FRAME` in the flags, `struct canfd_frame`
//! (72 bytes), for the whole message.

use super::super::sys::{CAN_MTU, CANFD_MTU, CanFdFrame};

pub use libc::{
    CAN_FD_FRAME, RX_ANNOUNCE_RESUME, RX_CHANGED, RX_CHECK_DLC, RX_DELETE, RX_FILTER_ID, RX_SETUP,
    RX_TIMEOUT, SETTIMER, STARTTIMER, TX_COUNTEVT, TX_DELETE, TX_EXPIRED, TX_SETUP,
};

/// Size of `struct bcm_msg_head` (56 bytes where `long` is 64-bit, 40 where it is 32-bit).
pub const HEAD_SIZE: usize = std::mem::size_of::<libc::bcm_msg_head>();

/// The fields of a BCM message head that canwire sets or reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Head {
    /// `TX_SETUP`, `RX_SETUP`, ... (requests) or `TX_EXPIRED`, `RX_TIMEOUT`, ... (events).
    pub opcode: u32,
    /// `SETTIMER`, `STARTTIMER`, `TX_COUNTEVT`, `CAN_FD_FRAME`, ...
    pub flags: u32,
    /// Frames sent at `ival1` before `ival2` applies.
    pub count: u32,
    /// First interval in µs.
    pub ival1_us: u64,
    /// Second interval in µs (RX: the throttle time).
    pub ival2_us: u64,
    /// The job's key: TX jobs are looked up by it, RX jobs filter on it.
    pub can_id: u32,
}

impl Head {
    /// The frame size this head's flags imply.
    pub fn frame_size(&self) -> usize {
        if self.flags & CAN_FD_FRAME != 0 {
            CANFD_MTU
        } else {
            CAN_MTU
        }
    }
}

fn timeval(us: u64) -> libc::bcm_timeval {
    libc::bcm_timeval {
        tv_sec: (us / 1_000_000) as libc::c_long,
        tv_usec: (us % 1_000_000) as libc::c_long,
    }
}

fn micros(tv: &libc::bcm_timeval) -> u64 {
    tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64
}

/// Encodes a request: the head, then each frame in the size the flags imply
/// (the first 16 bytes of a `CanFdFrame` are a `struct can_frame`).
pub fn encode(head: &Head, frames: &[CanFdFrame]) -> Vec<u8> {
    // SAFETY: bcm_msg_head is plain data; zero is a valid value.
    let mut raw: libc::bcm_msg_head = unsafe { std::mem::zeroed() };
    raw.opcode = head.opcode;
    raw.flags = head.flags;
    raw.count = head.count;
    raw.ival1 = timeval(head.ival1_us);
    raw.ival2 = timeval(head.ival2_us);
    raw.can_id = head.can_id;
    raw.nframes = frames.len() as u32;
    let size = head.frame_size();
    let mut out = Vec::with_capacity(HEAD_SIZE + frames.len() * size);
    // SAFETY: raw is a fully initialised repr(C) struct of HEAD_SIZE bytes (padding zeroed above).
    out.extend_from_slice(unsafe {
        std::slice::from_raw_parts((&raw const raw).cast::<u8>(), HEAD_SIZE)
    });
    for frame in frames {
        // SAFETY: CanFdFrame is repr(C) plain data of CANFD_MTU bytes; size <= CANFD_MTU.
        out.extend_from_slice(unsafe {
            std::slice::from_raw_parts((frame as *const CanFdFrame).cast::<u8>(), size)
        });
    }
    out
}

/// Decodes a message from the kernel: its head and the frames that follow
/// (as many whole frames as `bytes` holds, at most `nframes`).
pub fn decode(bytes: &[u8]) -> Option<(Head, Vec<CanFdFrame>)> {
    if bytes.len() < HEAD_SIZE {
        return None;
    }
    // SAFETY: bytes holds at least HEAD_SIZE bytes; bcm_msg_head is plain data, read unaligned.
    let raw: libc::bcm_msg_head = unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast()) };
    let head = Head {
        opcode: raw.opcode,
        flags: raw.flags,
        count: raw.count,
        ival1_us: micros(&raw.ival1),
        ival2_us: micros(&raw.ival2),
        can_id: raw.can_id,
    };
    let size = head.frame_size();
    let frames = bytes[HEAD_SIZE..]
        .chunks_exact(size)
        .take(raw.nframes as usize)
        .map(|chunk| {
            let mut frame = CanFdFrame::default();
            // SAFETY: chunk has `size` <= CANFD_MTU bytes; CanFdFrame is plain data.
            unsafe {
                std::ptr::copy_nonoverlapping(chunk.as_ptr(), (&raw mut frame).cast::<u8>(), size);
            }
            frame
        })
        .collect();
    Some((head, frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_layout_is_the_kernels() {
        // opcode, flags, count (3 x u32), then two timevals aligned to `long`,
        // can_id and nframes: 56 bytes on 64-bit Linux, 40 on 32-bit.
        let long = std::mem::size_of::<libc::c_long>();
        let ival1_at = (12usize).next_multiple_of(long);
        assert_eq!(HEAD_SIZE, ival1_at + 4 * long + 8);
        let bytes = encode(
            &Head {
                opcode: TX_SETUP,
                flags: SETTIMER | STARTTIMER,
                count: 3,
                ival1_us: 1_500_000,
                ival2_us: 250,
                can_id: 0x42,
            },
            &[],
        );
        assert_eq!(bytes.len(), HEAD_SIZE);
        let u32_at = |o: usize| u32::from_ne_bytes(bytes[o..o + 4].try_into().unwrap());
        let long_at = |o: usize| {
            let mut b = [0u8; 8];
            b[..long].copy_from_slice(&bytes[o..o + long]);
            u64::from_ne_bytes(b)
        };
        assert_eq!((u32_at(0), u32_at(4), u32_at(8)), (1, 3, 3));
        assert_eq!(long_at(ival1_at), 1, "ival1.tv_sec");
        assert_eq!(long_at(ival1_at + long), 500_000, "ival1.tv_usec");
        assert_eq!(long_at(ival1_at + 2 * long), 0, "ival2.tv_sec");
        assert_eq!(long_at(ival1_at + 3 * long), 250, "ival2.tv_usec");
        assert_eq!(u32_at(ival1_at + 4 * long), 0x42, "can_id");
        assert_eq!(u32_at(ival1_at + 4 * long + 4), 0, "nframes");
    }

    #[test]
    fn frames_follow_the_head_in_the_flagged_size() {
        let mut a = CanFdFrame {
            can_id: 0x123,
            len: 2,
            ..CanFdFrame::default()
        };
        a.data[..2].copy_from_slice(&[0xAB, 0xCD]);
        let head = Head {
            opcode: TX_SETUP,
            can_id: 7,
            ..Head::default()
        };
        let classic = encode(&head, &[a, a]);
        assert_eq!(classic.len(), HEAD_SIZE + 2 * CAN_MTU);
        assert_eq!(&classic[HEAD_SIZE..HEAD_SIZE + 4], &0x123u32.to_ne_bytes());
        assert_eq!(classic[HEAD_SIZE + 4], 2);
        assert_eq!(&classic[HEAD_SIZE + 8..HEAD_SIZE + 10], &[0xAB, 0xCD]);
        let fd_head = Head {
            flags: CAN_FD_FRAME,
            ..head
        };
        let fd = encode(&fd_head, &[a]);
        assert_eq!(fd.len(), HEAD_SIZE + CANFD_MTU);
        let (back, frames) = decode(&fd).unwrap();
        assert_eq!(back, fd_head);
        assert_eq!(frames.len(), 1);
        assert_eq!(
            (frames[0].can_id, frames[0].len, frames[0].data[1]),
            (0x123, 2, 0xCD)
        );
        assert!(decode(&fd[..HEAD_SIZE - 1]).is_none());
        let (_, cut) = decode(&fd[..HEAD_SIZE + 10]).unwrap();
        assert!(cut.is_empty(), "a partial frame is not decoded");
    }
}
