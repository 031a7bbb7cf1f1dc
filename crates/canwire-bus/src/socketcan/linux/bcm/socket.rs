//! A CAN_BCM socket: SOCK_DGRAM, connected to one interface (or to all with
//! index 0, each request then naming its interface with `sendto`).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};

use super::super::rx_thread::parse_control;
use super::super::sys::{errno_name, last_errno, os_error, set_int_option};

/// A connected, non-blocking broadcast manager socket.
pub struct BcmSocket {
    fd: OwnedFd,
    ifindex: u32,
}

fn sockaddr(ifindex: u32) -> libc::sockaddr_can {
    // SAFETY: sockaddr_can is plain data; zero is a valid value.
    let mut addr: libc::sockaddr_can = unsafe { std::mem::zeroed() };
    addr.can_family = libc::AF_CAN as libc::sa_family_t;
    addr.can_ifindex = ifindex as i32;
    addr
}

/// One message read from the socket.
pub struct Received {
    /// Bytes of the message (head and frames) in the buffer.
    pub len: usize,
    /// The kernel's timestamp (SO_TIMESTAMPNS): for RX_CHANGED the received
    /// frame's, for other events the time the event was read.
    pub timestamp_ns: Option<u64>,
    /// The interface the event is about.
    pub ifindex: u32,
    /// The frame of an RX_CHANGED came from this host (MSG_DONTROUTE).
    pub local: bool,
}

impl BcmSocket {
    /// Opens a BCM socket connected to `ifindex` (0: all CAN interfaces).
    pub fn connect(ifindex: u32) -> Result<Self> {
        // SAFETY: plain socket(2) call.
        let raw = unsafe {
            libc::socket(
                libc::AF_CAN,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::CAN_BCM,
            )
        };
        if raw < 0 {
            let errno = last_errno();
            return Err(match errno {
                libc::EAFNOSUPPORT | libc::EPROTONOSUPPORT | libc::EINVAL => CanwireError::new(
                    ErrorCode::Unsupported,
                    format!(
                        "this kernel has no CAN broadcast manager: socket(AF_CAN, SOCK_DGRAM, CAN_BCM) failed with {}; \
                         load it with modprobe can-bcm, or use scheduler: 'native'",
                        errno_name(errno)
                    ),
                ),
                _ => os_error("socket(AF_CAN, SOCK_DGRAM, CAN_BCM)", errno),
            });
        }
        // SAFETY: raw is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        set_int_option(&fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)
            .map_err(|e| os_error("setsockopt(SO_TIMESTAMPNS) on a BCM socket", e))?;
        let addr = sockaddr(ifindex);
        // SAFETY: addr is a valid sockaddr_can and the length matches.
        let rc = unsafe {
            libc::connect(
                fd.as_raw_fd(),
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_can>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(os_error("connecting a BCM socket", last_errno()));
        }
        Ok(Self { fd, ifindex })
    }

    /// The descriptor, for polling.
    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// The interface index the socket is connected to (0: all).
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Hands one request to the kernel. `target` names the interface on a
    /// socket connected to all of them. Returns the errno on failure.
    pub fn send(&self, message: &[u8], target: Option<u32>) -> std::result::Result<(), i32> {
        let rc = match target {
            Some(ifindex) if self.ifindex == 0 => {
                let addr = sockaddr(ifindex);
                // SAFETY: message and addr are valid for the given lengths.
                unsafe {
                    libc::sendto(
                        self.fd.as_raw_fd(),
                        message.as_ptr().cast(),
                        message.len(),
                        0,
                        (&raw const addr).cast(),
                        std::mem::size_of::<libc::sockaddr_can>() as libc::socklen_t,
                    )
                }
            }
            // SAFETY: message is valid for its length.
            _ => unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    message.as_ptr().cast(),
                    message.len(),
                    0,
                )
            },
        };
        if rc < 0 { Err(last_errno()) } else { Ok(()) }
    }

    /// Reads one message into `buf` without blocking: `Ok(None)` when there is
    /// none, `Err(errno)` for a pending socket error (ENETDOWN, ENODEV).
    pub fn recv(&self, buf: &mut [u8]) -> std::result::Result<Option<Received>, i32> {
        let mut control = [0u64; 16];
        let mut addr = sockaddr(0);
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: msghdr is plain data; zero is a valid value.
        let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
        hdr.msg_iov = &raw mut iov;
        hdr.msg_iovlen = 1;
        hdr.msg_name = (&raw mut addr).cast();
        hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_can>() as libc::socklen_t;
        hdr.msg_control = control.as_mut_ptr().cast();
        hdr.msg_controllen = std::mem::size_of_val(&control) as _;
        loop {
            // SAFETY: hdr points at iov, buf, addr and control, which outlive the call.
            let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &raw mut hdr, libc::MSG_DONTWAIT) };
            if n >= 0 {
                let (timestamp_ns, _) = parse_control(&hdr, false);
                return Ok(Some(Received {
                    len: n as usize,
                    timestamp_ns,
                    ifindex: addr.can_ifindex as u32,
                    local: hdr.msg_flags & libc::MSG_DONTROUTE != 0,
                }));
            }
            match last_errno() {
                libc::EINTR => continue,
                libc::EAGAIN => return Ok(None),
                errno => return Err(errno),
            }
        }
    }

    /// The socket's inode number: its /proc/net/can-bcm file is named after it.
    pub fn inode(&self) -> Option<u64> {
        // SAFETY: stat is plain data; fstat fills it.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fd is open; st is valid for writes.
        let rc = unsafe { libc::fstat(self.fd.as_raw_fd(), &raw mut st) };
        (rc == 0).then_some(st.st_ino)
    }
}
