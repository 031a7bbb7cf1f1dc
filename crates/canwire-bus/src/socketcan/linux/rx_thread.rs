//! The receive thread: waits on the socket and a wake fd, drains the socket
//! with `recvmmsg` in batches (frame, source interface, SO_TIMESTAMPNS time
//! and, on kernels without SO_MEMINFO, the SO_RXQ_OVFL drop count from one
//! call), hands each batch to the bus's `ReaderSet` in one `deliver` call,
//! and lets frames gather between reads under sustained traffic as its
//! [`RxPacer`] says.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::readiness::StateCell;
use canwire_core::error_frame::ErrorFrameInfo;
use canwire_core::{Frame, FrameFlags};

use super::codec::decode;
use super::sys::{CanFdFrame, last_errno, os_error, readable_unless_woken};
use crate::reader_set::ReaderSet;
use crate::socketcan::rx_coalescing::{BUFFER_BYTES_PER_FRAME, RxCoalescing, RxPacer};
use crate::stats::ReceiveErrors;
use crate::sync_util;
use crate::time::realtime_ns;
use crate::transport::BusState;

/// Frames taken from the kernel per `recvmmsg` call.
pub const BATCH: usize = 128;
/// Control buffer words per message: room for SCM_TIMESTAMPNS (one timespec),
/// SCM_TIMESTAMPING (three) and SO_RXQ_OVFL (a u32), each with its header.
const CONTROL_WORDS: usize = 24;

/// What the receive thread shares with its transport.
pub struct RxShared {
    /// Frames the kernel dropped on this socket (SO_RXQ_OVFL), summed.
    pub kernel_drops: AtomicU64,
    /// The controller state that the error frames report.
    pub state: Arc<StateCell<BusState>>,
    /// `recvmmsg` failures that are neither "no more frames" nor an
    /// interface going down (which error frames report), and the last one.
    receive_errors: std::sync::Mutex<ReceiveErrors>,
    /// Where the echoes of the socket's own frames go.
    pub echoes: super::tx_echoes::TxEchoes,
}

impl RxShared {
    /// Starts in `initial` state with no drops; echoes of the socket's own
    /// frames reach readers if `own_for_readers` (the bus was opened so).
    pub fn new(initial: BusState, own_for_readers: bool) -> Self {
        Self {
            kernel_drops: AtomicU64::new(0),
            state: Arc::new(StateCell::new(initial)),
            receive_errors: std::sync::Mutex::default(),
            echoes: super::tx_echoes::TxEchoes::new(own_for_readers),
        }
    }

    /// Counts an unexpected receive failure with `errno`.
    pub fn count_receive_error(&self, errno: i32) {
        let message = os_error("reading frames (recvmmsg)", errno).message;
        let mut errors = sync_util::lock(&self.receive_errors);
        errors.count += 1;
        errors.last = Some(message);
    }

    /// The unexpected receive failures so far.
    pub fn receive_errors(&self) -> ReceiveErrors {
        sync_util::lock(&self.receive_errors).clone()
    }
}

/// What the receive loop does after `recvmmsg` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterReceiveError {
    /// Interrupted by a signal: read again at once.
    Retry,
    /// Nothing more to read now (`EAGAIN`), or the interface went down or
    /// away (`ENETDOWN`, `ENODEV`: reported through error frames and the bus
    /// state): wait for the socket again.
    Wait,
    /// Anything else: count it, back off [`RECEIVE_ERROR_BACKOFF`] so a
    /// failure that persists does not spin, then wait for the socket again.
    CountAndBackOff,
}

/// How long the receive loop pauses after an unexpected failure.
pub const RECEIVE_ERROR_BACKOFF: Duration = Duration::from_millis(10);

/// The receive loop's policy for `recvmmsg`'s `errno`.
pub fn after_receive_error(errno: i32) -> AfterReceiveError {
    match errno {
        libc::EINTR => AfterReceiveError::Retry,
        libc::EAGAIN | libc::ENETDOWN | libc::ENODEV => AfterReceiveError::Wait,
        _ => AfterReceiveError::CountAndBackOff,
    }
}

/// Reusable recvmmsg buffers; pointers into them stay valid because they never grow.
struct Batch {
    frames: Vec<CanFdFrame>,
    addrs: Vec<libc::sockaddr_can>,
    control: Vec<[u64; CONTROL_WORDS]>,
    iovecs: Vec<libc::iovec>,
    msgs: Vec<libc::mmsghdr>,
}

