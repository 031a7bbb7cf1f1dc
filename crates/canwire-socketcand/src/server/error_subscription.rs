//! A BCM subscription to error frames (`< subscribe SEC USEC ID >` with
//! `CAN_ERR_FLAG` in ID), throttled as a data subscription is: the first
//! error frame goes at once, then at most one per interval; frames inside an
//! interval are held back, and when it ends the latest of them goes.
//! Sans-IO: the caller passes the instants (ns since the epoch).

use canwire_core::Frame;

/// The error classes a connection subscribed to, and its throttle.
#[derive(Debug, Clone)]
pub struct ErrorSubscription {
    /// The error classes (`CAN_ERR_MASK` bits).
    classes: u32,
    /// The interval; 0 sends every frame at once.
    interval_ns: u64,
    /// When the last frame went.
    last_sent_ns: Option<u64>,
    /// The latest frame held back, due at `last_sent_ns + interval_ns`.
    held: Option<Frame>,
}

impl ErrorSubscription {
    /// A subscription to `classes`, at most one frame per `interval_us`.
    pub fn new(classes: u32, interval_us: u64) -> Self {
        Self {
            classes,
            interval_ns: interval_us.saturating_mul(1_000),
            last_sent_ns: None,
            held: None,
        }
    }

    /// Takes an error frame received at `now_ns`; returns it if it goes now.
    /// Frames of other classes, and held-back ones, return `None`.
    pub fn handle_frame(&mut self, now_ns: u64, frame: &Frame) -> Option<Frame> {
        if frame.id & self.classes == 0 {
            return None;
        }
        match self.due_ns() {
            Some(due) if self.held.is_some() || now_ns < due => {
                self.held = Some(*frame);
                None
            }
            _ => {
                self.last_sent_ns = Some(now_ns);
                Some(*frame)
            }
        }
    }

    /// When [`Self::handle_timeout`] has a held-back frame to send.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.held.and(self.due_ns())
    }

    /// The held-back frame, if its interval has ended by `now_ns`.
    pub fn handle_timeout(&mut self, now_ns: u64) -> Option<Frame> {
        if self.poll_timeout().is_some_and(|due| due <= now_ns) {
            self.last_sent_ns = Some(now_ns);
            return self.held.take();
        }
        None
    }

    /// When the next frame may go at once, if the interval holds it back at all.
    fn due_ns(&self) -> Option<u64> {
        match (self.interval_ns, self.last_sent_ns) {
            (0, _) | (_, None) => None,
            (interval, Some(last)) => Some(last.saturating_add(interval)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::FrameFlags;

    const MS: u64 = 1_000_000;

    fn error(class: u32, first: u8) -> Frame {
        let mut f = Frame::classic(class, false, &[first, 0, 0, 0, 0, 0, 0, 0]);
        f.flags.set(FrameFlags::ERROR, true);
        f
    }

    fn first_byte(f: Option<Frame>) -> Option<u8> {
        f.map(|f| f.data()[0])
    }

    #[test]
    fn without_an_interval_every_frame_of_the_classes_goes_at_once() {
        let mut s = ErrorSubscription::new(0x004, 0);
        assert_eq!(first_byte(s.handle_frame(0, &error(0x004, 1))), Some(1));
        assert_eq!(first_byte(s.handle_frame(1, &error(0x004, 2))), Some(2));
        assert_eq!(s.handle_frame(2, &error(0x040, 3)), None);
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn one_per_interval_the_latest_when_it_ends() {
        let mut s = ErrorSubscription::new(0x004 | 0x040, 100_000);
        assert_eq!(first_byte(s.handle_frame(0, &error(0x004, 1))), Some(1));
        assert_eq!(s.handle_frame(10 * MS, &error(0x004, 2)), None);
        assert_eq!(s.handle_frame(20 * MS, &error(0x040, 3)), None);
        assert_eq!(s.handle_frame(30 * MS, &error(0x008, 9)), None); // not subscribed
        assert_eq!(s.poll_timeout(), Some(100 * MS));
        assert_eq!(s.handle_timeout(99 * MS), None);
        assert_eq!(first_byte(s.handle_timeout(100 * MS)), Some(3));
        assert_eq!(s.poll_timeout(), None);
        // the next interval counts from that send
        assert_eq!(s.handle_frame(150 * MS, &error(0x004, 4)), None);
        assert_eq!(first_byte(s.handle_timeout(200 * MS)), Some(4));
        // a frame after a quiet interval goes at once
        assert_eq!(
            first_byte(s.handle_frame(350 * MS, &error(0x004, 5))),
            Some(5)
        );
        assert_eq!(s.handle_timeout(1_000 * MS), None);
    }
}
