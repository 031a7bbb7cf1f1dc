//! Non-blocking sends and the wait for writability.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, Frame};

use super::codec::encode;
use super::sys::{CanFdFrame, errno_name, last_errno, os_error, poll};

/// How a send call ended.
pub enum SendOutcome {
    /// Every frame was handed to the kernel.
    All,
    /// The kernel queue was full after this many frames; the errno says which queue.
    Blocked {
        /// Frames sent before the queue filled.
        sent: usize,
        /// EAGAIN (socket buffer) or ENOBUFS (device queue).
        errno: i32,
    },
}

/// Sends `frames` in order without blocking. `all_interfaces` sends each to
/// the interface its `channel` index names; otherwise to the bound interface.
pub fn send_frames(
    socket: &OwnedFd,
    frames: &[Frame],
    all_interfaces: bool,
    label: &str,
) -> Result<SendOutcome> {
    let mut raw = CanFdFrame::default();
    for (i, frame) in frames.iter().enumerate() {
        let n = encode(frame, &mut raw);
        let rc = if all_interfaces {
            if frame.channel == 0 {
                return Err(CanwireError::invalid_argument(format!(
                    "frame {i}: a bus opened on all interfaces (channel \"\") sends to the interface a message names: set its channel, e.g. 'vcan0'"
                )));
            }
            // SAFETY: sockaddr_can is plain data; zero is valid.
            let mut addr: libc::sockaddr_can = unsafe { std::mem::zeroed() };
            addr.can_family = libc::AF_CAN as libc::sa_family_t;
            addr.can_ifindex = frame.channel as i32;
            // SAFETY: raw holds n valid bytes; addr is a valid sockaddr_can.
            unsafe {
                libc::sendto(
                    socket.as_raw_fd(),
                    (&raw const raw).cast(),
                    n,
                    libc::MSG_DONTWAIT,
                    (&raw const addr).cast(),
                    std::mem::size_of::<libc::sockaddr_can>() as libc::socklen_t,
                )
            }
        } else {
            // SAFETY: raw holds n valid bytes.
            unsafe {
                libc::send(
                    socket.as_raw_fd(),
                    (&raw const raw).cast(),
                    n,
                    libc::MSG_DONTWAIT,
                )
            }
        };
        if rc < 0 {
            let errno = last_errno();
            return match errno {
                libc::EAGAIN | libc::ENOBUFS => Ok(SendOutcome::Blocked { sent: i, errno }),
                libc::EINVAL if frame.is_fd() => Err(CanwireError::new(
                    ErrorCode::Unsupported,
                    format!(
                        "{label} refused an FD frame (EINVAL): the interface is not CAN FD capable (mtu 16)"
                    ),
                )),
                _ => {
                    let after = if i > 0 {
                        format!(" after {i} of {} frames", frames.len())
                    } else {
                        String::new()
                    };
                    Err(os_error(&format!("sending on {label}{after}"), errno))
                }
            };
        }
    }
    Ok(SendOutcome::All)
}

/// Waits until the socket may take frames again, `wake` fires (close), or
/// `timeout` passes. A device queue that is full (ENOBUFS) does not show in
/// poll, so this also waits a little (up to 1 ms) after poll says writable.
/// Returns Ok(false) on timeout, `ERR_CLOSED` when woken for close.
pub fn wait_writable(socket: &OwnedFd, wake: &OwnedFd, timeout: Duration) -> Result<bool> {
    let start = Instant::now();
    let mut fds = [
        libc::pollfd {
            fd: socket.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        },
        libc::pollfd {
            fd: wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    let ready = poll(&mut fds, ms).map_err(|e| os_error("poll", e))?;
    if fds[1].revents != 0 {
        return Err(CanwireError::closed("the bus"));
    }
    if ready == 0 {
        return Ok(false);
    }
    let left = timeout.saturating_sub(start.elapsed());
    std::thread::sleep(left.min(Duration::from_millis(1)));
    Ok(true)
}

/// The `ERR_TX_BUFFER_FULL` error after waiting `waited` for room.
pub fn buffer_full(label: &str, errno: i32, waited: Duration, sent: usize) -> CanwireError {
    CanwireError::new(
        ErrorCode::TxBufferFull,
        format!(
            "the transmit queue of {label} stayed full ({}) for {} ms; {sent} frame(s) of this call were sent",
            errno_name(errno),
            waited.as_millis()
        ),
    )
}
