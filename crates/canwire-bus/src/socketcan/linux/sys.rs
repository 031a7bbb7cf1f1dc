//! Raw SocketCAN definitions and small libc helpers.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use canwire_core::{CanwireError, ErrorCode};

/// `CAN_MTU`: size of a classic `struct can_frame`.
pub const CAN_MTU: usize = 16;
/// `CANFD_MTU`: size of a `struct canfd_frame`.
pub const CANFD_MTU: usize = 72;
/// `ARPHRD_CAN`: the link type of CAN interfaces in /sys/class/net/*/type.
pub const ARPHRD_CAN: u32 = 280;

/// Extended frame format flag of `can_id`.
pub const CAN_EFF_FLAG: u32 = 0x8000_0000;
/// Remote transmission request flag of `can_id`.
pub const CAN_RTR_FLAG: u32 = 0x4000_0000;
/// Error frame flag of `can_id`.
pub const CAN_ERR_FLAG: u32 = 0x2000_0000;
/// Valid bits of an extended id.
pub const CAN_EFF_MASK: u32 = 0x1FFF_FFFF;
/// Valid bits of a standard id.
pub const CAN_SFF_MASK: u32 = 0x7FF;
/// Inverted filter flag in `can_filter.can_id`.
pub const CAN_INV_FILTER: u32 = 0x2000_0000;
/// `canfd_frame.flags`: bit rate switch.
pub const CANFD_BRS: u8 = 0x01;
/// `canfd_frame.flags`: error state indicator.
pub const CANFD_ESI: u8 = 0x02;
/// `canfd_frame.flags`: FD frame (set by newer kernels on received FD frames).
pub const CANFD_FDF: u8 = 0x04;

/// `struct canfd_frame`; a classic `struct can_frame` is its first 16 bytes
/// (with `flags` as `__pad` and `res1` as `len8_dlc`).
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub struct CanFdFrame {
    /// Id with EFF/RTR/ERR flags.
    pub can_id: u32,
    /// Payload length.
    pub len: u8,
    /// FD flags (classic: padding).
    pub flags: u8,
    /// Reserved.
    pub res0: u8,
    /// Reserved (classic: `len8_dlc`).
    pub res1: u8,
    /// Payload.
    pub data: [u8; 64],
}

impl Default for CanFdFrame {
    fn default() -> Self {
        Self {
            can_id: 0,
            len: 0,
            flags: 0,
            res0: 0,
            res1: 0,
            data: [0; 64],
        }
    }
}

const _: () = assert!(std::mem::size_of::<CanFdFrame>() == CANFD_MTU);

/// `struct can_filter`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelFilter {
    /// Id to compare (with flags, and `CAN_INV_FILTER` for inverted).
    pub can_id: u32,
    /// Bits taking part (with flags).
    pub can_mask: u32,
}

/// The symbolic name of an errno value, or `errno N` for one canwire does not name.
pub fn errno_name(errno: i32) -> String {
    canwire_core::error::errno_name(errno)
        .map(str::to_string)
        .unwrap_or_else(|| format!("errno {errno}"))
}

/// The calling thread's last errno.
pub fn last_errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// An `ERR_OS` error naming the call, the errno name and its description.
pub fn os_error(what: &str, errno: i32) -> CanwireError {
    CanwireError::new(
        ErrorCode::Os,
        format!(
            "{what} failed with {} ({})",
            errno_name(errno),
            io::Error::from_raw_os_error(errno)
        ),
    )
    .with_errno(canwire_core::error::errno_name(errno))
}

/// Sets an integer socket option.
pub fn set_int_option(
    fd: &OwnedFd,
    level: i32,
    name: i32,
    value: i32,
) -> std::result::Result<(), i32> {
    set_option_bytes(fd, level, name, &value.to_ne_bytes())
}

/// Reads an integer socket option.
pub fn get_int_option(fd: &OwnedFd, level: i32, name: i32) -> std::result::Result<i32, i32> {
    let mut value: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: value and len are valid for writes of the given size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&raw mut value).cast(),
            &raw mut len,
        )
    };
    if rc == 0 {
        Ok(value)
    } else {
        Err(last_errno())
    }
}

/// Sets a socket option from raw bytes.
pub fn set_option_bytes(
    fd: &OwnedFd,
    level: i32,
    name: i32,
    value: &[u8],
) -> std::result::Result<(), i32> {
    // SAFETY: the pointer and length describe `value`, which outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value.as_ptr().cast(),
            value.len() as libc::socklen_t,
        )
    };
    if rc == 0 { Ok(()) } else { Err(last_errno()) }
}

/// A non-blocking eventfd, used to wake threads blocked in `poll`.
pub fn eventfd() -> canwire_core::error::Result<OwnedFd> {
    // SAFETY: plain eventfd(2) call.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(os_error("eventfd", last_errno()));
    }
    // SAFETY: fd is a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes an eventfd readable (wakes its pollers).
pub fn signal_eventfd(fd: &OwnedFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from `one` to the eventfd.
    unsafe {
        libc::write(
            fd.as_raw_fd(),
            (&raw const one).cast(),
            std::mem::size_of::<u64>(),
        );
    }
}

/// Waits until `socket` is readable; false when `wake` became readable first
/// (a receiving thread's signal to end) or poll failed.
pub fn readable_unless_woken(socket: RawFd, wake: RawFd) -> bool {
    let mut fds = [
        libc::pollfd {
            fd: socket,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: wake,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    poll(&mut fds, -1).is_ok() && fds[1].revents == 0
}

/// Polls `fds`; returns the number ready (0 on timeout), retrying on EINTR.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> std::result::Result<usize, i32> {
    loop {
        // SAFETY: fds is a valid slice of pollfd.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if rc >= 0 {
            return Ok(rc as usize);
        }
        let errno = last_errno();
        if errno != libc::EINTR {
            return Err(errno);
        }
    }
}

/// `SO_MEMINFO` (Linux 4.12+): the socket's memory counters.
const SO_MEMINFO: i32 = 55;
/// Index of the drop counter in the `SO_MEMINFO` array.
const SK_MEMINFO_DROPS: usize = 8;
/// Entries of the `SO_MEMINFO` array (`SK_MEMINFO_VARS`).
const SK_MEMINFO_VARS: usize = 9;

/// The socket's receive drop counter now (the value SO_RXQ_OVFL reports), if the kernel tells.
pub fn socket_drops(fd: &OwnedFd) -> Option<u64> {
    let mut info = [0u32; SK_MEMINFO_VARS];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: info and len are valid for writes of the given size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &raw mut len,
        )
    };
    (rc == 0 && len as usize > SK_MEMINFO_DROPS * 4).then(|| u64::from(info[SK_MEMINFO_DROPS]))
}