impl Batch {
    fn new() -> Self {
        let mut b = Self {
            frames: vec![CanFdFrame::default(); BATCH],
            // SAFETY: sockaddr_can is plain data; zero is valid.
            addrs: vec![unsafe { std::mem::zeroed() }; BATCH],
            control: vec![[0; CONTROL_WORDS]; BATCH],
            iovecs: Vec::with_capacity(BATCH),
            msgs: Vec::with_capacity(BATCH),
        };
        for i in 0..BATCH {
            b.iovecs.push(libc::iovec {
                iov_base: (&raw mut b.frames[i]).cast(),
                iov_len: std::mem::size_of::<CanFdFrame>(),
            });
        }
        for i in 0..BATCH {
            // SAFETY: mmsghdr is plain data; zero is valid.
            let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
            m.msg_hdr.msg_iov = &raw mut b.iovecs[i];
            m.msg_hdr.msg_iovlen = 1;
            b.msgs.push(m);
        }
        b.reset(BATCH);
        b
    }

    /// Resets the in/out lengths the kernel overwrote in the first `used`
    /// headers (the ones the last `recvmmsg` filled; the rest are untouched).
    fn reset(&mut self, used: usize) {
        for i in 0..used.min(BATCH) {
            let h = &mut self.msgs[i].msg_hdr;
            h.msg_name = (&raw mut self.addrs[i]).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_can>() as libc::socklen_t;
            h.msg_control = self.control[i].as_mut_ptr().cast();
            h.msg_controllen = CONTROL_WORDS * 8;
            h.msg_flags = 0;
            self.msgs[i].msg_len = 0;
        }
    }
}

fn timespec_ns(t: &libc::timespec) -> u64 {
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// Reads the timestamp (a non-zero hardware one first when `hardware`) and
/// the drop count from one message's control data.
pub(crate) fn parse_control(hdr: &libc::msghdr, hardware: bool) -> (Option<u64>, Option<u32>) {
    let mut ts = None;
    let mut hw_ts = None;
    let mut drops = None;
    // SAFETY: hdr's control pointer and length were set up by us and filled by the kernel.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(hdr) };
    while !cmsg.is_null() {
        // SAFETY: cmsg points into the control buffer (CMSG_FIRSTHDR/NXTHDR check bounds).
        let c = unsafe { &*cmsg };
        // SAFETY: the data of this cmsg lies within the control buffer.
        let data = unsafe { libc::CMSG_DATA(cmsg) };
        if c.cmsg_level == libc::SOL_SOCKET {
            if c.cmsg_type == libc::SCM_TIMESTAMPNS {
                // SAFETY: SCM_TIMESTAMPNS carries a struct timespec.
                let t: libc::timespec = unsafe { std::ptr::read_unaligned(data.cast()) };
                ts = Some(timespec_ns(&t));
            } else if c.cmsg_type == libc::SCM_TIMESTAMPING {
                // SAFETY: SCM_TIMESTAMPING carries three timespecs: software, legacy, raw hardware.
                let t: [libc::timespec; 3] = unsafe { std::ptr::read_unaligned(data.cast()) };
                let raw = timespec_ns(&t[2]);
                if raw != 0 {
                    hw_ts = Some(raw);
                }
                if ts.is_none() && timespec_ns(&t[0]) != 0 {
                    ts = Some(timespec_ns(&t[0]));
                }
            } else if c.cmsg_type == libc::SO_RXQ_OVFL {
                // SAFETY: SO_RXQ_OVFL carries a u32.
                drops = Some(unsafe { std::ptr::read_unaligned(data.cast::<u32>()) });
            }
        }
        // SAFETY: as above.
        cmsg = unsafe { libc::CMSG_NXTHDR(hdr, cmsg) };
    }
    if hardware && hw_ts.is_some() {
        ts = hw_ts;
    }
    (ts, drops)
}

/// How the receive thread reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct RxOptions {
    /// Prefer hardware timestamps (SO_TIMESTAMPING) where the driver gives them.
    pub hardware_timestamps: bool,
    /// When to read again after a read that found frames (see
    /// [`crate::socketcan::rx_coalescing`]); readers that asked for every
    /// frame at once ([`ReaderSet::has_immediate_readers`]) override it.
    pub coalescing: RxCoalescing,
}

/// Starts the receive thread for `socket`; it exits when `wake` becomes readable.
pub fn spawn(
    socket: Arc<OwnedFd>,
    wake: Arc<OwnedFd>,
    readers: Arc<ReaderSet>,
    shared: Arc<RxShared>,
    name: String,
    options: RxOptions,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("canwire-rx-{name}"))
        .spawn(move || run(&socket, &wake, &readers, &shared, options))
}

