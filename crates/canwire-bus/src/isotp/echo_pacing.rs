//! [`EchoPacing`]: which of the frames an ISO-TP endpoint released may go to
//! the bus now, paced by the echoes of the frames already sent. Pure state:
//! the driver feeds it released frames, send results and echoes, with times.
//!
//! On a bus whose interface echoes each sent frame when it has left the
//! device queue (SocketCAN: the socket's own frames, which the kernel
//! marks), at most `window` frames are in flight (sent, echo not seen), so
//! the device queue never overflows and no send waits on a guessed pause.
//! The kernel's can-isotp keeps one frame in flight; a larger window keeps
//! the wire busy while the driver thread wakes up. Where a bus has no
//! echoes (`window` None) a frame counts as done once the bus took it.
//!
//! Progress (a frame taken by the bus, an echo) is timed: with frames
//! waiting and none for [`EchoPacing::stalled`]'s limit (N_As), the
//! transfer must fail rather than hang on an echo that will never come.

use std::collections::VecDeque;

use canwire_core::{Frame, FrameFlags};

/// The send window of one ISO-TP driver and the frames it holds.
#[derive(Debug)]
pub struct EchoPacing {
    window: Option<usize>,
    pending: VecDeque<Frame>,
    in_flight: VecDeque<Frame>,
    released: u64,
    settled: u64,
    last_progress: u64,
    echoes_seen: u64,
}

/// True if `echo` is the echo of `sent`: same identifier, format and data.
pub fn is_echo_of(echo: &Frame, sent: &Frame) -> bool {
    const FORMAT: u32 = FrameFlags::EXTENDED | FrameFlags::REMOTE | FrameFlags::FD;
    echo.id == sent.id
        && echo.flags.0 & FORMAT == sent.flags.0 & FORMAT
        && echo.data() == sent.data()
}

impl EchoPacing {
    /// Pacing with at most `window` frames in flight (at least one), or,
    /// with `None`, none kept: the bus gives no echoes.
    pub fn new(window: Option<usize>) -> Self {
        Self {
            window: window.map(|w| w.max(1)),
            pending: VecDeque::new(),
            in_flight: VecDeque::new(),
            released: 0,
            settled: 0,
            last_progress: 0,
            echoes_seen: 0,
        }
    }

    /// Sets the window (see [`EchoPacing::new`]); for a bus found to have
    /// echoes after the pacing was made, before any frame.
    pub fn set_window(&mut self, window: Option<usize>) {
        self.window = window.map(|w| w.max(1));
    }

    /// The window, or `None` without echoes.
    pub fn window(&self) -> Option<usize> {
        self.window
    }

    /// Queues a frame the endpoint released at `now`.
    pub fn release(&mut self, now: u64, frame: Frame) {
        if self.is_idle() {
            self.last_progress = now;
        }
        self.pending.push_back(frame);
        self.released += 1;
    }

    /// Frames released but not yet taken by the bus.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Frames sent whose echo has not come.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// How many more frames may be sent now.
    pub fn room(&self) -> usize {
        match self.window {
            Some(window) => window.saturating_sub(self.in_flight.len()),
            None => usize::MAX,
        }
    }

