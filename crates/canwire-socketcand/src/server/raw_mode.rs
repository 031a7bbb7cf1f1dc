//! Raw mode: every frame of the bus, and `send`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use canwire_core::Frame;
use canwire_core::error::Result;

use super::output::Output;
use super::session::SessionContext;
use super::view_reader::ViewReader;
use crate::protocol::format;

/// How long frames wait after the rawmode `< ok >`, so that python-can reads
/// that reply alone (socketcand would miss them instead: it opens its raw
/// socket only after the reply).
pub const HOLD_AFTER_OK: Duration = Duration::from_millis(20);

/// Frames formatted per write.
const BATCH: usize = 256;

/// The state of a connection in raw mode.
pub struct RawMode {
    reader: ViewReader,
    hold_until: Option<Instant>,
    batch: Vec<Frame>,
}

impl RawMode {
    /// Starts receiving at once; frames are held for [`HOLD_AFTER_OK`].
    pub fn enter(ctx: &SessionContext, now: Instant) -> Result<Self> {
        Ok(Self {
            reader: ViewReader::open(&ctx.bus, ctx.config.output_queue_frames)?,
            hold_until: Some(now + HOLD_AFTER_OK),
            batch: Vec::with_capacity(BATCH),
        })
    }

    /// The queue to wait on, once frames may be written.
    pub fn readable(&self) -> Option<&Arc<canwire_bus::FrameQueue>> {
        self.hold_until.is_none().then(|| self.reader.queue())
    }

    /// When the hold ends.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.hold_until
    }

    /// Ends the hold once due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.hold_until.is_some_and(|t| t <= now) {
            self.hold_until = None;
        }
    }

    /// Formats waiting frames into one write; returns false when none waited.
    pub fn drain(&mut self, ctx: &SessionContext, out: &mut Output) -> bool {
        if self.hold_until.is_some() {
            return false;
        }
        self.batch.clear();
        if self.reader.pop(BATCH, &mut self.batch) == 0 {
            return false;
        }
        let mut text = String::with_capacity(self.batch.len() * 40);
        for frame in &self.batch {
            if frame.is_remote() {
                ctx.skipped();
            } else if frame.is_error() {
                if ctx.config.error_frames {
                    format::raw_error(&mut text, frame);
                } else {
                    ctx.skipped();
                }
            } else {
                format::raw_frame(&mut text, frame);
            }
        }
        out.batch(text);
        true
    }
}
