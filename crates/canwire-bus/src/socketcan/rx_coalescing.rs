//! When a SocketCAN receive thread reads the socket: [`RxCoalescing`], the
//! policy, and [`RxPacer`], which applies it read by read. Pure (the caller
//! passes the time), so it is tested on a virtual clock and is the same on
//! every platform.
//!
//! A read costs about the same whether it takes one frame or a hundred: the
//! receive thread wakes, and so does every reader waiting on the JS event
//! loop. Reading at once keeps latency lowest but costs a wake-up per frame;
//! waiting a little after a read lets frames gather so each wake-up carries
//! many. The default, [`RxCoalescing::Adaptive`], does the first only while
//! traffic is sparse and the second only while it is sustained:
//!
//! - a frame that ends a quiet spell (nothing received for longer than the
//!   bound) is read and delivered at once;
//! - a read that comes within the bound of the previous one means traffic is
//!   sustained: the next read waits until about [`ADAPTIVE_BATCH`] frames
//!   have had time to arrive at the rate just seen, never longer than the
//!   bound, so no frame waits longer than the bound;
//! - a waited-for read that finds nothing ends the sustained spell: the
//!   thread sleeps until the next frame and delivers it at once;
//! - a wait never lets more than half the socket's receive buffer fill
//!   ([`RxPacer::new`] takes its size in frames), and a buffer too small
//!   to gather two frames turns coalescing off.

use std::time::Duration;

/// The bound of [`RxCoalescing::Adaptive`] by default: under sustained
/// traffic a frame waits at most this long before it is read. At 2 000
/// frames/s (a quarter-loaded 1 Mbit/s bus) that gathers about 8 frames per
/// wake-up, which is what takes a reader's CPU per frame below candump's
/// (a wake-up of the receive thread and of the JS reader costs several
/// frames' worth); well inside the 50 ms a UDS response may take (P2).
pub const DEFAULT_ADAPTIVE_BOUND: Duration = Duration::from_millis(4);

/// Frames an adaptive wait aims to gather: one `recvmmsg` call's worth, below
/// what even the kernel's default receive buffer holds, so a flood shortens
/// the wait instead of filling the buffer.
pub const ADAPTIVE_BATCH: u64 = 128;

/// What the kernel charges a received CAN frame against the receive buffer,
/// rounded up (its socket buffer with overhead; under 1 KiB on x86-64).
pub const BUFFER_BYTES_PER_FRAME: u64 = 1024;

/// How a receive thread spaces its reads of the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxCoalescing {
    /// Read as soon as frames arrive (`rxCoalesceUs: 0`).
    Immediate,
    /// Wait only under sustained traffic, long enough for about
    /// [`ADAPTIVE_BATCH`] frames and at most `bound` (see the module doc;
    /// `rxCoalesceUs: N` sets the bound, the default is
    /// [`DEFAULT_ADAPTIVE_BOUND`]).
    Adaptive {
        /// The longest a frame waits before it is read.
        bound: Duration,
    },
}

impl Default for RxCoalescing {
    fn default() -> Self {
        Self::Adaptive {
            bound: DEFAULT_ADAPTIVE_BOUND,
        }
    }
}

impl RxCoalescing {
    /// The policy of `rxCoalesceUs`: `None` adaptive with the default bound,
    /// 0 immediate, N adaptive with a bound of N µs.
    pub fn from_micros(us: Option<u32>) -> Self {
        match us {
            None => Self::default(),
            Some(0) => Self::Immediate,
            Some(us) => Self::Adaptive {
                bound: Duration::from_micros(u64::from(us)),
            },
        }
    }
}

/// Applies an [`RxCoalescing`] policy read by read.
#[derive(Debug, Clone)]
pub struct RxPacer {
    policy: RxCoalescing,
    /// Frames an adaptive wait aims to gather.
    batch: u64,
    /// When the last read that found frames happened (ns on the caller's monotonic clock).
    last_read_ns: Option<u64>,
}

impl RxPacer {
    /// A pacer for `policy` on a socket whose receive buffer holds
    /// `buffer_frames` frames, with no read seen yet.
    pub fn new(policy: RxCoalescing, buffer_frames: u64) -> Self {
        let batch = ADAPTIVE_BATCH.min(buffer_frames / 2);
        Self {
            policy: if batch < 2 {
                RxCoalescing::Immediate
            } else {
                policy
            },
            batch,
            last_read_ns: None,
        }
    }

    /// The policy this pacer applies.
    pub fn policy(&self) -> RxCoalescing {
        self.policy
    }