/// Waits `pause` unless `wake` fires first (then returns false).
fn pause_unless_woken(wake: &OwnedFd, pause: Duration) -> bool {
    let mut fds = [libc::pollfd {
        fd: wake.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    let timeout = libc::timespec {
        tv_sec: pause.as_secs() as libc::time_t,
        tv_nsec: pause.subsec_nanos() as libc::c_long,
    };
    // SAFETY: fds and timeout are valid for the call; no signal mask is changed.
    let rc = unsafe { libc::ppoll(fds.as_mut_ptr(), 1, &raw const timeout, std::ptr::null()) };
    !(rc > 0 && fds[0].revents != 0)
}

fn run(
    socket: &OwnedFd,
    wake: &OwnedFd,
    readers: &ReaderSet,
    shared: &RxShared,
    options: RxOptions,
) {
    let hardware_timestamps = options.hardware_timestamps;
    let mut batch = Batch::new();
    // headers the last recvmmsg filled, to reset before the next
    let mut used = 0;
    let mut frames: Vec<Frame> = Vec::with_capacity(BATCH);
    let mut last_ovfl: u32 = 0;
    let buffer_frames = super::sys::get_int_option(socket, libc::SOL_SOCKET, libc::SO_RCVBUF)
        .map_or(0, |bytes| {
            u64::try_from(bytes).unwrap_or(0) / BUFFER_BYTES_PER_FRAME
        });
    let mut pacer = RxPacer::new(options.coalescing, buffer_frames);
    let clock = std::time::Instant::now();
    // After a coalescing pause frames are most likely waiting: read before polling.
    let mut read_first = false;
    loop {
        if !std::mem::take(&mut read_first)
            && !readable_unless_woken(socket.as_raw_fd(), wake.as_raw_fd())
        {
            return;
        }
        // Drain until the socket is empty, then wait again.
        let mut delivered = 0;
        loop {
            batch.reset(std::mem::take(&mut used));
            // SAFETY: msgs holds BATCH headers whose buffers live in `batch`.
            let n = unsafe {
                libc::recvmmsg(
                    socket.as_raw_fd(),
                    batch.msgs.as_mut_ptr(),
                    BATCH as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if n < 0 {
                let errno = last_errno();
                match after_receive_error(errno) {
                    AfterReceiveError::Retry => continue,
                    AfterReceiveError::Wait => break,
                    AfterReceiveError::CountAndBackOff => {
                        shared.count_receive_error(errno);
                        std::thread::sleep(RECEIVE_ERROR_BACKOFF);
                        break;
                    }
                }
            }
            used = n as usize;
            frames.clear();
            for i in 0..n as usize {
                let m = &batch.msgs[i];
                let (ts, ovfl) = parse_control(&m.msg_hdr, hardware_timestamps);
                if let Some(count) = ovfl
                    && count != last_ovfl
                {
                    shared
                        .kernel_drops
                        .fetch_add(u64::from(count.wrapping_sub(last_ovfl)), Ordering::Relaxed);
                    last_ovfl = count;
                }
                let ifindex = batch.addrs[i].can_ifindex as u32;
                let Some(mut frame) = decode(
                    &batch.frames[i],
                    m.msg_len as usize,
                    ts.unwrap_or_else(realtime_ns),
                    ifindex,
                ) else {
                    continue;
                };
                if m.msg_hdr.msg_flags & libc::MSG_DONTROUTE != 0 {
                    frame.flags.set(FrameFlags::TX, true);
                }
                // This socket's own frame: an echo for the senders pacing on them.
                if m.msg_hdr.msg_flags & libc::MSG_CONFIRM != 0 && shared.echoes.claim(&frame) {
                    continue;
                }
                if let Some(state) = ErrorFrameInfo::from_frame(&frame).and_then(|e| e.state()) {
                    let state = BusState::from(state);
                    shared.state.set_if_changed(state);
                }
                frames.push(frame);
            }
            if !frames.is_empty() {
                readers.deliver(&frames);
                delivered += frames.len();
            }
            if (n as usize) < BATCH {
                break;
            }
        }
        let now_ns = u64::try_from(clock.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let pause = pacer.after_read(now_ns, delivered);
        if let Some(pause) = pause.filter(|_| !readers.has_immediate_readers()) {
            readers.count_coalescing_wait();
            if !pause_unless_woken(wake, pause) {
                return;
            }
            read_first = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unexpected_receive_errors_are_counted() {
        assert_eq!(after_receive_error(libc::EINTR), AfterReceiveError::Retry);
        assert_eq!(after_receive_error(libc::EAGAIN), AfterReceiveError::Wait);
        assert_eq!(after_receive_error(libc::ENETDOWN), AfterReceiveError::Wait);
        assert_eq!(after_receive_error(libc::ENODEV), AfterReceiveError::Wait);
        assert_eq!(
            after_receive_error(libc::EBADF),
            AfterReceiveError::CountAndBackOff
        );
        assert_eq!(
            after_receive_error(libc::ENOMEM),
            AfterReceiveError::CountAndBackOff
        );
    }

    #[test]
    fn a_counted_receive_error_keeps_its_errno_in_the_message() {
        let shared = RxShared::new(BusState::Active, false);
        assert_eq!(shared.receive_errors(), ReceiveErrors::default());
        shared.count_receive_error(libc::ENOMEM);
        shared.count_receive_error(libc::EBADF);
        let errors = shared.receive_errors();
        assert_eq!(errors.count, 2);
        assert_eq!(
            errors.last.as_deref(),
            Some("reading frames (recvmmsg) failed with EBADF (Bad file descriptor (os error 9))")
        );
    }
}
