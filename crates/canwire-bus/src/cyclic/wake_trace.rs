//! [`WakeTrace`]: an opt-in record of the scheduler thread's wake-ups, for
//! finding where cyclic jitter comes from.
//!
//! Off unless `CANWIRE_CYCLIC_TRACE` names a file. Then every pass of the
//! scheduler loop that sent frames is kept (when it woke, how late its
//! earliest frame was, how many frames went, how long the sends took, how it
//! had waited, and the thread's context switches in the wait and in the
//! sends) and the file is (re)written, one text line per pass, whenever
//! the last task is removed:
//!
//! ```text
//! now late_earliest_ns late_latest_ns frames send_ns wait_kind spin_ns \
//!     wait_blocks wait_preemptions send_blocks send_preemptions
//! ```
//!
//! A send that blocked (a voluntary switch) waited for a lock another thread
//! held; a preemption of this real-time thread is rare.

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
    /// Context switches (voluntary, involuntary) from the previous pass's end to the sends.
    wait_switches: (u64, u64),
    /// Context switches (voluntary, involuntary) during the sends.
    send_switches: (u64, u64),
}

/// Context switches of the thread so far: (voluntary, involuntary).
pub type Switches = (u64, u64);

/// The trace, when enabled.
pub struct WakeTrace {
    path: String,
    passes: Vec<Pass>,
    /// The thread's switches at the end of the last pass recorded.
    last_switches: Switches,
}

/// Passes kept at most, allocated up front (48 MB) so that recording never
/// reallocates on the scheduler thread: 100 s of wake-ups on the 100 µs grid.
const MAX_PASSES: usize = 1_000_000;

impl WakeTrace {
    /// The trace named by `CANWIRE_CYCLIC_TRACE`, if set.
    pub fn from_env() -> Option<Self> {
        let path = std::env::var("CANWIRE_CYCLIC_TRACE").ok()?;
        Some(Self::to_file(path))
    }

    /// A trace written to `path`, for the calling thread.
    pub fn to_file(path: String) -> Self {
        Self {
            path,
            passes: Vec::with_capacity(MAX_PASSES),
            last_switches: crate::time::thread_switches(),
        }
    }

    /// The thread's context switches now, read just before the sends of a pass.
    pub fn switches(&self) -> Switches {
        crate::time::thread_switches()
    }

    /// Records a pass at `now` that sent `frames` due from `earliest` to
    /// `latest`, in `send_ns`, after waiting as `kind` with a spin window
    /// `spin_ns`; `before_send` is [`WakeTrace::switches`] read before the sends.
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
        before_send: Switches,
    ) {
        let after = crate::time::thread_switches();
        let delta = |a: Switches, b: Switches| (b.0.saturating_sub(a.0), b.1.saturating_sub(a.1));
        let wait_switches = delta(self.last_switches, before_send);
        let send_switches = delta(before_send, after);
        self.last_switches = after;
        if self.passes.len() < MAX_PASSES {
            self.passes.push(Pass {
                now,
                earliest,
                latest,
                frames: frames as u32,
                send_ns,
                kind,
                spin_ns,
                wait_switches,
                send_switches,
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
                "{} {} {} {} {} {:?} {} {} {} {} {}",
                p.now,
                p.now.saturating_sub(p.earliest),
                p.now.saturating_sub(p.latest),
                p.frames,
                p.send_ns,
                p.kind,
                p.spin_ns,
                p.wait_switches.0,
                p.wait_switches.1,
                p.send_switches.0,
                p.send_switches.1
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_is_written_with_its_lateness_and_the_switches_of_its_wait_and_sends() {
        let path = std::env::temp_dir().join(format!("canwire-wake-trace-{}", std::process::id()));
        let mut trace = WakeTrace::to_file(path.to_string_lossy().into_owned());
        // A timed wait blocks: one voluntary switch at least before the sends.
        std::thread::sleep(std::time::Duration::from_millis(1));
        let before_send = trace.switches();
        trace.record(
            5_000,
            1_000,
            4_000,
            3,
            700,
            WaitKind::WaitThenSpin,
            40_000,
            before_send,
        );
        trace.flush();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let fields: Vec<&str> = text.trim_end().split(' ').collect();
        assert_eq!(
            fields[..7],
            ["5000", "4000", "1000", "3", "700", "WaitThenSpin", "40000"]
        );
        if cfg!(target_os = "linux") {
            assert!(fields[7].parse::<u64>().unwrap() >= 1, "{text}");
        }
        assert_eq!(fields.len(), 11);
        assert_eq!(text.lines().count(), 1);
    }
}
