//! [`RemoteCyclicTask`]: a periodic task the exporter runs itself
//! (`_send_periodic_internal`, `_start_task`, `_stop_task`), behind
//! canwire's `CyclicTask` front end.
//!
//! The Python driver's tasks differ from canwire's, and the mapping says so:
//! - `_stop_task` removes the task, so a restart creates it again (the first
//!   frame goes at once, the phase restarts, as canwire's `start` promises);
//! - a counted task becomes a time-bounded one of (count − ½) periods: the
//!   exporter's thread sends at 0, p, 2p… and stops at its first check past
//!   the end, so exactly `count` frames go unless it runs half a period late;
//! - what it cannot do is `ERR_UNSUPPORTED` saying so: changing the data
//!   (`modifyData`), a per-send modifier, an initial phase at another rate;
//! - it counts nothing back: `stats().sent` stays 0 and `running` is known
//!   from the timing alone.
//!
//! Each call is a round trip on the caller's thread (the JS API is
//! synchronous here, as Python's is), bounded by [`CALL_TIMEOUT`].

use std::sync::Mutex;
use std::time::{Duration, Instant};

use canwire_bus::cyclic::{CyclicBackend, CyclicTaskStats, SchedulerKind, TaskHooks};
use canwire_core::cyclic::{CyclicLimit, CyclicTiming};
use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, Frame};
use prost_types::Value;

use super::runtime::run_blocking;
use super::session::ExporterSession;
use crate::{can_message, value};

/// How long one task call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The exporter-side arguments of a task: period and end, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RemoteTiming {
    /// Seconds between frames.
    pub period_s: f64,
    /// Seconds after which the exporter stops the task; `None`: never.
    pub duration_s: Option<f64>,
}

/// The exporter-side timing of `timing`, or `ERR_UNSUPPORTED` for what the
/// exporter cannot run.
pub fn remote_timing(timing: &CyclicTiming) -> Result<RemoteTiming> {
    if timing.initial.is_some_and(|(count, _)| count > 0) {
        return Err(CanwireError::new(
            ErrorCode::Unsupported,
            "a Jumpstarter exporter runs periodic tasks at one rate: an initial phase (initialCount) is not supported",
        ));
    }
    let period_s = timing.period_ns as f64 / 1e9;
    let duration_s = match timing.limit {
        CyclicLimit::Forever => None,
        CyclicLimit::Duration(ns) => Some(ns as f64 / 1e9),
        CyclicLimit::Count(count) => Some((count as f64 - 0.5) * period_s),
    };
    Ok(RemoteTiming {
        period_s,
        duration_s,
    })
}

/// Where the remote task is.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// Created, never started: `_start_task` starts it.
    Created(String),
    /// Started at this instant.
    Running(String, Instant),
    /// Stopped: the exporter forgot it.
    Gone,
}

/// A periodic task on the exporter.
pub struct RemoteCyclicTask {
    session: ExporterSession,
    driver: String,
    frames: Vec<Frame>,
    timing: RemoteTiming,
    phase: Mutex<Phase>,
}

fn call(
    session: &ExporterSession,
    driver: &str,
    method: &'static str,
    args: Vec<Value>,
) -> Result<Value> {
    let (session, driver) = (session.clone(), driver.to_owned());
    run_blocking(async move {
        session
            .call(&driver, method, args, Some(CALL_TIMEOUT))
            .await
    })?
}

