//! Opening and configuring a CAN_RAW socket.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, FilterSet};

use super::filters::{MAX_KERNEL_FILTERS, kernel_filters};
use super::interfaces::resolve;
use super::sys::{
    CANFD_MTU, KernelFilter, errno_name, last_errno, os_error, set_int_option, set_option_bytes,
};
use crate::socketcan::config::{DEFAULT_RECEIVE_BUFFER, SocketCanConfig};

/// A bound, non-blocking CAN_RAW socket.
pub struct RawSocket {
    /// The socket.
    pub fd: OwnedFd,
    /// The bound interface index, 0 for all interfaces.
    pub ifindex: u32,
}

fn no_socketcan(errno: i32) -> CanwireError {
    CanwireError::new(
        ErrorCode::Unsupported,
        format!(
            "this kernel has no SocketCAN: socket(AF_CAN, SOCK_RAW, CAN_RAW) failed with {}; \
             load the can and can_raw modules (modprobe can_raw), or run inside scripts/socketcan-vm.sh",
            errno_name(errno)
        ),
    )
}

fn set_flag(fd: &OwnedFd, level: i32, name: i32, on: bool, what: &str) -> Result<()> {
    set_int_option(fd, level, name, i32::from(on))
        .map_err(|errno| os_error(&format!("setsockopt({what})"), errno))
}

/// Sizes the receive buffer: an explicit size must take, the default is best effort.
fn set_receive_buffer(fd: &OwnedFd, requested: Option<u32>) -> Result<()> {
    let size = requested.unwrap_or(DEFAULT_RECEIVE_BUFFER);
    if size == 0 {
        return Ok(());
    }
    let size = size.min(i32::MAX as u32 / 2) as i32;
    // SO_RCVBUFFORCE passes rmem_max but needs CAP_NET_ADMIN; SO_RCVBUF is capped at it.
    let result = set_int_option(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, size)
        .or_else(|_| set_int_option(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, size));
    match result {
        Err(errno) if requested.is_some() => Err(os_error("setsockopt(SO_RCVBUF)", errno)),
        _ => Ok(()),
    }
}

impl RawSocket {
    /// Creates the socket, sets its options and binds it to the configured interface.
    pub fn open(config: &SocketCanConfig) -> Result<Self> {
        // SAFETY: plain socket(2) call.
        let raw = unsafe {
            libc::socket(
                libc::AF_CAN,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::CAN_RAW,
            )
        };
        if raw < 0 {
            let errno = last_errno();
            return Err(match errno {
                libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT | libc::EINVAL => no_socketcan(errno),
                _ => os_error("socket(AF_CAN, SOCK_RAW, CAN_RAW)", errno),
            });
        }
        // SAFETY: raw is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let target = if config.channel.is_empty() {
            None
        } else {
            Some(resolve(&config.channel)?)
        };
        if let Some(t) = &target
            && config.fd
            && t.mtu != 0
            && t.mtu as usize != CANFD_MTU
        {
            return Err(CanwireError::new(
                ErrorCode::Unsupported,
                format!(
                    "'{}' is not CAN FD capable (mtu {}, FD needs 72); open it with fd: false or set: ip link set {} mtu 72",
                    config.channel, t.mtu, config.channel
                ),
            ));
        }
        let raw_level = libc::SOL_CAN_RAW;
        set_int_option(
            &fd,
            raw_level,
            libc::CAN_RAW_ERR_FILTER,
            (config.error_mask & super::sys::CAN_EFF_MASK) as i32,
        )
        .map_err(|e| os_error("setsockopt(CAN_RAW_ERR_FILTER)", e))?;
        set_flag(
            &fd,
            raw_level,
            libc::CAN_RAW_LOOPBACK,
            config.local_loopback,
            "CAN_RAW_LOOPBACK",
        )?;
        set_flag(
            &fd,
            raw_level,
            libc::CAN_RAW_RECV_OWN_MSGS,
            config.receive_own_messages,
            "CAN_RAW_RECV_OWN_MSGS",
        )?;
        if config.fd {
            set_int_option(&fd, raw_level, libc::CAN_RAW_FD_FRAMES, 1).map_err(|errno| {
                CanwireError::new(
                    ErrorCode::Unsupported,
                    format!(
                        "this kernel does not support CAN FD on raw sockets (CAN_RAW_FD_FRAMES: {})",
                        errno_name(errno)
                    ),
                )
            })?;
        }
        set_flag(
            &fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            true,
            "SO_TIMESTAMPNS",
        )?;
        // The kernel's drop counter: read when stats are asked for
        // (SO_MEMINFO) where the kernel has it, else carried with every
        // received frame (SO_RXQ_OVFL, a control message per frame).
        if super::sys::socket_drops(&fd).is_none() {
            set_flag(
                &fd,
                libc::SOL_SOCKET,
                libc::SO_RXQ_OVFL,
                true,
                "SO_RXQ_OVFL",
            )?;
        }
        set_receive_buffer(&fd, config.receive_buffer_size)?;
        let ifindex = target.as_ref().map_or(0, |t| t.index);
        // SAFETY: sockaddr_can is plain data; zero is a valid value.
        let mut addr: libc::sockaddr_can = unsafe { std::mem::zeroed() };
        addr.can_family = libc::AF_CAN as libc::sa_family_t;
        addr.can_ifindex = ifindex as i32;
        // SAFETY: addr is a valid sockaddr_can and the length matches.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_can>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            let errno = last_errno();
            let what = if ifindex == 0 {
                "bind to all CAN interfaces".to_string()
            } else {
                format!("bind to '{}'", config.channel)
            };
            return Err(os_error(&what, errno));
        }
        Ok(Self { fd, ifindex })
    }
}

/// Pushes `set` into the kernel (`CAN_RAW_JOIN_FILTERS` and `CAN_RAW_FILTER`).
pub fn apply_filters(fd: &OwnedFd, set: &FilterSet) -> Result<()> {
    {
        let filters: Vec<KernelFilter> = kernel_filters(set);
        if filters.len() > MAX_KERNEL_FILTERS {
            return Err(CanwireError::invalid_argument(format!(
                "SocketCAN takes at most {MAX_KERNEL_FILTERS} filters per socket, got {}",
                filters.len()
            )));
        }
        set_int_option(
            fd,
            libc::SOL_CAN_RAW,
            libc::CAN_RAW_JOIN_FILTERS,
            i32::from(set.is_joined()),
        )
        .map_err(|e| os_error("setsockopt(CAN_RAW_JOIN_FILTERS)", e))?;
        // SAFETY: KernelFilter is repr(C) plain data; the slice covers exactly the vector.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                filters.as_ptr().cast::<u8>(),
                std::mem::size_of_val(filters.as_slice()),
            )
        };
        set_option_bytes(fd, libc::SOL_CAN_RAW, libc::CAN_RAW_FILTER, bytes)
            .map_err(|e| os_error("setsockopt(CAN_RAW_FILTER)", e))
    }
}
