//! One CAN_ISOTP socket: created, configured from a [`SocketPlan`], bound;
//! whole-PDU writes and reads.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};

use super::plan::SocketPlan;
use super::uapi::{
    CAN_ISOTP_LL_OPTS, CAN_ISOTP_OPTS, CAN_ISOTP_RECV_FC, CAN_ISOTP_RX_STMIN, CAN_ISOTP_TX_STMIN,
    SOL_CAN_ISOTP,
};
use crate::socketcan::sys::{errno_name, last_errno, os_error, set_option_bytes};

/// Creates an unbound, blocking CAN_ISOTP socket.
pub fn create() -> Result<OwnedFd> {
    // SAFETY: plain socket(2) call.
    let raw = unsafe {
        libc::socket(
            libc::AF_CAN,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::CAN_ISOTP,
        )
    };
    if raw >= 0 {
        // SAFETY: raw is a fresh descriptor we own.
        return Ok(unsafe { OwnedFd::from_raw_fd(raw) });
    }
    let errno = last_errno();
    Err(match errno {
        libc::EAFNOSUPPORT => CanwireError::new(
            ErrorCode::Unsupported,
            format!(
                "this kernel has no SocketCAN: socket(AF_CAN, SOCK_DGRAM, CAN_ISOTP) failed with {}; \
                 load the can and can-isotp modules, or run inside scripts/socketcan-vm.sh",
                errno_name(errno)
            ),
        ),
        libc::EPROTONOSUPPORT | libc::EINVAL => CanwireError::new(
            ErrorCode::Unsupported,
            format!(
                "this kernel has no ISO-TP sockets: socket(AF_CAN, SOCK_DGRAM, CAN_ISOTP) failed with {}; \
                 load the module (modprobe can-isotp, Linux 5.10+) or use stack: 'userspace'",
                errno_name(errno)
            ),
        ),
        _ => os_error("socket(AF_CAN, SOCK_DGRAM, CAN_ISOTP)", errno),
    })
}

fn bytes_of<T: Copy>(value: &T) -> &[u8] {
    // SAFETY: T is a repr(C) plain-data option struct or integer; the slice covers exactly it.
    unsafe { std::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>()) }
}

fn set<T: Copy>(fd: &OwnedFd, name: i32, what: &str, value: &T) -> Result<()> {
    set_option_bytes(fd, SOL_CAN_ISOTP, name, bytes_of(value))
        .map_err(|errno| os_error(&format!("setsockopt({what})"), errno))
}

/// Sets every option of `plan` and binds `fd` to interface `ifindex`.
pub fn configure_and_bind(
    fd: &OwnedFd,
    plan: &SocketPlan,
    ifindex: u32,
    channel: &str,
) -> Result<()> {
    set(fd, CAN_ISOTP_OPTS, "CAN_ISOTP_OPTS", &plan.options)?;
    set(
        fd,
        CAN_ISOTP_RECV_FC,
        "CAN_ISOTP_RECV_FC",
        &plan.flow_control,
    )?;
    if let Some(ns) = plan.tx_stmin_ns {
        set(fd, CAN_ISOTP_TX_STMIN, "CAN_ISOTP_TX_STMIN", &ns)?;
    }
    if let Some(ns) = plan.rx_stmin_ns {
        set(fd, CAN_ISOTP_RX_STMIN, "CAN_ISOTP_RX_STMIN", &ns)?;
    }
    set(fd, CAN_ISOTP_LL_OPTS, "CAN_ISOTP_LL_OPTS", &plan.link_layer)?;
    // SAFETY: sockaddr_can is plain data; zero is a valid value.
    let mut addr: libc::sockaddr_can = unsafe { std::mem::zeroed() };
    addr.can_family = libc::AF_CAN as libc::sa_family_t;
    addr.can_ifindex = ifindex as i32;
    addr.can_addr.tp.rx_id = plan.rx_id;
    addr.can_addr.tp.tx_id = plan.tx_id;
    // SAFETY: addr is a valid sockaddr_can and the length matches.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&raw const addr).cast(),
            size_of::<libc::sockaddr_can>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        let what = format!(
            "bind of an ISO-TP socket (rx {:#x}, tx {:#x}) to '{channel}'",
            plan.rx_id, plan.tx_id
        );
        return Err(os_error(&what, last_errno()));
    }
    Ok(())
}

/// Writes one whole PDU; with `CAN_ISOTP_WAIT_TX_DONE` this returns when the
/// transfer ended. `Err(errno)` on failure.
pub fn write_pdu(fd: &OwnedFd, payload: &[u8]) -> std::result::Result<(), i32> {
    // SAFETY: the pointer and length describe `payload`.
    let n = unsafe { libc::write(fd.as_raw_fd(), payload.as_ptr().cast(), payload.len()) };
    if n < 0 { Err(last_errno()) } else { Ok(()) }
}

/// What one non-blocking read gave.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// A whole payload.
    Payload(Vec<u8>),
    /// Nothing waiting.
    Empty,
    /// The socket's error slot held this errno (now cleared).
    Error(i32),
}

fn recv(fd: &OwnedFd, buf: *mut u8, len: usize, flags: i32) -> std::result::Result<usize, i32> {
    loop {
        // SAFETY: buf is valid for writes of len bytes (len may be 0).
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.cast(), len, flags | libc::MSG_DONTWAIT) };
        if n >= 0 {
            return Ok(n as usize);
        }
        match last_errno() {
            libc::EINTR => continue,
            errno => return Err(errno),
        }
    }
}

/// Reads one PDU without blocking, sized exactly (a peek learns its length first).
pub fn read_pdu(fd: &OwnedFd) -> ReadOutcome {
    let len = match recv(
        fd,
        std::ptr::null_mut(),
        0,
        libc::MSG_PEEK | libc::MSG_TRUNC,
    ) {
        Ok(len) => len,
        Err(libc::EAGAIN) => return ReadOutcome::Empty,
        Err(errno) => return ReadOutcome::Error(errno),
    };
    let mut data = Vec::<u8>::with_capacity(len);
    match recv(fd, data.as_mut_ptr(), len, 0) {
        Ok(n) => {
            // SAFETY: the kernel wrote n <= len bytes into the reserved capacity.
            unsafe { data.set_len(n.min(len)) };
            ReadOutcome::Payload(data)
        }
        Err(libc::EAGAIN) => ReadOutcome::Empty,
        Err(errno) => ReadOutcome::Error(errno),
    }
}

/// Takes the socket's pending error (`SO_ERROR`), 0 if none.
pub fn take_error(fd: &OwnedFd) -> i32 {
    let mut value: i32 = 0;
    let mut len = size_of::<i32>() as libc::socklen_t;
    // SAFETY: value and len are valid for writes of the given size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&raw mut value).cast(),
            &raw mut len,
        )
    };
    if rc == 0 { value } else { 0 }
}