impl RemoteCyclicTask {
    /// Creates the task on the exporter, not started (the front end starts
    /// it with `autostart`). The exporter checks the frames its way (a
    /// Python bus wants one id for all of them).
    pub fn create(
        session: &ExporterSession,
        driver: &str,
        frames: &[Frame],
        timing: &CyclicTiming,
        hooks: &TaskHooks,
    ) -> Result<Self> {
        if hooks.modifier.is_some() {
            return Err(CanwireError::new(
                ErrorCode::Unsupported,
                "a Jumpstarter exporter runs periodic tasks itself and cannot ask for each frame's next content: a modifier is not supported",
            ));
        }
        let task = Self {
            session: session.clone(),
            driver: driver.to_owned(),
            frames: frames.to_vec(),
            timing: remote_timing(timing)?,
            phase: Mutex::new(Phase::Gone),
        };
        let uuid = task.add(false)?;
        *task.lock() = Phase::Created(uuid);
        Ok(task)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `_send_periodic_internal`; returns the task's uuid.
    fn add(&self, autostart: bool) -> Result<String> {
        let result = call(
            &self.session,
            &self.driver,
            "_send_periodic_internal",
            periodic_args(&self.frames, &self.timing, autostart),
        )?;
        value::as_str(&result, "_send_periodic_internal result").map(str::to_owned)
    }

    /// `_stop_task` if the exporter has the task; the exporter forgets it.
    fn forget(&self, phase: &mut Phase) -> Result<()> {
        let uuid = match std::mem::replace(phase, Phase::Gone) {
            Phase::Created(uuid) | Phase::Running(uuid, _) => uuid,
            Phase::Gone => return Ok(()),
        };
        call(
            &self.session,
            &self.driver,
            "_stop_task",
            vec![value::string(uuid)],
        )
        .map(drop)
    }
}

/// The arguments of `_send_periodic_internal`, as `CanClient.send_periodic` makes them.
pub fn periodic_args(frames: &[Frame], timing: &RemoteTiming, autostart: bool) -> Vec<Value> {
    let messages = frames
        .iter()
        .map(|f| {
            let mut f = *f;
            f.timestamp_ns = 0;
            can_message::to_value(&f, None)
        })
        .collect();
    vec![
        value::list(messages),
        value::number(timing.period_s),
        timing.duration_s.map_or_else(value::null, value::number),
        value::boolean(autostart),
    ]
}

impl CyclicBackend for RemoteCyclicTask {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Native
    }

    fn start(&self) -> Result<()> {
        let mut phase = self.lock();
        let uuid = match &*phase {
            Phase::Created(uuid) => {
                call(
                    &self.session,
                    &self.driver,
                    "_start_task",
                    vec![value::string(uuid.clone())],
                )?;
                uuid.clone()
            }
            _ => {
                self.forget(&mut phase)?;
                self.add(true)?
            }
        };
        *phase = Phase::Running(uuid, Instant::now());
        Ok(())
    }

    fn stop(&self) -> Result<()> {
        self.forget(&mut self.lock())
    }

    fn modify(&self, _frames: Vec<Frame>) -> Result<()> {
        Err(CanwireError::new(
            ErrorCode::Unsupported,
            "a Jumpstarter exporter cannot change a periodic task's data (its driver has no call for it): stop the task and start a new one",
        ))
    }

    fn frames(&self) -> Result<Vec<Frame>> {
        Ok(self.frames.clone())
    }

    fn stats(&self) -> Result<CyclicTaskStats> {
        let running = match &*self.lock() {
            Phase::Running(_, since) => self
                .timing
                .duration_s
                .is_none_or(|d| since.elapsed().as_secs_f64() < d),
            _ => false,
        };
        Ok(CyclicTaskStats {
            running,
            ..CyclicTaskStats::default()
        })
    }

    fn remove(&self) {
        // the exporter's task must not outlive its handle; an unreachable exporter has none left
        let _ = self.forget(&mut self.lock());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_and_timed_tasks_become_the_exporters_duration() {
        let mut timing = CyclicTiming::every(100_000_000);
        assert_eq!(
            remote_timing(&timing).unwrap(),
            RemoteTiming {
                period_s: 0.1,
                duration_s: None
            }
        );
        timing.limit = CyclicLimit::Count(5);
        let t = remote_timing(&timing).unwrap();
        assert!((t.duration_s.unwrap() - 0.45).abs() < 1e-12);
        timing.limit = CyclicLimit::Duration(2_000_000_000);
        assert_eq!(remote_timing(&timing).unwrap().duration_s, Some(2.0));
        timing.initial = Some((3, 10_000_000));
        let e = remote_timing(&timing).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unsupported);
        assert!(e.message.contains("initial phase"), "{}", e.message);
    }

    #[test]
    fn the_arguments_are_a_list_of_messages_period_duration_and_autostart() {
        let frames = [
            Frame::classic(0x100, false, &[1]),
            Frame::classic(0x100, false, &[2]),
        ];
        let args = periodic_args(
            &frames,
            &RemoteTiming {
                period_s: 0.05,
                duration_s: None,
            },
            false,
        );
        assert_eq!(args.len(), 4);
        let list = value::as_list(&args[0], "a").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(can_message::from_value(&list[1], "m").unwrap().data(), &[2]);
        assert_eq!(value::as_f64(&args[1], "p").unwrap(), 0.05);
        assert!(value::is_null(&args[2]));
        assert!(!value::as_bool(&args[3], "s").unwrap());
    }
}