    /// After a read at `now_ns` that took `frames` frames (and drained the
    /// socket): how long to wait before reading again, or `None` to sleep
    /// until the socket is readable.
    pub fn after_read(&mut self, now_ns: u64, frames: usize) -> Option<Duration> {
        if frames == 0 {
            return None;
        }
        let previous = self.last_read_ns.replace(now_ns);
        match self.policy {
            RxCoalescing::Immediate => None,
            RxCoalescing::Adaptive { bound } => {
                let bound_ns = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
                let since = now_ns.saturating_sub(previous?);
                if since > bound_ns {
                    return None; // the first frames after a quiet spell
                }
                // at `frames` per `since`, ADAPTIVE_BATCH frames take this long
                let gather_ns = since.saturating_mul(self.batch) / frames as u64;
                Some(Duration::from_nanos(gather_ns.min(bound_ns)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;
    const US: u64 = 1_000;

    /// The 4 MiB buffer canwire asks for by default (the kernel doubles it).
    const BUFFER_FRAMES: u64 = 8 * 1024;

    fn adaptive() -> RxPacer {
        RxPacer::new(RxCoalescing::default(), BUFFER_FRAMES)
    }

    #[test]
    fn rx_coalesce_us_maps_to_the_policy() {
        assert_eq!(
            RxCoalescing::from_micros(None),
            RxCoalescing::Adaptive {
                bound: Duration::from_millis(4)
            }
        );
        assert_eq!(RxCoalescing::from_micros(Some(0)), RxCoalescing::Immediate);
        assert_eq!(
            RxCoalescing::from_micros(Some(1000)),
            RxCoalescing::Adaptive {
                bound: Duration::from_millis(1)
            }
        );
    }

    #[test]
    fn sparse_frames_are_read_at_once() {
        let mut p = adaptive();
        // one frame every 10 ms (a cyclic message), then a 5 ms gap: never a wait
        for t in [0, 10 * MS, 20 * MS, 25 * MS] {
            assert_eq!(p.after_read(t, 1), None, "at {t} ns");
        }
    }

    #[test]
    fn sustained_traffic_waits_at_most_the_bound() {
        let mut p = adaptive();
        // 2 000 frames/s: the first frame goes at once, the second starts the waits
        assert_eq!(p.after_read(0, 1), None);
        assert_eq!(p.after_read(500 * US, 1), Some(Duration::from_millis(4)));
        // the waited-for read finds the 8 frames that came meanwhile: wait again
        assert_eq!(p.after_read(4500 * US, 8), Some(Duration::from_millis(4)));
    }

    #[test]
    fn a_flood_shortens_the_wait_to_one_batch() {
        let mut p = adaptive();
        assert_eq!(p.after_read(0, 1), None);
        // 256 frames in 1 ms: 128 more take 500 µs
        assert_eq!(p.after_read(MS, 256), Some(Duration::from_micros(500)));
        // 100 000 frames/s: 128 frames take 1.28 ms
        assert_eq!(
            p.after_read(MS + 500 * US, 50),
            Some(Duration::from_micros(1280))
        );
    }

    #[test]
    fn a_wait_that_finds_nothing_ends_the_sustained_spell() {
        let mut p = adaptive();
        assert_eq!(p.after_read(0, 1), None);
        assert!(p.after_read(MS, 1).is_some());
        assert_eq!(p.after_read(5 * MS, 0), None, "traffic stopped");
        // the next frame comes 6 ms after the last read that found one: at once
        assert_eq!(p.after_read(7 * MS, 1), None);
    }

    #[test]
    fn immediate_never_waits() {
        let mut p = RxPacer::new(RxCoalescing::Immediate, BUFFER_FRAMES);
        assert_eq!(p.after_read(0, 1), None);
        assert_eq!(p.after_read(10 * US, 100), None);
    }

    #[test]
    fn a_longer_bound_lets_slower_traffic_count_as_sustained() {
        let mut p = RxPacer::new(RxCoalescing::from_micros(Some(20_000)), BUFFER_FRAMES);
        assert_eq!(p.after_read(0, 1), None);
        // 100 frames/s is sustained under a 20 ms bound (not under the default 4 ms)
        assert_eq!(p.after_read(10 * MS, 1), Some(Duration::from_millis(20)));
        let mut p = adaptive();
        assert_eq!(p.after_read(0, 1), None);
        assert_eq!(p.after_read(10 * MS, 1), None);
    }

    #[test]
    fn a_small_receive_buffer_shortens_the_wait_or_turns_it_off() {
        // the kernel's default buffer (212 992 bytes): 104 frames per wait, not 128
        let mut p = RxPacer::new(RxCoalescing::default(), 212_992 / BUFFER_BYTES_PER_FRAME);
        assert_eq!(p.after_read(0, 1), None);
        assert_eq!(p.after_read(MS, 256), Some(Duration::from_nanos(406_250)));
        // the kernel's minimum buffer holds two frames: never wait
        let mut p = RxPacer::new(RxCoalescing::default(), 2);
        assert_eq!(p.policy(), RxCoalescing::Immediate);
        assert_eq!(p.after_read(0, 1), None);
        assert_eq!(p.after_read(10 * US, 1), None);
    }
}