    /// True when nothing is waiting to be sent or echoed.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.in_flight.is_empty()
    }

    /// Frames released so far: a transfer whose last frame was the n-th
    /// released is done once [`EchoPacing::settled`] reaches n.
    pub fn released(&self) -> u64 {
        self.released
    }

    /// Frames released so far that are done: echoed, taken by a bus
    /// without echoes, refused by the bus, or dropped.
    pub fn settled(&self) -> u64 {
        self.settled
    }

    /// Moves the frames that may go now (the window's room) into `out`,
    /// counting them as in flight before they are sent: an echo may come
    /// back before the send returns. Returns how many.
    pub fn take_sendable(&mut self, out: &mut Vec<Frame>) -> usize {
        let n = self.room().min(self.pending.len());
        out.extend(self.pending.iter().take(n).copied());
        self.in_flight.extend(self.pending.drain(..n));
        n
    }

    /// Of the `taken` frames [`EchoPacing::take_sendable`] handed out last,
    /// the bus took the first `sent` at `now`; the rest go back to the head
    /// of the queue (the transmit queue was full). Without echoes the sent
    /// ones are done.
    pub fn sent(&mut self, now: u64, taken: usize, sent: usize) {
        for _ in sent..taken {
            if let Some(frame) = self.in_flight.pop_back() {
                self.pending.push_front(frame);
            }
        }
        if self.window.is_none() {
            let done = sent.min(self.in_flight.len());
            self.in_flight.drain(..done);
            self.settled += done as u64;
        }
        if sent > 0 {
            self.last_progress = now;
        }
    }

    /// The bus refused `frame` (the last of those taken, not counted in
    /// [`EchoPacing::sent`]): it will never be sent nor echoed, so it is done.
    pub fn refused(&mut self, frame: &Frame) {
        if let Some(i) = self.in_flight.iter().rposition(|f| f == frame) {
            self.in_flight.remove(i);
            self.settled += 1;
        }
    }

    /// Reports an echo of a frame this bus sent at `now`; true if it was
    /// one of ours in flight (then no longer in flight). Echoes come back in
    /// sending order, so the oldest match is taken; an echo of a frame sent
    /// by someone else on the same bus matches nothing.
    pub fn echoed(&mut self, now: u64, echo: &Frame) -> bool {
        let Some(i) = self.in_flight.iter().position(|f| is_echo_of(echo, f)) else {
            return false;
        };
        self.in_flight.remove(i);
        self.settled += 1;
        self.echoes_seen += 1;
        self.last_progress = now;
        true
    }

    /// The instant the frames held fail if nothing progresses before it:
    /// `limit_ns` after the last progress; `None` while idle.
    pub fn stall_deadline(&self, limit_ns: u64) -> Option<u64> {
        (!self.is_idle()).then(|| self.last_progress.saturating_add(limit_ns))
    }

    /// True if frames are held and nothing progressed for `limit_ns` up to `now`.
    pub fn stalled(&self, now: u64, limit_ns: u64) -> bool {
        self.stall_deadline(limit_ns).is_some_and(|d| now >= d)
    }

    /// After a stall with echoes expected but none ever seen (the bus's
    /// filters keep this socket's own frames out, say): the frames the bus
    /// took are done, and from now on frames count as done once taken, as on
    /// a bus without echoes. Returns false (nothing changed) if echoes came
    /// before: then a stall is a lost echo.
    pub fn give_up_echoes(&mut self, now: u64) -> bool {
        if self.window.is_none() || self.echoes_seen > 0 {
            return false;
        }
        self.settled += self.in_flight.len() as u64;
        self.in_flight.clear();
        self.window = None;
        self.last_progress = now;
        true
    }

    /// Drops every held frame (a stalled bus); returns how many had not
    /// been sent yet. They all count as settled.
    pub fn clear(&mut self) -> usize {
        let unsent = self.pending.len();
        self.pending.clear();
        self.in_flight.clear();
        self.settled = self.released;
        unsent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cf(seq: u8) -> Frame {
        Frame::classic(0x6e0, false, &[0x20 | (seq & 0x0f), seq, 2, 3, 4, 5, 6, 7])
    }

    /// The frames a take hands out, as sequence bytes.
    fn take(p: &mut EchoPacing) -> Vec<u8> {
        let mut out = Vec::new();
        p.take_sendable(&mut out);
        out.iter().map(|f| f.data[1]).collect()
    }

    #[test]
    fn a_window_lets_that_many_frames_go_and_each_echo_one_more() {
        let mut p = EchoPacing::new(Some(3));
        for seq in 1..=6 {
            p.release(0, cf(seq));
        }
        assert_eq!(take(&mut p), vec![1, 2, 3]);
        p.sent(10, 3, 3);
        assert_eq!((p.room(), p.in_flight(), p.pending()), (0, 3, 3));
        assert_eq!(take(&mut p), Vec::<u8>::new());
        assert!(p.echoed(20, &cf(1)));
        assert_eq!(take(&mut p), vec![4]);
        p.sent(21, 1, 1);
        assert!(p.echoed(30, &cf(2)));
        assert!(p.echoed(30, &cf(3)));
        assert_eq!(take(&mut p), vec![5, 6]);
        p.sent(31, 2, 2);
        assert_eq!(p.settled(), 3);
        for seq in 4..=6 {
            assert!(p.echoed(40, &cf(seq)));
        }
        assert_eq!((p.settled(), p.released()), (6, 6));
        assert!(p.is_idle());
    }

    #[test]
    fn an_echo_is_matched_by_id_format_and_data_and_other_frames_are_not_ours() {
        let mut p = EchoPacing::new(Some(4));
        p.release(0, cf(1));
        take(&mut p);
        p.sent(1, 1, 1);
        // Same id, other data (another sender using our id); other id, same data.
        assert!(!p.echoed(2, &cf(2)));
        let mut other_id = cf(1);
        other_id.id = 0x6e1;
        assert!(!p.echoed(2, &other_id));
        let mut extended = cf(1);
        extended.flags.set(FrameFlags::EXTENDED, true);
        assert!(!p.echoed(2, &extended));
        assert_eq!(p.in_flight(), 1);
        // The kernel's echo carries receive-side flags (TX) and a timestamp: still ours.
        let mut echo = cf(1);
        echo.flags.set(FrameFlags::TX, true);
        echo.timestamp_ns = 123;
        assert!(p.echoed(3, &echo));
        assert!(p.is_idle());
    }

    #[test]
    fn an_echo_that_comes_before_the_send_returns_is_counted() {
        let mut p = EchoPacing::new(Some(2));
        p.release(0, cf(1));
        p.release(0, cf(2));
        assert_eq!(take(&mut p), vec![1, 2]);
        // The receive thread sees the first echo while the send call is still running.
        assert!(p.echoed(5, &cf(1)));
        p.sent(6, 2, 2);
        assert_eq!((p.in_flight(), p.settled()), (1, 1));
    }

    #[test]
    fn frames_a_full_queue_did_not_take_go_back_to_the_head_in_order() {
        let mut p = EchoPacing::new(Some(4));
        for seq in 1..=5 {
            p.release(0, cf(seq));
        }
        assert_eq!(take(&mut p), vec![1, 2, 3, 4]);
        p.sent(1, 4, 1);
        assert_eq!((p.in_flight(), p.pending()), (1, 4));
        assert_eq!(take(&mut p), vec![2, 3, 4]);
        p.sent(2, 3, 3);
        assert!(p.echoed(3, &cf(1)));
        assert_eq!(take(&mut p), vec![5]);
    }

    #[test]
    fn without_echoes_a_frame_is_done_once_the_bus_takes_it() {
        let mut p = EchoPacing::new(None);
        for seq in 1..=5 {
            p.release(0, cf(seq));
        }
        assert_eq!(take(&mut p), vec![1, 2, 3, 4, 5]);
        p.sent(1, 5, 3);
        assert_eq!((p.settled(), p.pending(), p.in_flight()), (3, 2, 0));
        assert!(!p.echoed(2, &cf(1)));
        assert_eq!(take(&mut p), vec![4, 5]);
        p.sent(3, 2, 2);
        assert!(p.is_idle());
        assert_eq!(p.settled(), 5);
    }

    #[test]
    fn a_refused_frame_is_settled_and_leaves_the_window() {
        let mut p = EchoPacing::new(Some(4));
        p.release(0, cf(1));
        p.release(0, cf(2));
        assert_eq!(take(&mut p), vec![1, 2]);
        p.refused(&cf(2));
        p.sent(1, 1, 1);
        assert_eq!((p.in_flight(), p.settled()), (1, 1));
        assert!(p.echoed(2, &cf(1)));
        assert!(p.is_idle());
    }

    #[test]
    fn held_frames_stall_after_the_limit_without_progress_and_each_echo_restarts_it() {
        let mut p = EchoPacing::new(Some(1));
        assert_eq!(p.stall_deadline(100), None);
        p.release(1_000, cf(1));
        p.release(1_000, cf(2));
        assert_eq!(p.stall_deadline(100), Some(1_100));
        take(&mut p);
        p.sent(1_050, 1, 1);
        assert_eq!(p.stall_deadline(100), Some(1_150));
        assert!(!p.stalled(1_149, 100));
        assert!(p.echoed(1_140, &cf(1)));
        assert!(!p.stalled(1_200, 100));
        take(&mut p);
        p.sent(1_200, 1, 1);
        // The echo of the second frame never comes (bus down, a filter).
        assert!(p.stalled(1_300, 100));
        assert_eq!(p.clear(), 0);
        assert_eq!((p.settled(), p.released()), (2, 2));
        assert!(p.is_idle() && !p.stalled(5_000, 100));
    }

    #[test]
    fn a_bus_that_never_echoed_is_paced_without_echoes_after_a_stall() {
        let mut p = EchoPacing::new(Some(2));
        for seq in 1..=4 {
            p.release(0, cf(seq));
        }
        take(&mut p);
        p.sent(1, 2, 2);
        assert!(p.stalled(101, 100));
        assert!(p.give_up_echoes(101));
        assert_eq!((p.window(), p.settled(), p.in_flight()), (None, 2, 0));
        assert!(!p.stalled(150, 100));
        assert_eq!(take(&mut p), vec![3, 4]);
        p.sent(160, 2, 2);
        assert!(p.is_idle());
        assert_eq!(p.settled(), 4);
    }

    #[test]
    fn a_stall_after_echoes_came_is_a_lost_echo() {
        let mut p = EchoPacing::new(Some(2));
        p.release(0, cf(1));
        p.release(0, cf(2));
        take(&mut p);
        p.sent(1, 2, 2);
        assert!(p.echoed(2, &cf(1)));
        assert!(p.stalled(102, 100));
        assert!(!p.give_up_echoes(102));
        assert_eq!(p.window(), Some(2));
    }

    #[test]
    fn clearing_reports_the_frames_never_sent() {
        let mut p = EchoPacing::new(Some(2));
        for seq in 1..=5 {
            p.release(0, cf(seq));
        }
        take(&mut p);
        p.sent(1, 2, 2);
        assert_eq!(p.clear(), 3);
        assert!(p.is_idle());
    }
}
