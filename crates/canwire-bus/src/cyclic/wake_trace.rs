//! [`WakeTrace`]: an opt-in record of the scheduler thread's wake-ups, for
//! finding where cyclic jitter comes from.
//!
//! Off unless `CANWIRE_CYCLIC_TRACE` names a file. Then every pass of the
//! scheduler loop that sent frames is kept (when it woke, how late its
//! earliest frame was, how many frames went, how long the sends took, how it
//! had waited) and the file is (re)written, one text line per pass, whenever
//! the last task is removed.

use std::io::Write;

/// How the thread came to the pass that sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitKind {
    /// It had just sent and found more due.
    None,
    /// It spun up to the deadline.
    Spin,
    /// A timed wait ended at the deadline, no spin (spin budget spent or window 0).
    Wait,
    /// A timed wait, then a spin.
    WaitThenSpin,
    /// A timed wait to a point of the batching grid.
    Grid,
}

/// One pass that sent frames.
#[derive(Debug, Clone, Copy)]
struct Pass {
    now: u64,
    earliest: u64,
    latest: u64,
    frames: u32,
    send_ns: u64,
    kind: WaitKind,
    spin_ns: u64,
}

/// The trace, when enabled.
pub struct WakeTrace {
    path: String,
    passes: Vec<Pass>,
}

/// Passes kept at most, allocated up front (48 MB) so that recording never
/// reallocates on the scheduler thread: 100 s of wake-ups on the 100 µs grid.
const MAX_PASSES: usize = 1_000_000;

impl WakeTrace {
    /// The trace named by `CANWIRE_CYCLIC_TRACE`, if set.
    pub fn from_env() -> Option<Self> {
        let path = std::env::var("CANWIRE_CYCLIC_TRACE").ok()?;
        Some(Self {
            path,
            passes: Vec::with_capacity(MAX_PASSES),
        })
    }

    /// Records a pass at `now` that sent `frames` due from `earliest` to
    /// `latest`, in `send_ns`, after waiting as `kind` with a spin window `spin_ns`.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        now: u64,
        earliest: u64,
        latest: u64,
        frames: usize,
        send_ns: u64,
        kind: WaitKind,
        spin_ns: u64,
    ) {
        if self.passes.len() < MAX_PASSES {
            self.passes.push(Pass {
                now,
                earliest,
                latest,
                frames: frames as u32,
                send_ns,
                kind,
                spin_ns,
            });
        }
    }

    /// Writes the passes so far (then forgets them), when there are any.
    pub fn flush(&mut self) {
        if self.passes.is_empty() {
            return;
        }
        let Ok(file) = std::fs::File::create(&self.path) else {
            return;
        };
        let mut out = std::io::BufWriter::new(file);
        for p in self.passes.drain(..) {
            let _ = writeln!(
                out,
                "{} {} {} {} {} {:?} {}",
                p.now,
                p.now.saturating_sub(p.earliest),
                p.now.saturating_sub(p.latest),
                p.frames,
                p.send_ns,
                p.kind,
                p.spin_ns
            );
        }
    }
}
