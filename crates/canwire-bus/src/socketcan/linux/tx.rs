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

/// Frames handed to the kernel per `sendmmsg` call.
const BATCH: usize = 64;

/// Reusable `sendmmsg` buffers for one batch.
struct Batch {
    raw: [CanFdFrame; BATCH],
    addrs: [libc::sockaddr_can; BATCH],
    iovecs: [libc::iovec; BATCH],
    msgs: [libc::mmsghdr; BATCH],
}

impl Batch {
    fn new() -> Box<Self> {
        // SAFETY: every field is plain data for which zero is a valid value;
        // the pointers are set before each use.
        Box::new(unsafe { std::mem::zeroed() })
    }

    /// Encodes the frames that can go in one call: up to BATCH, stopping
    /// before a frame without a channel when sending to all interfaces.
    fn fill(&mut self, frames: &[Frame], all_interfaces: bool) -> usize {
        let mut n = 0;
        for frame in frames.iter().take(BATCH) {
            if all_interfaces && frame.channel == 0 {
                break;
            }
            let len = encode(frame, &mut self.raw[n]);
            self.iovecs[n] = libc::iovec {
                iov_base: (&raw mut self.raw[n]).cast(),
                iov_len: len,
            };
            // SAFETY: mmsghdr is plain data; zero is valid.
            let mut msg: libc::mmsghdr = unsafe { std::mem::zeroed() };
            msg.msg_hdr.msg_iov = &raw mut self.iovecs[n];
            msg.msg_hdr.msg_iovlen = 1;
            if all_interfaces {
                let addr = &mut self.addrs[n];
                addr.can_family = libc::AF_CAN as libc::sa_family_t;
                addr.can_ifindex = frame.channel as i32;
                msg.msg_hdr.msg_name = (addr as *mut libc::sockaddr_can).cast();
                msg.msg_hdr.msg_namelen =
                    std::mem::size_of::<libc::sockaddr_can>() as libc::socklen_t;
            }
            self.msgs[n] = msg;
            n += 1;
        }
        n
    }
}

/// Sends `frames` in order without blocking, up to 64 per `sendmmsg` call.
/// `all_interfaces` sends each to the interface its `channel` index names;
/// otherwise to the bound interface.
pub fn send_frames(
    socket: &OwnedFd,
    frames: &[Frame],
    all_interfaces: bool,
    label: &str,
) -> Result<SendOutcome> {
    let mut batch = Batch::new();
    let mut i = 0;
    while i < frames.len() {
        let n = batch.fill(&frames[i..], all_interfaces);
        if n == 0 {
            return Err(CanwireError::invalid_argument(format!(
                "frame {i}: a bus opened on all interfaces (channel \"\") sends to the interface a message names: set its channel, e.g. 'vcan0'"
            )));
        }
        // SAFETY: the first n messages point into `batch`, which outlives the call.
        let rc = unsafe {
            libc::sendmmsg(
                socket.as_raw_fd(),
                batch.msgs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if rc > 0 {
            i += rc as usize;
            continue;
        }
        let errno = if rc == 0 { libc::EAGAIN } else { last_errno() };
        let frame = &frames[i];
        return match errno {
            libc::EINTR => continue,
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
    .with_errno(canwire_core::error::errno_name(errno))
    .with_sent(sent as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::FromRawFd;

    /// A non-blocking datagram socketpair stands in for a CAN socket: same
    /// send/poll behaviour when its buffer fills (EAGAIN), no kernel CAN needed.
    fn pair() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: fds has room for the two descriptors.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        assert_eq!(rc, 0);
        // SAFETY: fresh descriptors we own.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    fn eventfd() -> OwnedFd {
        // SAFETY: plain eventfd call; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        assert!(fd >= 0);
        // SAFETY: fresh descriptor we own.
        unsafe { OwnedFd::from_raw_fd(fd) }
    }

    fn drain(fd: &OwnedFd) -> usize {
        let mut buf = [0u8; 128];
        let mut n = 0;
        // SAFETY: buf is valid for writes of its length.
        while unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) } > 0 {
            n += 1;
        }
        n
    }

    #[test]
    fn full_queue_reports_blocked_then_waits_for_room() {
        let (tx, rx) = pair();
        let wake = eventfd();
        let frames = vec![Frame::classic(0x123, false, &[1, 2, 3]); 100_000];
        let outcome = send_frames(&tx, &frames, false, "test").unwrap();
        let SendOutcome::Blocked { sent, errno } = outcome else {
            panic!("a socket buffer cannot hold 100000 frames");
        };
        assert!(sent > 0 && sent < frames.len());
        assert_eq!(errno, libc::EAGAIN);
        let t = Instant::now();
        assert!(!wait_writable(&tx, &wake, Duration::from_millis(50)).unwrap());
        assert!(t.elapsed() >= Duration::from_millis(45));
        assert_eq!(drain(&rx), sent);
        assert!(wait_writable(&tx, &wake, Duration::from_millis(1000)).unwrap());
        let e = buffer_full("'vcan0'", errno, Duration::from_millis(50), sent);
        assert_eq!(e.code, ErrorCode::TxBufferFull);
        assert!(e.message.contains("(EAGAIN)"), "{}", e.message);
    }

    #[test]
    fn close_wakes_a_waiting_sender() {
        let (tx, _rx) = pair();
        let frames = vec![Frame::classic(1, false, &[]); 100_000];
        let _ = send_frames(&tx, &frames, false, "test").unwrap();
        let wake = std::sync::Arc::new(eventfd());
        let w = wake.clone();
        let t = std::thread::spawn(move || wait_writable(&tx, &w, Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(20));
        let one: u64 = 1;
        // SAFETY: writes 8 bytes to the eventfd.
        unsafe { libc::write(wake.as_raw_fd(), (&raw const one).cast(), 8) };
        assert_eq!(t.join().unwrap().unwrap_err().code, ErrorCode::Closed);
    }

    #[test]
    fn all_interfaces_needs_a_channel() {
        let (tx, _rx) = pair();
        let e = match send_frames(&tx, &[Frame::classic(1, false, &[])], true, "all") {
            Err(e) => e,
            Ok(_) => panic!("sent without a channel"),
        };
        assert_eq!(e.code, ErrorCode::InvalidArgument);
    }
}
